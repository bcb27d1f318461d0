// The arena: one lockstep loop that drives N Bullet worlds and the world model's dream with the
// same actions, renders the true frames, decodes the predicted ones and measures the gap. The
// Bullet side is the rollout engine (rollout.hpp); the arena adds the dream on top.
//
//   actions[N,A] -> Rollout (sim::WorldBatch::step -> sim::Renderer) -> true frames, rewards
//   actions[N,A] -> worldmodel::DreamBatch::tick (one batched forward) -> predicted frames, reward
//   (true, predicted) -> per-env MSE / PSNR / SSIM, reward error
//
// Modes (ArenaMode) say what the agent perceives; the actions always go to both worlds and the
// metrics always compare Bullet's frame and reward with the model's prediction of them.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include <torch/types.h>

#include "parallax/agents/policy.hpp"
#include "parallax/agents/rollout.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world_batch.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/rssm.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

enum class ArenaMode : std::uint8_t {
  kMirror,  // the agent sees the true world; the dream predicts open-loop from its context
  kResync,  // as mirror, but the dream re-observes the true frame every `resync_every` ticks
  // The agent perceives only the dream: its PolicyInput frames and rewards are the model's
  // predictions, and its state (poses, markers, velocities, joints: what the scripted experts
  // read) is the true state of its last true observation: the episode start, and every
  // `resync_every` ticks (> 0) when the dream re-observes the true frame. Bullet is the
  // verifier. resync_every 1 is closed loop on real observations, 0 is pure dreaming.
  kDream,
};

// "mirror" | "resync" | "dream"; anything else throws std::invalid_argument naming it.
ArenaMode arena_mode_from_string(const std::string& name);
const char* to_string(ArenaMode mode);

struct ArenaOptions {
  int num_envs = 4;
  std::uint64_t seed = 0;         // the seed rule: rollout.hpp, docs/agents.md "Seeds"
  int threads = 0;                // sim + renderer worker threads; 0 = hardware cores
  std::string policy = "random";  // random | expert | noisy (agents::make_policy)
  ArenaMode mode = ArenaMode::kMirror;
  int resync_every = 0;        // kResync (> 0), kDream (>= 0): ticks between re-observations
  std::string device = "cpu";  // torch device of the dream: cpu | cuda
  // Inference precision of the dream (worldmodel::DreamBatch::set_precision).
  worldmodel::Precision precision = worldmodel::Precision::kF32;
};

// Per env, per tick: what the arena measured. PSNR is +inf for identical frames.
struct StepMetrics {
  int tick = 0;
  int env = 0;
  bool reset = false;     // this tick was an autoreset: the dream re-observed a fresh frame
  float reward_true = 0;  // Bullet's reward for this tick
  float reward_pred = 0;  // the model's predicted reward
  // Running sums of reward_true and reward_pred since the env's last reset (0 on a reset tick).
  double return_true = 0, return_pred = 0;
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
  ArenaMode mode() const;
  int resync_every() const;
  const std::string& policy_name() const;

  // Live controls, between ticks.
  // Switches mode (checked as ArenaOptions: kResync needs resync_every > 0, kDream >= 0; throws
  // std::invalid_argument otherwise). Entering kDream, the agent's last true observation is now.
  void set_mode(ArenaMode mode, int resync_every);
  // The dream re-observes the current true frames of all envs (as a resync tick does); in kDream
  // this is also a true observation for the agent.
  void resync_now();
  // Replaces the policy (agents::make_policy kinds), started on each env's current episode seed.
  // An unknown kind, or one the scene has no expert for, throws std::invalid_argument (one line).
  void set_policy(const std::string& name);
  // The same with a policy made by the caller for num_envs() envs (e.g. PlannerPolicy: a planner
  // in the dream, which perceives the arena's frames), reported as `name`.
  void set_policy(std::unique_ptr<Policy> policy, const std::string& name);

  // Instruments: the dream (forking imagined futures) and the Bullet worlds (saved states).
  // Stepping either directly desynchronises the arena: use them to read, fork, or copy out.
  worldmodel::DreamBatch& dream();
  const worldmodel::DreamBatch& dream() const;
  sim::WorldBatch& worlds();
  const sim::WorldBatch& worlds() const;
  // The rollout engine underneath (Bullet side: records, ids, seeds).
  Rollout& rollout();
  const Rollout& rollout() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parallax::agents
