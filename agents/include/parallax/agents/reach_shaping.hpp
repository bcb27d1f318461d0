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
// another body (push: the cube). With `behind` = d > 0 the point to reach is not the target's
// centre but the point d behind it on the line from the term's goal (its b: push's goal marker)
// through the target,
//
//     p_target' = p_target + d * unit(p_target - p_goal),
//
// where push's expert stands to push the cube straight onto the goal (the data the models were
// trained on is full of it): a pusher in front of or beside the cube is drawn round it, one that
// pushes from behind stays on the target point as the cube moves. Bullet still judges every episode
// with the scene's own reward; only the planner's objective changes, in both worlds the same way
// (the oracle with it is the oracle of the same objective). Reference: docs/agents.md, "Reach
// shaping".
#pragma once

#include <array>
#include <span>
#include <string>

#include "parallax/agents/task_goal.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::agents {

// The target and its goal (TaskGoal's fields): the first success term whose body a is not the
// driven body.
struct ReachShaping : TaskGoal {
  double weight = 0;  // > 0; the term is -weight x distance
  double behind = 0;  // m >= 0: the point to reach lies this far behind the target
  int driven = -1;    // body index in the scene
  std::string driven_name;

  // Throws std::invalid_argument naming the scene when the weight is not a finite number > 0,
  // `behind` is not a finite distance >= 0, no actuator drives a body directly (joint actuators:
  // reacher), or no success term names another body as its body a.
  static ReachShaping from_scene(const sim::SceneModel& scene, double weight, double behind = 0);

  // The term on the bodies' poses [bodies, 7] (x, y, z, qx, qy, qz, qw per body, scene order)
  // and the markers [M, 3] (needed when behind > 0 and the goal is a marker).
  double reward(std::span<const float> poses, std::span<const float> markers = {}) const;
};

// The point to reach on x, y: `behind` metres past the target on the line from the goal through
// it (the target itself when behind is 0 or the target sits on the goal).
std::array<double, 2> reach_point(double target_x, double target_y, double goal_x, double goal_y,
                                  double behind);

}  // namespace parallax::agents
