// Trainer and sequence sampler of the world model.
#include "parallax/worldmodel/trainer.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>

#include "parallax/worldmodel/checkpoint.hpp"
#include "parallax/worldmodel/precision.hpp"

namespace parallax::worldmodel {

namespace fs = std::filesystem;

// ---- SequenceSampler --------------------------------------------------------------------

SequenceSampler::SequenceSampler(const std::vector<Episode>& episodes, int height, int width,
                                 int action_size, int seq_len, std::uint64_t seed,
                                 const std::string& source)
    : episodes_(episodes),
      height_(height),
      width_(width),
      action_size_(action_size),
      seq_len_(seq_len),
      rng_(seed) {
  if (seq_len < 1)
    throw std::runtime_error("sequence length must be >= 1, got " + std::to_string(seq_len));
  const size_t frame = size_t{3} * height * width;
  int longest = 0;
  for (size_t i = 0; i < episodes.size(); ++i) {
    const Episode& ep = episodes[i];
    const size_t t = static_cast<size_t>(ep.steps);
    if (ep.steps < 1 || ep.observations.size() != (t + 1) * frame ||
        ep.actions.size() != t * action_size || ep.rewards.size() != t ||
        ep.terminations.size() != t) {
      throw std::runtime_error(source + ": episode " + std::to_string(i) +
                               " has inconsistent sizes (steps " + std::to_string(ep.steps) +
                               ", expected observations [T+1, 3, " + std::to_string(height) + ", " +
                               std::to_string(width) + "], actions [T, " +
                               std::to_string(action_size) + "], rewards/terminations [T])");
    }
    longest = std::max(longest, ep.steps + 1);
    const std::int64_t windows = ep.steps + 1 - seq_len + 1;
    if (windows <= 0) continue;
    usable_.push_back(static_cast<int>(i));
    total_ += windows;
    cumulative_.push_back(total_);
  }
  if (total_ == 0) {
    throw std::runtime_error(source + ": no episode has " + std::to_string(seq_len) +
                             " frames (the longest has " + std::to_string(longest) +
                             "); use a shorter sequence length (--seq)");
  }
}

Batch SequenceSampler::sample(int batch) {
  const int64_t L = seq_len_, A = action_size_;
  const size_t frame = size_t{3} * height_ * width_;
  Batch out;
  out.frames = torch::empty({batch, L, 3, height_, width_}, torch::kByte);  // [B, L, 3, H, W]
  out.actions = torch::zeros({batch, L, A}, torch::kFloat);                 // [B, L, A]
  out.rewards = torch::zeros({batch, L}, torch::kFloat);                    // [B, L]
  out.conts = torch::ones({batch, L}, torch::kFloat);                       // [B, L]
  auto* frames = out.frames.data_ptr<std::uint8_t>();
  auto* actions = out.actions.data_ptr<float>();
  auto* rewards = out.rewards.data_ptr<float>();
  auto* conts = out.conts.data_ptr<float>();
  for (int b = 0; b < batch; ++b) {
    // Uniform window index; modulo bias is below 2^-40 for any realistic dataset.
    const std::int64_t w = static_cast<std::int64_t>(rng_() % static_cast<std::uint64_t>(total_));
    const size_t k =
        std::upper_bound(cumulative_.begin(), cumulative_.end(), w) - cumulative_.begin();
    const Episode& ep = episodes_[usable_[k]];
    const std::int64_t start = w - (k == 0 ? 0 : cumulative_[k - 1]);  // first frame index
    std::memcpy(frames + b * L * frame, ep.observations.data() + start * frame, L * frame);
    for (int64_t t = 0; t < L; ++t) {
      const int64_t f = start + t;  // frame index in the episode
      if (f == 0) continue;         // episode start: zero action, zero reward, continues
      std::memcpy(actions + (b * L + t) * A, ep.actions.data() + (f - 1) * A, A * sizeof(float));
      rewards[b * L + t] = ep.rewards[f - 1];
      conts[b * L + t] = ep.terminations[f - 1] ? 0.0f : 1.0f;
    }
  }
  return out;
}

std::string SequenceSampler::state() const {
  std::ostringstream s;
  s << rng_;
  return s.str();
}

void SequenceSampler::set_state(const std::string& text) {
  std::istringstream s(text);
  s >> rng_;
  if (s.fail()) throw std::runtime_error("sampler state is not a valid RNG state");
}

// ---- metrics ----------------------------------------------------------------------------

std::string StepMetrics::to_json() const {
  auto num = [](double v) -> nlohmann::json {
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
  };
  nlohmann::json j = {{"step", step},
                      {"loss", num(loss)},
                      {"recon", num(recon)},
                      {"reward", num(reward)},
                      {"cont", num(cont)},
                      {"kl_dyn", num(kl_dyn)},
                      {"kl_rep", num(kl_rep)},
                      {"kl", num(kl)},
                      {"grad_norm", num(grad_norm)},
                      {"frames_per_s", num(frames_per_s)},
                      {"elapsed_s", num(elapsed_s)},
                      {"skipped", skipped},
                      {"skipped_total", skipped_total}};
  return j.dump();
}

// ---- Trainer ----------------------------------------------------------------------------

namespace {

torch::Device parse_device(const std::string& name) {
  if (name != "cpu" && name.rfind("cuda", 0) != 0) {
    throw std::runtime_error("device '" + name + "': expected cpu or cuda[:N]");
  }
  if (name.rfind("cuda", 0) == 0 && !torch::cuda::is_available()) {
    throw std::runtime_error("device '" + name + "': no CUDA device is available to LibTorch");
  }
  try {
    return torch::Device(name);
  } catch (const c10::Error&) {
    throw std::runtime_error("device '" + name + "': expected cpu or cuda[:N]");
  }
}

}  // namespace

Trainer::Trainer(std::vector<Episode> episodes, int height, int width, int action_size,
                 TrainOptions options)
    : episodes_(std::move(episodes)),
      options_(std::move(options)),
      device_(parse_device(options_.device)),
      start_(std::chrono::steady_clock::now()) {
  if (options_.batch < 1) throw std::runtime_error("batch size must be >= 1");
  if (options_.steps < 0) throw std::runtime_error("steps must be >= 0");
  sampler_ = std::make_unique<SequenceSampler>(episodes_, height, width, action_size, options_.seq,
                                               options_.seed, options_.source);
  const bool resume = options_.resume && !options_.out.empty() && fs::exists(options_.out);
  if (resume) {
    const std::string what = "checkpoint '" + options_.out.string() + "'";
    LoadedModel loaded = load_checkpoint(options_.out, device_);
    check_compatible(loaded.config, height, width, action_size, what, options_.source);
    if (loaded.config.preset != options_.preset) {
      throw std::runtime_error(what + " was trained with preset '" + loaded.config.preset +
                               "', not '" + options_.preset + "'");
    }
    config_ = loaded.config;
    model_ = loaded.model;
    model_->train();
    optimizer_ = std::make_unique<torch::optim::Adam>(
        model_->parameters(), torch::optim::AdamOptions(options_.lr).eps(options_.adam_eps));
    TrainingState state;
    if (!load_training_state(options_.out, *optimizer_, state)) {
      throw std::runtime_error(what +
                               " holds no training state (optimizer, step); it cannot be "
                               "resumed");
    }
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(state.json);
      sampler_->set_state(j.at("sampler").get<std::string>());
      skipped_ = j.at("skipped").get<std::int64_t>();
      elapsed_before_ = j.value("elapsed_s", 0.0);
    } catch (const std::exception& e) {
      throw std::runtime_error(what + ": bad training state (" + e.what() + ")");
    }
    if (state.cpu_rng.defined()) {
      auto gen = at::globalContext().defaultGenerator(torch::kCPU);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state.cpu_rng);
    }
    if (state.device_rng.defined() && device_.is_cuda()) {
      auto gen = at::globalContext().defaultGenerator(device_);
      std::lock_guard<std::mutex> lock(gen.mutex());
      gen.set_state(state.device_rng);
    }
    step_ = state.step;
    resumed_ = true;
  } else {
    config_ = make_preset(options_.preset, height, width, action_size);
    torch::manual_seed(options_.seed);  // model init and latent sampling (CPU and CUDA)
    model_ = RSSM(config_);
    model_->to(device_);
    model_->train();
    optimizer_ = std::make_unique<torch::optim::Adam>(
        model_->parameters(), torch::optim::AdamOptions(options_.lr).eps(options_.adam_eps));
  }
}

Trainer::~Trainer() = default;

StepMetrics Trainer::step() {
  const auto t0 = std::chrono::steady_clock::now();
  Batch cpu = sampler_->sample(options_.batch);
  const bool cuda = device_.is_cuda();
  Batch batch{cpu.frames.to(device_, /*non_blocking=*/cuda), cpu.actions.to(device_, cuda),
              cpu.rewards.to(device_, cuda), cpu.conts.to(device_, cuda)};

  optimizer_->zero_grad();
  LossTerms loss;
  {
    // bf16 autocast on CUDA for the forward pass, as torch.autocast("cuda", torch.bfloat16).
    AutocastGuard autocast(device_, cuda ? Precision::kBF16 : Precision::kF32);
    loss = model_->loss(batch);
  }
  // One device sync for every term.
  auto terms = torch::stack({loss.total, loss.recon, loss.reward, loss.cont, loss.kl_dyn,
                             loss.kl_rep, loss.kl})
                   .detach()
                   .to(torch::kCPU, torch::kDouble);
  auto v = terms.accessor<double, 1>();
  StepMetrics m;
  m.loss = v[0], m.recon = v[1], m.reward = v[2], m.cont = v[3], m.kl_dyn = v[4];
  m.kl_rep = v[5], m.kl = v[6];
  m.grad_norm = std::nan("");
  bool finite = std::isfinite(m.loss);
  if (finite) {
    loss.total.backward();
    m.grad_norm = torch::nn::utils::clip_grad_norm_(model_->parameters(), options_.grad_clip);
    finite = std::isfinite(m.grad_norm);
    // A non-finite loss or gradient is never trained on: the step is counted as skipped.
    if (finite) optimizer_->step();
  }
  if (!finite) {
    optimizer_->zero_grad();
    ++skipped_;
  }
  ++step_;
  const auto t1 = std::chrono::steady_clock::now();
  m.step = step_;
  m.skipped = !finite;
  m.skipped_total = skipped_;
  m.frames_per_s = static_cast<double>(options_.batch) * options_.seq /
                   std::max(1e-9, std::chrono::duration<double>(t1 - t0).count());
  m.elapsed_s = elapsed_before_ + std::chrono::duration<double>(t1 - start_).count();
  return m;
}

void Trainer::save(const fs::path& path) const {
  TrainingState state;
  state.step = step_;
  nlohmann::json j = {
      {"sampler", sampler_->state()},
      {"skipped", skipped_},
      {"elapsed_s",
       elapsed_before_ +
           std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count()},
      {"preset", config_.preset},
      {"batch", options_.batch},
      {"seq", options_.seq},
      {"lr", options_.lr},
      {"seed", options_.seed},
      {"source", options_.source}};
  state.json = j.dump();
  state.cpu_rng = at::globalContext().defaultGenerator(torch::kCPU).get_state();
  if (device_.is_cuda())
    state.device_rng = at::globalContext().defaultGenerator(device_).get_state();
  save_checkpoint(path, model_, config_, optimizer_.get(), &state);
}

StepMetrics Trainer::run(const std::function<void(const StepMetrics&)>& on_step) {
  std::ofstream log;
  if (!options_.log.empty()) {
    log.open(options_.log, resumed_ ? std::ios::app : std::ios::trunc);
    if (!log) throw std::runtime_error("cannot open log file '" + options_.log.string() + "'");
  }
  StepMetrics m;
  m.step = step_;
  m.skipped_total = skipped_;
  while (step_ < options_.steps) {
    m = step();
    if (log) log << m.to_json() << '\n' << std::flush;
    if (on_step) on_step(m);
    stopped_ = options_.stop && options_.stop->load() && step_ < options_.steps;
    const bool last = step_ >= options_.steps || stopped_;
    if (!options_.out.empty() &&
        (last || (options_.checkpoint_every > 0 && step_ % options_.checkpoint_every == 0))) {
      save(options_.out);
    }
    if (stopped_) break;
  }
  return m;
}

}  // namespace parallax::worldmodel
