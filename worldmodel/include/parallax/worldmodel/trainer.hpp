// World-model trainer: sequence batches B x L from episodes, Adam with gradient clipping,
// bf16 autocast on CUDA, atomic checkpoints (weights + optimizer + sampler/RNG state) so that
// a resumed run continues exactly, metrics as JSON lines (progress lines are the caller's: run()'s
// per-step callback).
// Reference: docs/worldmodel.md.
#pragma once

#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/episode_store.hpp"
#include "parallax/worldmodel/rssm.hpp"

namespace parallax::worldmodel {

// Draws sequences of L consecutive frames inside one episode, uniformly over every valid
// (episode, start) pair, with its own RNG (state saved in checkpoints). Frame t of a sequence
// comes with the action taken before it (zero at the episode's first frame), the reward received
// on arriving at it (0 at the first frame) and cont = 0 if arriving at it terminated the episode.
class SequenceSampler {
 public:
  // Episodes shorter than L frames (T + 1 < L) are never drawn; throws std::runtime_error
  // naming `source` when no episode is long enough or sizes do not match.
  SequenceSampler(const std::vector<Episode>& episodes, int height, int width, int action_size,
                  int seq_len, std::uint64_t seed, const std::string& source = "dataset");

  Batch sample(int batch);                             // CPU tensors, see Batch in rssm.hpp
  std::int64_t num_windows() const { return total_; }  // valid (episode, start) pairs

  std::string state() const;                // RNG state as text
  void set_state(const std::string& text);  // throws std::runtime_error on a bad state

 private:
  const std::vector<Episode>& episodes_;
  int height_, width_, action_size_, seq_len_;
  std::vector<int> usable_;               // episode indices with >= L frames
  std::vector<std::int64_t> cumulative_;  // [usable] windows up to and including each
  std::int64_t total_ = 0;
  std::mt19937_64 rng_;
};

struct TrainOptions {
  std::string preset = "tiny";  // tiny | small | base (a resumed run keeps its own)
  std::int64_t steps = 1000;    // total optimisation steps (a resume runs up to this)
  int batch = 16;               // B sequences per step
  int seq = 32;                 // L frames per sequence
  double lr = 3e-4;             // Adam learning rate
  double adam_eps = 1e-8;
  double grad_clip = 100.0;           // max global gradient norm
  std::string device = "cpu";         // cpu | cuda | cuda:N
  std::filesystem::path out;          // checkpoint file; empty: no checkpoints
  bool resume = false;                // continue from `out` if it exists
  std::filesystem::path log;          // JSON lines file; empty: none
  std::int64_t checkpoint_every = 0;  // steps between checkpoints; 0: only at the end
  std::uint64_t seed = 0;             // model init, sampler and latent sampling
  // When set and true (e.g. by a SIGINT handler), run() stops after the current step and
  // writes a checkpoint: a later --resume continues exactly.
  const std::atomic<bool>* stop = nullptr;
  std::string source = "dataset";  // name of the data, for messages
};

struct StepMetrics {
  std::int64_t step = 0;  // steps done after this one
  double loss = 0, recon = 0, reward = 0, cont = 0, kl_dyn = 0, kl_rep = 0, kl = 0;
  double grad_norm = 0;     // before clipping
  double frames_per_s = 0;  // B * L / wall time of the step
  double elapsed_s = 0;     // since this trainer started
  bool skipped = false;     // non-finite loss or gradient: no update
  std::int64_t skipped_total = 0;
  std::string to_json() const;
};

class Trainer {
 public:
  // Builds a fresh model from the preset, or, with options.resume and an existing
  // options.out, the checkpoint's model, optimizer, sampler and RNG state. Throws
  // std::runtime_error for mismatched or unreadable checkpoints and unusable data.
  Trainer(std::vector<Episode> episodes, int height, int width, int action_size,
          TrainOptions options);
  ~Trainer();

  StepMetrics step();  // one optimisation step (or a counted skip)
  // Runs until options.steps (or options.stop) with logging and checkpoints, calling `on_step`
  // after every step (for a progress line); returns the last metrics.
  StepMetrics run(const std::function<void(const StepMetrics&)>& on_step = {});
  void save(const std::filesystem::path& path) const;  // weights + full training state

  std::int64_t current_step() const { return step_; }
  std::int64_t skipped_steps() const { return skipped_; }
  bool resumed() const { return resumed_; }
  bool stopped() const { return stopped_; }  // run() ended early on options.stop
  const ModelConfig& config() const { return config_; }
  RSSM model() const { return model_; }
  torch::Device device() const { return device_; }

 private:
  std::vector<Episode> episodes_;
  TrainOptions options_;
  torch::Device device_;
  ModelConfig config_;
  RSSM model_ = nullptr;
  std::unique_ptr<torch::optim::Adam> optimizer_;
  std::unique_ptr<SequenceSampler> sampler_;
  std::int64_t step_ = 0;
  std::int64_t skipped_ = 0;
  bool resumed_ = false;
  bool stopped_ = false;
  double elapsed_before_ = 0;  // seconds spent in earlier runs (resume)
  std::chrono::steady_clock::time_point start_;
};

}  // namespace parallax::worldmodel
