// load_world_model(): reads a checkpoint of any family and dispatches on its family.
//
// Two file formats:
//  - "parallax-model/2": a torch.save / torch::pickle_save dict {"parallax_format", "family",
//    "config" (JSON text), "weights" {name: tensor}}, written by worldmodel/python (any family).
//  - "parallax-rssm/1": the RSSM's torch::serialize archive (checkpoint.cpp), family "rssm".
// Adding a family: a loader function below and one row in kFamilies.
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/csrc/jit/serialization/import_read.h>
#include <torch/serialize.h>

#include <algorithm>
#include <cstring>

#include "parallax/worldmodel/checkpoint.hpp"
#include "parallax/worldmodel/latent.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/sha256.hpp"
#include "parallax/worldmodel/unet.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::worldmodel {

using Dict = c10::Dict<c10::IValue, c10::IValue>;

void load_weights(torch::nn::Module& m, const Dict& weights, const std::string& where) {
  torch::NoGradGuard no_grad;
  std::size_t used = 0;
  auto fill = [&](const std::string& name, torch::Tensor& dst) {
    auto it = weights.find(c10::IValue(name));
    if (it == weights.end() || !it->value().isTensor())
      throw std::runtime_error(where + ": weight '" + name + "' is missing");
    const auto src = it->value().toTensor();
    if (src.sizes() != dst.sizes()) {
      std::ostringstream msg;
      msg << where << ": weight '" << name << "' has shape " << src.sizes() << ", expected "
          << dst.sizes() << " for its config";
      throw std::runtime_error(msg.str());
    }
    if (!torch::isfinite(src).all().item<bool>())
      throw std::runtime_error(where + ": weight '" + name + "' holds non-finite values");
    dst.copy_(src);
    ++used;
  };
  for (auto& p : m.named_parameters(true)) fill(p.key(), p.value());
  for (auto& b : m.named_buffers(true)) fill(b.key(), b.value());
  if (used != weights.size())
    throw std::runtime_error(where + ": holds " + std::to_string(weights.size()) +
                             " weights, the model has " + std::to_string(used) +
                             " (a checkpoint of another architecture?)");
}

namespace {

constexpr const char* kFormat2 = "parallax-model/2";

std::shared_ptr<WorldModel> load_unet(const std::string& config, const Dict& weights,
                                      const std::string& where) {
  UNet net(UNetConfig::from_json_string(config, where));
  load_weights(*net, weights, where);
  return make_unet_world_model(net);
}

std::shared_ptr<WorldModel> load_latent(const std::string& config, const Dict& weights,
                                        const std::string& where) {
  LatentNet net(LatentConfig::from_json_string(config, where));
  load_weights(*net, weights, where);
  return make_latent_world_model(net);
}

struct Family {
  const char* name;
  std::shared_ptr<WorldModel> (*load)(const std::string& config, const Dict& weights,
                                      const std::string& where);
};
constexpr Family kFamilies[] = {
    {"unet", load_unet},
    {"latent", load_latent},
};

// The bytes of a checkpoint for LibTorch's zip reader. torch::pickle_load(std::vector<char>)
// reads through an adapter that copies past the end of its buffer when a corrupt zip directory
// points there (a heap overflow found by tests/fuzz/fuzz_checkpoint); this one clamps every read
// to the bytes there are, as LibTorch's own file adapter does, so the zip reader sees a short
// read and fails cleanly.
class BoundedReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedReader(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    if (pos >= bytes_.size()) return 0;
    n = std::min<size_t>(n, bytes_.size() - static_cast<size_t>(pos));
    std::memcpy(buf, bytes_.data() + pos, n);
    return n;
  }

 private:
  const std::string& bytes_;
};

// torch::pickle_load over BoundedReader: the "data" archive and its tensors.
c10::IValue pickle_load_bounded(const std::string& bytes) {
  caffe2::serialize::PyTorchStreamReader reader(std::make_shared<BoundedReader>(bytes));
  return torch::jit::readArchiveAndTensors("data", /*pickle_prefix=*/"", /*tensor_prefix=*/"",
                                           /*type_resolver=*/std::nullopt,
                                           /*obj_loader=*/std::nullopt,
                                           /*device=*/std::nullopt, reader);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("checkpoint '" + path + "' does not exist or is unreadable");
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string field_string(const Dict& d, const char* key, const std::string& where) {
  auto it = d.find(c10::IValue(std::string(key)));
  if (it == d.end() || !it->value().isString())
    throw std::runtime_error(where + ": field '" + key + "' is missing or not a string");
  return it->value().toStringRef();
}

}  // namespace

std::vector<std::string> model_families() {
  std::vector<std::string> out{"rssm"};
  for (const auto& f : kFamilies) out.emplace_back(f.name);
  return out;
}

std::optional<ModelFile> read_model_file(const std::string& path) {
  const std::string where = "checkpoint '" + path + "'";
  const std::string bytes = read_file(path);
  ModelFile out;
  out.sha256 = sha256_hex(bytes);
  // A zip written by torch.save holds "<archive>/data.pkl"; the RSSM archive also holds
  // "<archive>/constants.pkl" (TorchScript): not of this format.
  if (bytes.find("constants.pkl") != std::string::npos) return std::nullopt;
  c10::IValue root;
  try {
    root = pickle_load_bounded(bytes);
  } catch (const c10::Error& e) {
    const std::string msg = e.what_without_backtrace();
    throw std::runtime_error(where + " is not a readable checkpoint (truncated or corrupt?): " +
                             msg.substr(0, msg.find('\n')));
  } catch (const std::bad_alloc&) {
    // A corrupt pickle can ask LibTorch's unpickler for any amount of memory (a memo index
    // read from the file sizes a table: docs/notes/fuzz.md).
    throw std::runtime_error(where +
                             " is not a readable checkpoint: its pickle asks for more "
                             "memory than there is (corrupt file?)");
  }
  if (!root.isGenericDict())
    throw std::runtime_error(where + " is not a Parallax model checkpoint (not a dict)");
  const Dict d = root.toGenericDict();
  const std::string format = field_string(d, "parallax_format", where);
  if (format != kFormat2)
    throw std::runtime_error(where + ": field 'parallax_format' is '" + format + "', expected '" +
                             kFormat2 + "'");
  out.family = field_string(d, "family", where);
  out.config = field_string(d, "config", where);
  auto wit = d.find(c10::IValue(std::string("weights")));
  if (wit == d.end() || !wit->value().isGenericDict())
    throw std::runtime_error(where + ": field 'weights' is missing or not a dict");
  out.weights = wit->value().toGenericDict();
  return out;
}

std::string checkpoint_family(const std::string& path) {
  const auto file = read_model_file(path);
  return file ? file->family : std::string("rssm");
}

LoadedWorldModel load_world_model(const std::string& path, torch::Device device) {
  auto file = read_model_file(path);
  LoadedWorldModel out;
  if (!file) {
    auto loaded = load_checkpoint(path, device);  // the RSSM archive, its own clear errors
    out.model = make_rssm_world_model(loaded.model);
    out.sha256 = sha256_hex(read_file(path));
    return out;
  }
  return load_world_model(*file, path, device);
}

LoadedWorldModel load_world_model(const ModelFile& model_file, const std::string& path,
                                  torch::Device device) {
  const std::string where = "checkpoint '" + path + "'";
  const ModelFile* file = &model_file;
  LoadedWorldModel out;
  out.sha256 = file->sha256;
  for (const auto& f : kFamilies) {
    if (file->family == f.name) {
      out.model = f.load(file->config, file->weights, where);
      out.model->module().to(device);
      out.model->module().eval();
      return out;
    }
  }
  if (file->family == "pose-dynamics")
    throw std::runtime_error(where +
                             ": family 'pose-dynamics' is a planner's pose-space dynamics model "
                             "(it draws no frames): use it with parallax plan --model");
  if (file->family == "pose-world")
    throw std::runtime_error(where +
                             ": family 'pose-world' reads and draws its frames with the scene's "
                             "renderer: load it for a scene (agents::load_model_for_scene, the "
                             "front ends' --model)");
  std::string known;
  for (const auto& n : model_families()) known += (known.empty() ? "" : ", ") + n;
  throw std::runtime_error(where + ": field 'family' is '" + file->family +
                           "', known families: " + known);
}

}  // namespace parallax::worldmodel
