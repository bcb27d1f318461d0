// The task a scene's success term sets (task_goal.hpp).
#include "parallax/agents/task_goal.hpp"

#include <cmath>
#include <stdexcept>

namespace parallax::agents {

std::optional<TaskGoal> TaskGoal::from_scene(const sim::SceneModel& scene,
                                             const std::string& exclude) {
  for (const auto& t : scene.reward) {
    if (t.type != sim::RewardType::kSuccess || t.a == exclude) continue;
    const int b = scene.body_index(t.a);
    if (b < 0) continue;
    TaskGoal g;
    g.target = b;
    g.target_name = t.a;
    if (t.point) {
      g.goal_point = {(*t.point)[0], (*t.point)[1]};
    } else {
      g.goal_name = t.b;
      g.goal_body = scene.body_index(t.b);
      g.goal_marker = scene.marker_index(t.b);
    }
    return g;
  }
  return std::nullopt;
}

std::array<double, 2> TaskGoal::goal_xy(std::span<const float> poses,
                                        std::span<const float> markers) const {
  if (goal_body >= 0) return {poses[7 * goal_body], poses[7 * goal_body + 1]};
  if (goal_marker >= 0) {
    if (markers.size() < 3 * static_cast<std::size_t>(goal_marker) + 2)
      throw std::invalid_argument("task goal: the goal marker '" + goal_name +
                                  "' needs the markers' positions");
    return {markers[3 * goal_marker], markers[3 * goal_marker + 1]};
  }
  return goal_point;
}

double TaskGoal::distance(std::span<const float> poses, std::span<const float> markers) const {
  const auto g = goal_xy(poses, markers);
  const double dx = poses[7 * target] - g[0], dy = poses[7 * target + 1] - g[1];
  return std::sqrt(dx * dx + dy * dy);
}

}  // namespace parallax::agents
