// The rollout engine: N Bullet worlds of one scene stepped together, rendered after every step,
// driven by a policy (or by the caller's actions), yielding one record per env per step. Every
// front end that runs episodes goes through it: `parallax collect` (with EpisodeRecorder), and,
// through agents::Arena (which adds the world model's dream on top), `parallax demo` and the
// viewer.
//
//   actions [N, A] (policy or caller, clamped to [-1, 1]) -> sim::WorldBatch::step
//     -> poses, rewards, flags, autoresets -> sim::Renderer -> frames [N, H, W, 3] (+ ids)
//     -> records [N]; an env that autoreset starts its policy on the new episode's seed
//
// Seeds: one rule everywhere, see docs/agents.md "Seeds". Env i's k-th episode is reset with
// seed + i + k * N (sim::WorldBatch) and the policy starts that episode with the same seed
// (Policy::reset(i, episode seed)); so the same scene, policy, N and seed give the same
// episodes (actions, rewards, frames) whatever the front end, the thread count, or what runs on
// top (a dream does not change what happens in Bullet).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parallax/agents/policy.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world_batch.hpp"

namespace parallax::agents {

struct RolloutOptions {
  int num_envs = 4;
  std::uint64_t seed = 0;         // base seed: see "Seeds" above
  int threads = 0;                // physics + renderer worker threads; 0 = hardware cores
  std::string policy = "random";  // agents::make_policy kind
  bool ids = false;               // also render id frames [N, H, W] u8 (ids())
};

// Per env, per step: what happened in Bullet.
struct RolloutStep {
  int tick = 0;  // steps since reset(), this one included
  int env = 0;
  // This step was an autoreset (Gymnasium next-step): the env's previous episode had ended, its
  // action was ignored, and the frame is the first of a new episode; reward 0, no flags.
  bool reset = false;
  std::uint64_t episode_seed = 0;  // seed of the episode this step belongs to
  int episode_step = 0;            // actions taken in this episode (0 on a reset step)
  float reward = 0;                // Bullet's reward for this step
  bool terminated = false, truncated = false;
  double ret = 0;  // running sum of rewards since the env's last reset (0 on a reset step)
};

class Rollout {
 public:
  // Resets every env (first episodes) and renders the first frames. Throws
  // std::invalid_argument for a bad policy kind or counts (naming them).
  Rollout(std::shared_ptr<const sim::SceneModel> scene, RolloutOptions options);
  ~Rollout();
  Rollout(const Rollout&) = delete;
  Rollout& operator=(const Rollout&) = delete;

  // Back to every env's first episode.
  void reset();
  // One step with the policy acting on the true state and frames.
  std::span<const RolloutStep> step();
  // One step with the policy acting on what the caller says the agent perceives (a dream).
  std::span<const RolloutStep> step(const PolicyInput& perceived);
  // One step with the caller's actions [N, A] (clamped to [-1, 1]); throws
  // std::invalid_argument for a wrong size.
  std::span<const RolloutStep> step_actions(std::span<const float> actions);

  // What the agent would see of the true world now (spans into this object).
  PolicyInput true_input() const;

  // Replaces the policy (make_policy kinds) and starts it on each env's current episode seed.
  // Throws std::invalid_argument (one line) for an unknown kind; nothing changes then.
  void set_policy(const std::string& kind);
  // The same with a policy made by the caller (one for num_envs() envs, e.g. PlannerPolicy),
  // reported as `name`; throws std::invalid_argument for a null policy.
  void set_policy(std::unique_ptr<Policy> policy, const std::string& name);
  const std::string& policy_name() const;

  int num_envs() const;
  int action_size() const;
  int width() const;
  int height() const;
  int ticks() const;  // steps since reset()
  const sim::SceneModel& scene() const;
  std::shared_ptr<const sim::SceneModel> scene_ptr() const;
  std::uint64_t seed() const;
  std::span<const RolloutStep> last() const;     // [N] the last step's records
  std::span<const std::uint8_t> frames() const;  // [N, H, W, 3] u8, current state
  std::span<const std::uint8_t> ids() const;     // [N, H, W] u8, empty without options.ids
  std::span<const float> actions() const;        // [N, A] f32, the last step's (clamped)
  std::span<const float> rewards() const;        // [N] f32, the last step's
  sim::WorldBatch& worlds();
  const sim::WorldBatch& worlds() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parallax::agents
