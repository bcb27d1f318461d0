// Reach shaping: a dense planning term that leads the agent's own body to the body its task
// moves.
//
// Push's reward, -|cube - goal| and a success bonus, does not change until the pusher touches
// the cube: every plan that misses the cube has the same return, in Bullet and in the dream
// alike. A planner whose candidates all miss sees a flat landscape and wanders (push.md "Round
// 21": in the dream's failed episodes no candidate of any decision touched the cube, and the
// pusher drove off the table). Reach shaping adds, per step and to the plan's score only,
//
//     r_reach = -weight * |p_driven - p_target|  over x and y (m),
//
// where `driven` is the body the first actuator moves directly (push: the pusher under its
// planar_velocity actuator) and `target` is body a of the scene's first success term that is
// another body (push: the cube). Bullet still judges every episode with the scene's own reward;
// only the planner's objective changes, in both worlds the same way (the oracle with it is the
// oracle of the same objective). Reference: docs/agents.md, "Reach shaping".
#pragma once

#include <span>
#include <string>

#include "parallax/sim/scene.hpp"

namespace parallax::agents {

struct ReachShaping {
  double weight = 0;             // > 0; the term is -weight x distance
  int driven = -1, target = -1;  // body indices in the scene
  std::string driven_name, target_name;

  // Throws std::invalid_argument naming the scene when the weight is not a finite number > 0,
  // no actuator drives a body directly (joint actuators: reacher), or no success term names
  // another body as its body a.
  static ReachShaping from_scene(const sim::SceneModel& scene, double weight);

  // The term on the bodies' poses [bodies, 7] (x, y, z, qx, qy, qz, qw per body, scene order).
  double reward(std::span<const float> poses) const;

  // The scene with the term appended to its reward as a distance term (driven to target, x and
  // y, weight -weight): for rewards evaluated on predicted positions (PoseReward). Worlds keep
  // the scene itself (a snapshot's layout counts the reward terms).
  sim::SceneModel add_to(const sim::SceneModel& scene) const;
};

}  // namespace parallax::agents
