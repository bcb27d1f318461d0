// The arena: one lockstep loop that drives N Bullet worlds and the world model's dream with the
// same actions, renders the true frames, decodes the predicted ones and measures the gap.
//
//   actions[N,A] -> sim::WorldBatch::step -> poses, rewards -> sim::Renderer -> true frames
//   actions[N,A] -> worldmodel::DreamBatch::tick (one batched forward) -> predicted frames, reward
//   (true, predicted) -> per-env MSE / PSNR / SSIM, reward error
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <torch/types.h>

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/rssm.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

enum class ArenaMode : std::uint8_t {
  kMirror,  // the agent sees the true world; the dream predicts open-loop from its context
  kResync,  // as mirror, but the dream re-observes the true frame every `resync_every` ticks
};

struct ArenaOptions {
  int num_envs = 4;
  std::uint64_t seed = 0;         // env i uses seed + i (sim) and the policy stream seed + i
  int threads = 0;                // sim + renderer worker threads; 0 = hardware cores
  std::string policy = "random";  // random | expert | noisy (agents::make_policy)
  ArenaMode mode = ArenaMode::kMirror;
  int resync_every = 0;        // kResync: ticks between re-observations (> 0)
  std::string device = "cpu";  // torch device of the dream: cpu | cuda
};

// Per env, per tick: what the arena measured. PSNR is +inf for identical frames.
struct StepMetrics {
  int tick = 0;
  int env = 0;
  bool reset = false;     // this tick was an autoreset: the dream re-observed a fresh frame
  float reward_true = 0;  // Bullet's reward for this tick
  float reward_pred = 0;  // the model's predicted reward
  double mse = 0, psnr = 0, ssim = 0;  // true vs predicted frame, values in [0, 1]
  bool terminated = false, truncated = false;
};

class Arena {
 public:
  Arena(std::shared_ptr<const sim::SceneModel> scene, std::shared_ptr<worldmodel::WorldModel> model,
        ArenaOptions options);
  // Convenience: an RSSM behind the interface.
  Arena(std::shared_ptr<const sim::SceneModel> scene, worldmodel::RSSM model, ArenaOptions options);
  ~Arena();
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Resets every env (Bullet and dream slot) and renders the first true frames.
  void reset();
  // One lockstep tick; returns this tick's metrics, one per env ([N]).
  std::span<const StepMetrics> tick();
  // Same, with caller-chosen actions [N, A] in [-1, 1] (teleoperation, replays).
  std::span<const StepMetrics> tick(std::span<const float> actions);

  int num_envs() const;
  int action_size() const;
  int width() const;
  int height() const;
  int ticks() const;  // ticks since reset
  const sim::SceneModel& scene() const;
  std::span<const std::uint8_t> true_frames() const;       // [N, H, W, 3] u8, current tick
  std::span<const std::uint8_t> predicted_frames() const;  // [N, H, W, 3] u8, current tick
  std::span<const float> last_actions() const;             // [N, A] f32

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parallax::agents
