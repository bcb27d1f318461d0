// One Bullet world built from an immutable scene model plus a seed.
//
// Same scene, same seed, same actions => bit-identical trajectories (no wall clock, no threads
// inside a world, fixed substeps, sequential-impulse solver). State can be saved and restored
// exactly; see save_state() for the one subtlety.
// Reference: docs/sim.md.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "parallax/sim/scene.hpp"

namespace parallax::sim {

// What one control step returned.
struct StepResult {
  float reward = 0;         // weighted sum of the scene's reward terms for this step
  bool terminated = false;  // a success with `terminate`, a termination condition, or divergence
  bool truncated = false;   // steps() reached scene.episode_steps
};

// A snapshot of a World: every body's pose, velocities and per-episode parameters (randomised
// size, mass, friction, colour), markers, step count and reward bookkeeping. A copyable value;
// its contents are private to World (only restore_state reads them).
struct WorldState {
  std::uint64_t layout = 0;  // identifies the scene shape (bodies, joints, markers); checked
  std::vector<float> data;   // opaque, exact bit copy of the Bullet state (float)
};

class World {
 public:
  // Builds the Bullet world for `scene` and resets it with `seed`. Throws SceneError if the scene
  // cannot be built (a scene that passed the loader always can).
  World(std::shared_ptr<const SceneModel> scene, std::uint64_t seed);
  ~World();
  World(World&&) noexcept;
  World& operator=(World&&) noexcept;
  World(const World&) = delete;
  World& operator=(const World&) = delete;

  const SceneModel& scene() const;
  std::shared_ptr<const SceneModel> scene_ptr() const;

  // Starts a new episode: samples the scene's randomisation with `seed`, places every body,
  // clears all contact and solver caches. reset(s) always gives the same state for the same s.
  void reset(std::uint64_t seed);

  // One control step: 1 / control_hz seconds = scene.substeps() physics steps.
  // `action` is [A] = scene.action_size(), each component in [-1, 1] (clamped). Wrong size or a
  // non-finite component throws std::invalid_argument naming the index and value.
  StepResult step(std::span<const float> action);

  // [K, 7] f32: x y z (m), qx qy qz qw, K = scene.bodies.size() in file order (static included).
  void poses(std::span<float> out) const;
  // [K, 6] f32: linear velocity vx vy vz (m/s), angular velocity wx wy wz (rad/s), world frame.
  void velocities(std::span<float> out) const;
  // [M, 3] f32: marker disc centres (m).
  void marker_positions(std::span<float> out) const;
  // [J, 2] f32: joint position (hinge: rad in [-pi, pi]; slider: m) and velocity (rad/s, m/s),
  // relative to the nominal pose of the scene file.
  void joint_states(std::span<float> out) const;
  // [K, 3] f32: this episode's body colours (randomised or nominal), RGB in [0, 1].
  void body_colors(std::span<float> out) const;
  // [K] f32: this episode's size scale per body (1 = nominal dimensions of the scene file).
  void body_size_scales(std::span<float> out) const;

  int steps() const;  // control steps since reset
  // True once a body's state became non-finite (the step that saw it reported terminated).
  bool diverged() const;

  // The physical-variance reference of fidelity (Physics-IQ's "physical variance"): moves every
  // dynamic and kinematic body by `position_m` metres in a random horizontal direction and turns
  // it by +-`yaw_deg` degrees about the world z axis, velocities unchanged. Draws from `seed`
  // only; deterministic. Bodies on joints are left alone (their constraints define them).
  void perturb(float position_m, float yaw_deg, std::uint64_t seed);

  // Snapshot of the current state. Bullet keeps contact and solver caches that a snapshot of
  // poses and velocities does not capture; so saving also drops those caches in this live world
  // (bodies are removed and re-added in a fixed order, broadphase pool and solver reset), exactly
  // as restore_state does. Stepping on from here and stepping from a restored copy are therefore
  // bit-identical. (A world that saves thus differs, slightly, from one that never saved.)
  WorldState save_state() const;
  // Restores a snapshot taken from any World of the same scene (the layout must match; a
  // mismatch throws std::invalid_argument).
  void restore_state(const WorldState& state);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace parallax::sim
