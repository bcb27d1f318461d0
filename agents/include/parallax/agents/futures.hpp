// Imagined futures: from one slot of a running dream, K (1..16) futures forked in the world
// model, driven by random action sequences or by a planner's candidates, each with its imagined
// frames, rewards and return, and the one a planner would pick; then, on request, what Bullet
// did with the same K plans from the same true state (the oracle, rendered frame by frame).
//
//   dream slot state --fork K--> K rows --L batched steps--> frames [K, L, H, W, 3], returns [K]
//   sim::World state --restore per plan--> L steps + renders --> frames [K, L, H, W, 3], returns
//
// FutureImaginer is also a PlanModel (planner.hpp): a Planner scores its candidates from the
// forked root, so "which one a planner would pick" is the planner's own choice.
//
// Determinism: the dream runs the model's mode (no sampling); random plans come from the seed;
// Bullet replays start from one saved state each. Same root, options and seed => same futures.
// Note: saving the live world's state drops its contact caches (World::save_state), so a
// replay nudges that world's later steps; the viewer does it only on request.
// Reference: docs/viewer.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <torch/types.h>

#include "parallax/agents/planner.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

enum class FutureSource : std::uint8_t {
  kRandom,   // AR(1)-correlated Gaussian action noise, clamped to [-1, 1]
  kPlanner,  // the candidates of one planner decision (PlannerOptions kind, one iteration)
};

// "random" | "planner"; anything else throws std::invalid_argument naming it.
FutureSource future_source_from_string(const std::string& name);

struct FuturesOptions {
  int futures = 8;   // K, 1..16
  int horizon = 15;  // L control steps, 1..64
  float gamma = 0.99f;
  FutureSource source = FutureSource::kRandom;
  PlannerKind planner = PlannerKind::kShooting;  // kPlanner: which planner proposes and picks
  float noise_std = 0.6f;                        // kRandom: standard deviation of the actions
  float noise_correlation = 0.8f;                // kRandom: AR(1) correlation along a plan
  std::uint64_t seed = 0;
};

// Throws std::invalid_argument naming the option out of range.
void validate(const FuturesOptions& options);

struct ImaginedFutures {
  int k = 0, l = 0, h = 0, w = 0, a = 0;
  std::vector<float> plans;                 // [K, L, A] f32 in [-1, 1]
  std::vector<std::uint8_t> frames;         // [K, L, H, W, 3] u8, imagined
  std::vector<float> rewards;               // [K, L] f32, imagined
  std::vector<double> returns;              // [K] imagined return (planner.hpp's definition)
  int chosen = 0;                           // the plan a planner picks: the largest imagined return
  std::vector<std::uint8_t> bullet_frames;  // [K, L, H, W, 3] u8 (empty until replayed)
  std::vector<double> bullet_returns;       // [K] (empty until replayed)
  // Frame of future i at step s ([H, W, 3] u8).
  std::span<const std::uint8_t> frame(int i, int s) const;
  std::span<const std::uint8_t> bullet_frame(int i, int s) const;
};

class FutureImaginer : public PlanModel {
 public:
  // max_futures in [1, 16]; the model is shared (e.g. with the arena's dream), used read-only.
  FutureImaginer(std::shared_ptr<worldmodel::WorldModel> model, int max_futures,
                 torch::Device device);
  ~FutureImaginer() override;
  FutureImaginer(const FutureImaginer&) = delete;
  FutureImaginer& operator=(const FutureImaginer&) = delete;

  // The root: row `row` of a dream's slot state (DreamBatch::state()), copied.
  void set_root(const worldmodel::SlotState& state, int row);
  // K futures from the root (set_root first).
  ImaginedFutures imagine(const FuturesOptions& options);
  // Inference precision of the imagined steps, decodes and heads (as DreamBatch::set_precision:
  // bf16 autocast, convolution weights channels-last, the state kept f32 between steps).
  void set_precision(worldmodel::Precision precision);

  // PlanModel: imagined returns of plans [K, L, A] forked from the root.
  int action_size() const override;
  int max_candidates() const override;
  void score(std::span<const float> plans, int k, int l, float gamma,
             std::span<double> returns) override;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// What Bullet did: each of the K plans run from `source`'s current state (saved once; see the
// note at the top) in a private World with `source`'s appearance, rendered at the dream's frame
// size; fills bullet_frames and bullet_returns (Bullet's return: continue = 0 after the episode
// ended, planner.hpp).
void replay_in_bullet(const sim::World& source, float gamma, ImaginedFutures& futures);

}  // namespace parallax::agents
