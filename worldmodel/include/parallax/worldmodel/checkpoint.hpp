// Checkpoints: one file (PyTorch zip archive) holding the model weights, the model config as
// JSON, and optionally the optimiser and trainer state so that training resumes exactly.
// Written atomically: a temporary file in the same folder, then rename.
// Reference: docs/worldmodel.md.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/rssm.hpp"

namespace parallax::worldmodel {

// What a trainer needs besides the weights to continue exactly where it stopped.
struct TrainingState {
  std::int64_t step = 0;     // optimisation steps done
  std::string json = "{}";   // trainer counters, sampler RNG state, options (JSON text)
  torch::Tensor cpu_rng;     // torch CPU generator state (u8), undefined = not saved
  torch::Tensor device_rng;  // torch generator state of the training device, undefined on CPU
};

// Saves weights + config (+ optimizer and training state when given). Atomic: temp + rename.
// Throws std::runtime_error naming the path when it cannot be written.
void save_checkpoint(const std::filesystem::path& path, const RSSM& model,
                     const ModelConfig& config, const torch::optim::Optimizer* optimizer = nullptr,
                     const TrainingState* training = nullptr);

struct LoadedModel {
  ModelConfig config;
  RSSM model = nullptr;
};

// Loads a checkpoint onto `device` (model in eval mode). Throws std::runtime_error with one
// clear line for a missing, truncated, corrupt or foreign file.
LoadedModel load_checkpoint(const std::filesystem::path& path, torch::Device device = torch::kCPU);

// Reads the optimiser state (into `optimizer`, built over the loaded model's parameters) and
// the trainer state. Returns false when the checkpoint holds no training state.
bool load_training_state(const std::filesystem::path& path, torch::optim::Optimizer& optimizer,
                         TrainingState& training);

// Throws std::runtime_error when the model's frame or action sizes differ from a dataset's:
// "<what>: model expects 64x64 frames and 2 actions, the dataset <source> has 32x32 and 3".
void check_compatible(const ModelConfig& config, int height, int width, int action_size,
                      const std::string& what, const std::string& source);

}  // namespace parallax::worldmodel
