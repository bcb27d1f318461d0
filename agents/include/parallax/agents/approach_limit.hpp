// Approach limit: the planner's actions slow down as the task's body nears its goal.
//
// Push's failures in the dream (push.md "Round 22") are pushes at full speed that carry the cube
// past a goal near the view's edge: 5 ticks at the pusher's top speed move it up to 8 cm, while
// success needs it within 5 cm, and a cube beyond the view cannot be recovered in the dream.
// Push's expert, whose episodes the models were trained on, slows down near the goal (its speed
// is proportional to the cube-goal distance). With an approach limit, at each decision the
// planner's action limit (PlannerOptions::action_limit, here `base`) becomes
//
//     base * clamp(d / radius, floor, 1),
//
// where d is the x, y distance from the task's body to its goal (TaskGoal: push's cube and goal
// marker) as the planner's world perceives it at the decision: Bullet's state for the oracle, the
// root frame's reading for the dream (DreamPlanModel::root_position; a body the frame does not
// show leaves the limit at `base`). Every plan and the warm start are clamped to it, so that the
// last pushes are short and a decision every few ticks corrects them. Bullet still judges every
// episode with the scene's reward; the oracle with the limit is the oracle of the same planner.
// Reference: docs/agents.md, "Approach limit".
#pragma once

#include <span>

#include "parallax/agents/task_goal.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::agents {

struct ApproachLimit {
  double radius = 0;  // m > 0: at or beyond this distance the full limit
  double floor = 1;   // (0, 1]: the fraction of the limit kept at the goal
  TaskGoal task;

  // Throws std::invalid_argument naming the scene when the radius is not a finite distance > 0,
  // the floor is not in (0, 1], or no success term names a body as its body a.
  static ApproachLimit from_scene(const sim::SceneModel& scene, double radius, double floor);

  // The fraction of the action limit at a distance d (m) from the goal: clamp(d / radius, floor,
  // 1); a distance that is not finite (unknown) gives 1.
  double fraction(double distance) const;
  // The same for a state: the bodies' poses [bodies, 7] and the markers [M, 3] (TaskGoal).
  double fraction(std::span<const float> poses, std::span<const float> markers) const;
};

}  // namespace parallax::agents
