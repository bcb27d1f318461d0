// The world-model interface: what DreamBatch drives and what agents see, whatever the family.
//
// A family (RSSM, U-Net, ...) is a set of pure batched functions over a slot state that the
// caller owns: a list of tensors, each [B, ...] (one row per slot). DreamBatch keeps that state
// preallocated for its capacity, opens, forks and closes rows, and advances all open rows with
// ONE call to step() per tick. Nothing outside worldmodel/ knows which family runs; the
// checkpoint names its family and load_world_model() dispatches on it (model_registry.cpp).
// How to add a family: docs/worldmodel.md, "Adding a model family".
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace parallax::worldmodel {

// How a stochastic family draws its latents (families without latents ignore it).
enum class Sampling {
  kSample,  // a sample (straight-through gradient in training)
  kMode,    // the most likely value: deterministic
};

// The batched state of B slots: each tensor is [B, ...] on the model's device.
using SlotState = std::vector<torch::Tensor>;

// What every family declares (and its checkpoint records).
struct ModelInfo {
  std::string family;        // "rssm" | "unet" | ...
  int height = 0;            // frame height [pixels]
  int width = 0;             // frame width [pixels]
  int action_size = 0;       // A
  int context_frames = 1;    // C: frames reset wants; fewer are padded by repeating the oldest
  bool latent_step = false;  // step() is cheap (no pixels); decode() is a separate cost
  std::string config_json;   // the family's full config (JSON text)
  std::int64_t parameters = 0;
  // > 0: the model has a value head (WorldModel::value), trained for this discount per step.
  double value_gamma = 0.0;
  // Non-empty: the model has a pose head (WorldModel::poses) for these bodies, in this order.
  std::vector<std::string> pose_bodies;
};

// Per-call options of the stochastic parts.
struct StepContext {
  Sampling sampling = Sampling::kSample;
  std::optional<at::Generator>* generator = nullptr;  // CPU generator (null: torch's default)
};

class WorldModel {
 public:
  virtual ~WorldModel() = default;

  virtual const ModelInfo& info() const = 0;
  // The underlying module (device moves, eval mode, parameter access).
  virtual torch::nn::Module& module() = 0;

  // Zero state for `batch` slots on `device`.
  virtual SlotState initial_state(int64_t batch, torch::Device device) = 0;
  // State after observing context frames [B, C', 3, H, W] u8 (1 <= C' ; oldest first) with the
  // actions taken before each of them [B, C', A] f32 (zeros at an episode start).
  virtual SlotState encode_context(const torch::Tensor& frames, const torch::Tensor& actions,
                                   const StepContext& ctx) = 0;
  // One batched step of every row: the state after taking actions [B, A] f32.
  virtual SlotState step(const SlotState& state, const torch::Tensor& actions,
                         const StepContext& ctx) = 0;
  // Resync: the state after the current step's frame is replaced by the true frames
  // [B, 3, H, W] u8 (the model re-observes them).
  virtual SlotState observe(const SlotState& state, const torch::Tensor& frames,
                            const StepContext& ctx) = 0;
  // Heads on a state: frames [B, 3, H, W] f32 in [0, 1]; reward [B] f32 received on arriving
  // in this state; continue probability [B] f32 in [0, 1].
  virtual torch::Tensor decode(const SlotState& state) = 0;
  virtual torch::Tensor reward(const SlotState& state) = 0;
  virtual torch::Tensor cont(const SlotState& state) = 0;
  // The value head, where info().value_gamma > 0: the discounted return (that discount) expected
  // after arriving in this state [B] f32, under the policies of the data it was trained on; the
  // planners' terminal value (docs/agents.md, "Terminal value"). Families or checkpoints without
  // one throw std::logic_error.
  virtual torch::Tensor value(const SlotState& state) {
    (void)state;
    throw std::logic_error("world model (" + info().family + "): the checkpoint has no value head");
  }
  // The pose head, where info().pose_bodies is not empty: x, y (m) of each pose body in this
  // state [B, P, 2] f32 (the planners' reward from predicted poses, docs/agents.md). Families or
  // checkpoints without one throw std::logic_error.
  virtual torch::Tensor poses(const SlotState& state) {
    (void)state;
    throw std::logic_error("world model (" + info().family + "): the checkpoint has no pose head");
  }
};

// A loaded checkpoint of any family, on `device`, in eval mode.
struct LoadedWorldModel {
  std::shared_ptr<WorldModel> model;
  std::string sha256;  // of the checkpoint file's bytes
};

// Reads the checkpoint's family and builds it (see model_registry.cpp for the families).
// Throws std::runtime_error with one line naming the file for a missing, truncated, corrupt,
// foreign or unknown-family file.
LoadedWorldModel load_world_model(const std::string& path, torch::Device device = torch::kCPU);

struct ModelFile;
// The same for a "parallax-model/2" file already read by read_model_file() (model_file.hpp):
// a caller that looked at its family first does not read and unpickle it twice.
LoadedWorldModel load_world_model(const ModelFile& file, const std::string& path,
                                  torch::Device device = torch::kCPU);

// The names of the families load_world_model() knows.
std::vector<std::string> model_families();

}  // namespace parallax::worldmodel
