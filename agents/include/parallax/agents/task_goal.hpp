// The task a scene's success term sets: which body must reach which goal (push: the cube onto
// the goal marker), and where that goal lies in a given state. Shared by the planners' shaping
// terms (reach_shaping.hpp) and the approach limit (approach_limit.hpp), which all need to know
// where the task's body stands relative to its goal.
#pragma once

#include <array>
#include <optional>
#include <span>
#include <string>

#include "parallax/sim/scene.hpp"

namespace parallax::agents {

struct TaskGoal {
  int target = -1;  // body index in the scene: the first success term's body a
  std::string target_name;
  // The goal of that term (its b), one of: a body, a marker, a fixed point.
  int goal_body = -1, goal_marker = -1;
  std::array<double, 2> goal_point{0, 0};
  std::string goal_name;  // empty for a fixed point

  // The first success term whose body a is a scene body other than `exclude`; nullopt when
  // there is none (cartpole; reacher's terms name a point on a link, not a body).
  static std::optional<TaskGoal> from_scene(const sim::SceneModel& scene,
                                            const std::string& exclude = "");

  // The goal's x, y in a state: the bodies' poses [bodies, 7] (x, y, z, qx, qy, qz, qw per body,
  // scene order) and the markers [M, 3]. Throws std::invalid_argument naming the marker when the
  // goal is a marker and `markers` does not hold it.
  std::array<double, 2> goal_xy(std::span<const float> poses, std::span<const float> markers) const;
  // The x, y distance from the target to the goal (m).
  double distance(std::span<const float> poses, std::span<const float> markers) const;
};

}  // namespace parallax::agents
