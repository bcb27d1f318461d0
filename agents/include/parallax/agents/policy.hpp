// Policies that act on N environments at once from their true state (body poses, markers, and
// for some experts body velocities or joint states).
// Used to collect datasets and as references: `random` (uniform actions), `expert` (a scripted
// controller per scene: push, tower, billiards, cartpole, reacher), `noisy` (the expert plus
// temporally correlated noise: varied data that still reaches the goals often), `decoy` (scenes
// with markers: the expert shown every marker at a random place of the scene's workspace, a new
// one every 1.5 s, with less noise: contact that moves objects toward places that are not the
// goal, so a model cannot learn "touched objects go to the goal" from the data), `rush` (the
// decoy with the expert's action multiplied by a gain in [1.5, 3] drawn per decoy goal: the same
// pushes at up to the actuators' full speed, which the expert never uses and planners do).
//
// Determinism: everything a policy draws comes from (policy seed, episode seed) set by reset();
// the actions of an episode do not depend on the number of envs or on the other envs. Experts
// are deterministic functions of env i's state in PolicyInput. Which seeds a run passes: the
// seed rule, docs/agents.md "Seeds" (the rollout engine, rollout.hpp, applies it).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parallax/sim/scene.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {

struct PolicyInput {
  int num_envs = 0;                // N
  int action_size = 0;             // A
  std::span<const float> poses;    // [N, K, 7] f32: x y z (m), qx qy qz qw per body
  std::span<const float> markers;  // [N, M, 3] f32: marker centres (m)
  // Optional (may be empty): needed by the billiards expert (velocities) and by the cartpole and
  // reacher experts (joint_states); those throw std::invalid_argument from act() when empty.
  std::span<const float> velocities = {};    // [N, K, 6] f32: v (m/s), w (rad/s) per body
  std::span<const float> joint_states = {};  // [N, J, 2] f32: position (rad|m), vel (rad/s|m/s)
  // Optional: what the agent sees, where a rollout provides it (agents::Arena): the current
  // frames and the reward of the last tick, true ones or, in the arena's dream mode, the
  // model's predictions. PlannerPolicy (planner_policy.hpp) plans from them; the scripted
  // policies do not read them.
  std::span<const std::uint8_t> frames = {};  // [N, H, W, 3] u8
  int height = 0, width = 0;                  // H, W of `frames`
  std::span<const float> rewards = {};        // [N] f32
};

class Policy {
 public:
  virtual ~Policy() = default;
  // Starts a new episode in env `env` (0 <= env < N), whose reset seed was `seed`.
  virtual void reset(int env, std::uint64_t seed) = 0;
  // Fills `actions` [N, A] with values in [-1, 1] for the current state of every env.
  virtual void act(const PolicyInput& in, std::span<float> actions) = 0;
};

// kind: "random" | "expert" | "noisy" | "decoy" | "rush". An unknown kind, expert/noisy/decoy/
// rush for a scene without a scripted expert, or decoy/rush for one without markers, throws
// std::invalid_argument naming it (and listing what exists).
std::unique_ptr<Policy> make_policy(const std::string& kind,
                                    std::shared_ptr<const sim::SceneModel> scene, int num_envs,
                                    std::uint64_t seed);

// One action [A] of a single-env policy (num_envs 1) from one world's true state: gathers the
// world's poses, markers, velocities and joint states into a PolicyInput and calls act().
// `frame` [H, W, 3] u8, when given, is what the agent sees (PolicyInput frames; a planner needs
// it).
void act_on_world(Policy& policy, const sim::World& world, std::span<float> action,
                  std::span<const std::uint8_t> frame = {}, int height = 0, int width = 0);

// The reference policy kinds of `scene` ("random" always; "expert", "noisy" where scripted):
// the default policies of evaluation sets (fidelity, evaluate).
std::vector<std::string> policy_kinds(const sim::SceneModel& scene);
// Every kind make_policy() accepts for `scene`: policy_kinds() and, with an expert and markers,
// the data policies "decoy" and "rush".
std::vector<std::string> all_policy_kinds(const sim::SceneModel& scene);

}  // namespace parallax::agents
