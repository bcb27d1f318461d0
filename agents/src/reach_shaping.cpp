// Reach shaping for planners (reach_shaping.hpp).
#include "parallax/agents/reach_shaping.hpp"

#include <cmath>
#include <stdexcept>

namespace parallax::agents {

ReachShaping ReachShaping::from_scene(const sim::SceneModel& scene, double weight, double behind) {
  auto refuse = [&](const std::string& why) {
    throw std::invalid_argument("reach shaping: scene '" + scene.name + "': " + why);
  };
  if (!std::isfinite(weight) || weight <= 0.0)
    refuse("the weight must be a finite number > 0, got " + std::to_string(weight));
  if (!std::isfinite(behind) || behind < 0.0)
    refuse("the distance behind the target must be a finite number >= 0 (m), got " +
           std::to_string(behind));
  ReachShaping s;
  s.weight = weight;
  s.behind = behind;
  for (const auto& act : scene.actuators) {
    if (act.body.empty()) continue;
    s.driven = scene.body_index(act.body);
    if (s.driven >= 0) {
      s.driven_name = act.body;
      break;
    }
  }
  if (s.driven < 0) refuse("no actuator drives a body directly (joint actuators only)");
  if (auto task = TaskGoal::from_scene(scene, s.driven_name))
    static_cast<TaskGoal&>(s) = std::move(*task);
  if (s.target < 0)
    refuse("no success term names a body other than '" + s.driven_name + "' as its body a");
  return s;
}

std::array<double, 2> reach_point(double tx, double ty, double gx, double gy, double behind) {
  const double ux = tx - gx, uy = ty - gy, n = std::sqrt(ux * ux + uy * uy);
  if (behind <= 0.0 || n < 1e-9) return {tx, ty};
  return {tx + behind * ux / n, ty + behind * uy / n};
}

double ReachShaping::reward(std::span<const float> poses, std::span<const float> markers) const {
  std::array<double, 2> p{poses[7 * target], poses[7 * target + 1]};
  if (behind > 0.0) {
    const auto g = goal_xy(poses, markers);
    p = reach_point(p[0], p[1], g[0], g[1], behind);
  }
  const double dx = poses[7 * driven] - p[0], dy = poses[7 * driven + 1] - p[1];
  return -weight * std::sqrt(dx * dx + dy * dy);
}

}  // namespace parallax::agents
