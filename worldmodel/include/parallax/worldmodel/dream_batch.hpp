// DreamBatch: the per-tick batched inference engine of the arena. A fixed number of slots
// (one per env, or per imagined future) lives on the device in preallocated tensors; each tick
// advances every open slot with ONE batched step of the world model (any family behind
// world_model.hpp). Frames are decoded only when asked.
// Reference: docs/worldmodel.md.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/rssm.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::worldmodel {

class DreamBatch {
 public:
  // Takes the model (moved to `device`, eval mode) and preallocates `capacity` slots.
  DreamBatch(std::shared_ptr<WorldModel> model, int capacity, torch::Device device);
  // Convenience: an RSSM behind the interface.
  DreamBatch(RSSM model, int capacity, torch::Device device);
  ~DreamBatch();
  DreamBatch(DreamBatch&&) noexcept;
  DreamBatch& operator=(DreamBatch&&) noexcept;

  int capacity() const { return capacity_; }
  torch::Device device() const { return device_; }
  const WorldModel& model() const { return *model_; }
  const ModelInfo& info() const { return model_->info(); }

  // Latent sampling: kSample draws from the prior with a generator seeded by `seed` (the
  // default: sampled dreams, seed 0); kMode takes the most likely latent (deterministic).
  void set_sampling(Sampling sampling, std::uint64_t seed = 0);

  // Inference precision of every model call (reset, tick, observe, heads): kF32 (the default)
  // or kBF16 autocast on the device. kBF16 also stores the model's convolution weights
  // channels-last, for every user of the model (f32 results then differ in the last bits).
  // Drops a captured CUDA graph. Dream states stay f32 tensors either way.
  void set_precision(Precision precision);
  Precision precision() const { return precision_; }

  // CUDA graph for tick(): captured at the next tick, then replayed (one launch per tick
  // instead of one per kernel). Returns whether graphs are in use: false on the CPU or in a
  // build without the CUDA headers. set_sampling() drops the captured graph.
  bool use_cuda_graph(bool enable);

  // Opens `slot` and observes C' >= 1 context frames [C', 3, H, W] u8 with their actions
  // [C', A] f32 (actions[t] taken before frame t; zeros at an episode start). The slot then
  // holds the model's state at the last context frame (info().context_frames is what the model
  // wants; a shorter context is padded by the family).
  void reset(int slot, const torch::Tensor& frames, const torch::Tensor& actions);
  // Copies the state of an open slot into each destination slot (opening them).
  void fork(int src_slot, const std::vector<int>& dst_slots);
  void close(int slot);
  bool is_open(int slot) const;
  int num_open() const;

  // ONE batched prior step for all open slots. actions [capacity, A] f32 (any device); rows of
  // closed slots are ignored and their state left as is.
  void tick(const torch::Tensor& actions);
  // Resync: for slots where mask [capacity] bool is true (and open), the model re-observes
  // these true frames [capacity, 3, H, W] u8 in place of its prediction for the last tick.
  void observe(const torch::Tensor& frames, const torch::Tensor& mask);

  torch::Tensor frames();  // [capacity, 3, H, W] u8 on the CPU, decoded now (zeros if closed)
  torch::Tensor reward();  // [capacity] f32 on the CPU (0 for closed slots)
  torch::Tensor cont();    // [capacity] f32 on the CPU in [0,1] (0 for closed slots)
  // The value head (WorldModel::value; throws std::logic_error without one) [capacity] f32 on the
  // CPU (0 for closed slots).
  torch::Tensor value();
  // The pose head (WorldModel::poses; throws std::logic_error without one) [capacity, P, 2] f32
  // on the CPU: x, y (m) per pose body (0 for closed slots).
  torch::Tensor poses();

  const SlotState& state() const { return state_; }  // [capacity, ...] device tensors
  std::int64_t ticks() const { return ticks_; }

 private:
  struct Graph;  // CUDA graph state (dream_batch.cpp), absent when not in use
  void check_slot(int slot, const char* what) const;
  void tick_body();  // the step itself: reads actions_, updates state_ in place
  void write_rows(const SlotState& next, const torch::Tensor& rows);  // rows [capacity] bool

  std::shared_ptr<WorldModel> model_;
  int capacity_;
  torch::Device device_;
  Sampling sampling_ = Sampling::kSample;
  Precision precision_ = Precision::kF32;
  std::optional<at::Generator> generator_;  // CPU sampling generator; default one on CUDA
  SlotState state_;                         // each [capacity, ...] on device (family-defined)
  torch::Tensor open_;                      // [capacity] bool on device
  std::vector<char> open_host_;             // [capacity] mirror of open_
  torch::Tensor actions_;                   // [capacity, A] f32 on device (staging for tick)
  std::int64_t ticks_ = 0;
  bool want_graph_ = false;
  std::unique_ptr<Graph> graph_;
};

}  // namespace parallax::worldmodel
