// Approach limit (approach_limit.hpp).
#include "parallax/agents/approach_limit.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace parallax::agents {

ApproachLimit ApproachLimit::from_scene(const sim::SceneModel& scene, double radius, double floor) {
  auto refuse = [&](const std::string& why) {
    throw std::invalid_argument("approach limit: scene '" + scene.name + "': " + why);
  };
  if (!std::isfinite(radius) || radius <= 0.0)
    refuse("the radius must be a finite distance > 0 (m), got " + std::to_string(radius));
  if (!std::isfinite(floor) || floor <= 0.0 || floor > 1.0)
    refuse("the floor must be a fraction in (0, 1], got " + std::to_string(floor));
  auto task = TaskGoal::from_scene(scene);
  if (!task) refuse("no success term names a body as its body a (no goal to approach)");
  ApproachLimit a;
  a.radius = radius;
  a.floor = floor;
  a.task = std::move(*task);
  return a;
}

double ApproachLimit::fraction(double distance) const {
  if (!std::isfinite(distance)) return 1.0;
  return std::clamp(distance / radius, floor, 1.0);
}

double ApproachLimit::fraction(std::span<const float> poses, std::span<const float> markers) const {
  return fraction(task.distance(poses, markers));
}

}  // namespace parallax::agents
