// Checkpoint files (PyTorch zip archives written through torch::serialize).
#include "parallax/worldmodel/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <sstream>
#include <stdexcept>

#include "parallax/base/atomic_file.hpp"

namespace parallax::worldmodel {

namespace fs = std::filesystem;

namespace {

constexpr const char* kFormat = "parallax-rssm/1";

std::string first_line(const std::string& s) {
  return s.substr(0, s.find('\n'));
}

// Archive keys avoid '.', which the archive uses for nesting.
std::string weight_key(const std::string& name) {
  std::string key = "w__";
  for (char ch : name) {
    if (ch == '.') {
      key += "__";
    } else {
      key += ch;
    }
  }
  return key;
}

// FNV-1a over the bytes of every weight (CPU, contiguous), in parameter order: detects
// corrupted bytes inside an otherwise well-formed archive.
std::int64_t weights_checksum(const std::vector<torch::Tensor>& weights) {
  std::uint64_t h = 1469598103934665603ull;
  for (const auto& w : weights) {
    const auto* bytes = static_cast<const unsigned char*>(w.data_ptr());
    const size_t n = w.numel() * w.element_size();
    for (size_t i = 0; i < n; ++i) {
      h ^= bytes[i];
      h *= 1099511628211ull;
    }
  }
  return static_cast<std::int64_t>(h);
}

std::vector<std::pair<std::string, torch::Tensor>> named_weights(const torch::nn::Module& m) {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : m.named_parameters(true)) out.emplace_back(p.key(), p.value());
  for (const auto& b : m.named_buffers(true)) out.emplace_back(b.key(), b.value());
  return out;
}

torch::serialize::InputArchive open_archive(const fs::path& path,
                                            std::optional<torch::Device> device = {}) {
  if (!fs::exists(path)) {
    throw std::runtime_error("checkpoint '" + path.string() + "' does not exist");
  }
  if (!fs::is_regular_file(path)) {
    throw std::runtime_error("checkpoint '" + path.string() + "' is not a regular file");
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string(), device);
  } catch (const c10::Error& e) {
    throw std::runtime_error("checkpoint '" + path.string() +
                             "' is not a readable checkpoint archive (truncated or corrupt "
                             "file?): " +
                             first_line(e.what_without_backtrace()));
  }
  c10::IValue format;
  if (!archive.try_read("parallax_format", format) || !format.isString() ||
      format.toStringRef() != kFormat) {
    throw std::runtime_error("checkpoint '" + path.string() +
                             "' is not a Parallax world model checkpoint (field "
                             "'parallax_format' is not '" +
                             std::string(kFormat) + "')");
  }
  return archive;
}

}  // namespace

void save_checkpoint(const fs::path& path, const RSSM& model, const ModelConfig& config,
                     const torch::optim::Optimizer* optimizer, const TrainingState* training) {
  torch::serialize::OutputArchive archive;
  archive.write("parallax_format", c10::IValue(std::string(kFormat)));
  archive.write("parallax_config", c10::IValue(config.to_json_string()));
  std::vector<torch::Tensor> cpu_weights;
  for (const auto& [name, w] : named_weights(*model)) {
    cpu_weights.push_back(w.detach().to(torch::kCPU).contiguous());
    archive.write(weight_key(name), cpu_weights.back());
  }
  archive.write("parallax_checksum", c10::IValue(weights_checksum(cpu_weights)));
  if (optimizer) {
    torch::serialize::OutputArchive opt_archive;
    optimizer->save(opt_archive);
    archive.write("parallax_optimizer", opt_archive);
  }
  if (training) {
    archive.write("parallax_step", c10::IValue(training->step));
    archive.write("parallax_training", c10::IValue(training->json));
    if (training->cpu_rng.defined()) archive.write("parallax_cpu_rng", training->cpu_rng);
    if (training->device_rng.defined()) {
      archive.write("parallax_device_rng", training->device_rng.to(torch::kCPU));
    }
  }

  // Atomic (parallax/base/atomic_file.hpp): a temporary file next to the target, renamed over.
  const fs::path dir = path.has_parent_path() ? path.parent_path() : fs::path(".");
  if (!fs::is_directory(dir)) {
    throw std::runtime_error("cannot write checkpoint '" + path.string() + "': folder '" +
                             dir.string() + "' does not exist");
  }
  base::AtomicReplace out(path);
  try {
    archive.save_to(out.temp_path().string());
  } catch (const c10::Error& e) {
    throw std::runtime_error("cannot write checkpoint '" + path.string() +
                             "': " + first_line(e.what_without_backtrace()));
  }
  out.commit();
}

LoadedModel load_checkpoint(const fs::path& path, torch::Device device) {
  auto archive = open_archive(path);
  const std::string where = "checkpoint '" + path.string() + "'";
  c10::IValue config_json;
  if (!archive.try_read("parallax_config", config_json) || !config_json.isString()) {
    throw std::runtime_error(where + ": field 'parallax_config' is missing");
  }
  LoadedModel out;
  out.config = ModelConfig::from_json_string(config_json.toStringRef(), where);
  out.model = RSSM(out.config);
  {
    torch::NoGradGuard no_grad;
    std::vector<torch::Tensor> loaded;
    for (auto& [name, w] : named_weights(*out.model)) {
      torch::Tensor t;
      if (!archive.try_read(weight_key(name), t)) {
        throw std::runtime_error(where + ": weight '" + name + "' is missing");
      }
      if (t.sizes() != w.sizes() || t.scalar_type() != w.scalar_type()) {
        std::ostringstream msg;
        msg << where << ": weight '" << name << "' has shape " << t.sizes() << " "
            << t.scalar_type() << ", expected " << w.sizes() << " " << w.scalar_type()
            << " for its model config";
        throw std::runtime_error(msg.str());
      }
      w.copy_(t);
      loaded.push_back(t.contiguous());
    }
    c10::IValue checksum;
    if (!archive.try_read("parallax_checksum", checksum) || !checksum.isInt()) {
      throw std::runtime_error(where + ": field 'parallax_checksum' is missing");
    }
    if (checksum.toInt() != weights_checksum(loaded)) {
      throw std::runtime_error(where + ": weights do not match their checksum (corrupt file)");
    }
  }
  out.model->to(device);
  out.model->eval();
  return out;
}

bool load_training_state(const fs::path& path, torch::optim::Optimizer& optimizer,
                         TrainingState& training) {
  std::optional<torch::Device> device;
  if (!optimizer.param_groups().empty() && !optimizer.param_groups()[0].params().empty()) {
    device = optimizer.param_groups()[0].params()[0].device();
  }
  auto archive = open_archive(path, device);
  const std::string where = "checkpoint '" + path.string() + "'";
  c10::IValue step;
  if (!archive.try_read("parallax_step", step)) return false;
  torch::serialize::InputArchive opt_archive;
  if (!archive.try_read("parallax_optimizer", opt_archive)) {
    throw std::runtime_error(where + ": has a training step but no optimizer state");
  }
  try {
    optimizer.load(opt_archive);
  } catch (const c10::Error& e) {
    throw std::runtime_error(where + ": optimizer state does not fit the model (" +
                             first_line(e.what_without_backtrace()) + ")");
  }
  training.step = step.toInt();
  c10::IValue json;
  if (archive.try_read("parallax_training", json) && json.isString()) {
    training.json = json.toStringRef();
  }
  torch::Tensor t;
  if (archive.try_read("parallax_cpu_rng", t)) training.cpu_rng = t.to(torch::kCPU);
  torch::Tensor d;
  if (archive.try_read("parallax_device_rng", d)) training.device_rng = d.to(torch::kCPU);
  return true;
}

void check_compatible(const ModelConfig& config, int height, int width, int action_size,
                      const std::string& what, const std::string& source) {
  if (config.height == height && config.width == width && config.action_size == action_size) {
    return;
  }
  throw std::runtime_error(what + ": model expects " + std::to_string(config.height) + "x" +
                           std::to_string(config.width) + " frames and " +
                           std::to_string(config.action_size) + " action components, but " +
                           source + " has " + std::to_string(height) + "x" + std::to_string(width) +
                           " frames and " + std::to_string(action_size));
}

}  // namespace parallax::worldmodel
