// Reach shaping for planners (reach_shaping.hpp).
#include "parallax/agents/reach_shaping.hpp"

#include <cmath>
#include <stdexcept>

namespace parallax::agents {

ReachShaping ReachShaping::from_scene(const sim::SceneModel& scene, double weight) {
  auto refuse = [&](const std::string& why) {
    throw std::invalid_argument("reach shaping: scene '" + scene.name + "': " + why);
  };
  if (!std::isfinite(weight) || weight <= 0.0)
    refuse("the weight must be a finite number > 0, got " + std::to_string(weight));
  ReachShaping s;
  s.weight = weight;
  for (const auto& act : scene.actuators) {
    if (act.body.empty()) continue;
    s.driven = scene.body_index(act.body);
    if (s.driven >= 0) {
      s.driven_name = act.body;
      break;
    }
  }
  if (s.driven < 0) refuse("no actuator drives a body directly (joint actuators only)");
  for (const auto& t : scene.reward) {
    if (t.type != sim::RewardType::kSuccess || t.a == s.driven_name) continue;
    const int b = scene.body_index(t.a);
    if (b < 0) continue;
    s.target = b;
    s.target_name = t.a;
    break;
  }
  if (s.target < 0)
    refuse("no success term names a body other than '" + s.driven_name + "' as its body a");
  return s;
}

double ReachShaping::reward(std::span<const float> poses) const {
  const double dx = static_cast<double>(poses[7 * driven]) - poses[7 * target];
  const double dy = static_cast<double>(poses[7 * driven + 1]) - poses[7 * target + 1];
  return -weight * std::sqrt(dx * dx + dy * dy);
}

sim::SceneModel ReachShaping::add_to(const sim::SceneModel& scene) const {
  sim::SceneModel out = scene;
  sim::RewardTerm term;
  term.type = sim::RewardType::kDistance;
  term.a = driven_name;
  term.b = target_name;
  term.axes = {true, true, false};
  term.weight = -weight;
  out.reward.push_back(term);
  return out;
}

}  // namespace parallax::agents
