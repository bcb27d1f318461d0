// N independent Worlds of one scene, stepped together on a fixed pool of worker threads.
//
// Env i's first episode is seeded seed + i; its k-th episode (k = 0, 1, ...) seed + i + k * N,
// so every (env, episode) pair has its own seed and results do not depend on the thread count.
// Policies start each episode on its seed: the seed rule of every front end, docs/agents.md
// "Seeds".
// All outputs are preallocated; step() allocates nothing.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::sim {

class WorldBatch {
 public:
  // `num_envs` >= 1 worlds, `threads` in [1, kMaxThreads] workers (including the caller). Resets
  // all envs. Throws std::invalid_argument for bad counts, and std::length_error, before
  // allocating anything, when `num_envs` worlds cannot fit in memory (see estimated_env_bytes).
  WorldBatch(std::shared_ptr<const SceneModel> scene, int num_envs, std::uint64_t seed,
             int threads);
  ~WorldBatch();
  WorldBatch(const WorldBatch&) = delete;
  WorldBatch& operator=(const WorldBatch&) = delete;

  // Memory one env of `scene` takes, an upper estimate in bytes (Bullet's collision pools
  // dominate: about 4 MiB per world whatever the scene).
  static std::size_t estimated_env_bytes(const SceneModel& scene);

  int num_envs() const { return num_envs_; }
  int num_bodies() const { return num_bodies_; }
  int num_markers() const { return num_markers_; }
  int action_size() const { return action_size_; }
  const SceneModel& scene() const { return *scene_; }

  // Resets every env to its first episode (env i: seed + i) and clears all flags.
  void reset();

  // One control step of every env. `actions` is [N, A] f32 in [-1, 1] (clamped); a wrong size or
  // a non-finite value throws std::invalid_argument naming env, component and value, before any
  // env is stepped. Next-step autoreset (Gymnasium 1.x): an env whose previous step ended
  // (terminated or truncated) is reset instead of stepped; its actions are ignored, its reward
  // and flags are 0 and reset_mask is 1.
  void step(std::span<const float> actions);

  std::span<const float> poses() const { return poses_; }                          // [N, K, 7]
  std::span<const float> velocities() const { return velocities_; }                // [N, K, 6]
  std::span<const float> marker_positions() const { return markers_; }             // [N, M, 3]
  std::span<const float> rewards() const { return rewards_; }                      // [N]
  std::span<const std::uint8_t> terminated() const { return terminated_; }         // [N] 0/1
  std::span<const std::uint8_t> truncated() const { return truncated_; }           // [N] 0/1
  std::span<const std::uint8_t> reset_mask() const { return reset_mask_; }         // [N] 0/1
  std::span<const std::uint64_t> episode_seeds() const { return episode_seeds_; }  // [N]
  // [N, J, 2] f32: joint position (rad or m) and velocity (rad/s or m/s), see World::joint_states.
  std::span<const float> joint_states() const { return joints_; }
  // This episode's appearance per env (change only at resets): [N, K, 3] f32 RGB in [0, 1] and
  // [N, K] f32 size scales; pass them to Renderer::render to draw randomised scenes faithfully.
  std::span<const float> body_colors() const { return colors_; }
  std::span<const float> body_size_scales() const { return scales_; }
  int num_joints() const { return num_joints_; }
  // Every env's current state and appearance as one render call's inputs (host pointers into
  // this batch, valid until the next step or reset): renderer.render(batch.render_inputs(), ...).
  RenderInputs render_inputs() const {
    return RenderInputs{.n = num_envs_,
                        .poses = poses_.data(),
                        .markers = markers_.data(),
                        .colors = colors_.data(),
                        .scales = scales_.data()};
  }

  World& world(int i);
  const World& world(int i) const;

 private:
  void run(int begin, int end);
  void write_outputs(int i);

  std::shared_ptr<const SceneModel> scene_;
  int num_envs_, num_bodies_, num_markers_, num_joints_, action_size_;
  std::uint64_t seed_;
  std::vector<World> worlds_;
  ThreadPool pool_;
  ThreadPool::Task task_;  // built once: parallel_for takes it by reference, no allocation

  const float* actions_ = nullptr;                                 // [N, A] during step()
  std::vector<float> poses_;                                       // [N, K, 7] f32
  std::vector<float> velocities_;                                  // [N, K, 6] f32
  std::vector<float> markers_;                                     // [N, M, 3] f32
  std::vector<float> joints_;                                      // [N, J, 2] f32
  std::vector<float> colors_;                                      // [N, K, 3] f32
  std::vector<float> scales_;                                      // [N, K] f32
  std::vector<float> rewards_;                                     // [N] f32
  std::vector<std::uint8_t> terminated_, truncated_, reset_mask_;  // [N] u8
  std::vector<std::uint8_t> done_;                                 // [N] previous step ended
  std::vector<std::uint64_t> episode_;                             // [N] episode index k
  std::vector<std::uint64_t> episode_seeds_;  // [N] seed of the current episode
};

}  // namespace parallax::sim
