// The scene's reward on predicted body positions (pose_reward.hpp).
#include "parallax/agents/pose_reward.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <stdexcept>

namespace parallax::agents {

PoseReward::PoseReward(const sim::SceneModel& scene, const std::vector<std::string>& pose_bodies,
                       const ReachShaping* reach)
    : markers_(scene.markers.size() * 3, 0.0f), scene_(scene.name) {
  auto refuse = [&](std::size_t r, const std::string& why) {
    throw std::invalid_argument("reward from poses: scene '" + scene.name + "' " +
                                (r < scene.reward.size() ? "reward[" + std::to_string(r) + "] (" +
                                                               to_string(scene.reward[r].type) + ")"
                                                         : std::string("reach shaping")) +
                                ": " + why);
  };
  auto point = [&](std::size_t r, const std::string& name) {
    Point p;
    const auto it = std::find(pose_bodies.begin(), pose_bodies.end(), name);
    if (it != pose_bodies.end()) {
      p.pose = static_cast<int>(it - pose_bodies.begin());
    } else if (scene.marker_index(name) >= 0) {
      p.marker = scene.marker_index(name);
      markers_needed_ = std::max<std::size_t>(markers_needed_, p.marker + 1);
    } else {
      std::string have;
      for (const auto& b : pose_bodies) have += (have.empty() ? "" : ", ") + b;
      refuse(r, "'" + name + "' is neither a body the model predicts (pose bodies: " +
                    (have.empty() ? "none" : have) + ") nor a marker");
    }
    return p;
  };
  for (std::size_t r = 0; r < scene.reward.size(); ++r) {
    const auto& t = scene.reward[r];
    if (t.type != sim::RewardType::kDistance && t.type != sim::RewardType::kSuccess)
      refuse(r, "only distance and success terms can be evaluated on positions");
    if (t.axes[2]) refuse(r, "its axes include z; the model predicts x and y");
    if (t.offset_a[0] != 0.0 || t.offset_a[1] != 0.0 || t.offset_a[2] != 0.0)
      refuse(r, "a point offset on body a needs the body's orientation");
    Term term;
    term.success = t.type == sim::RewardType::kSuccess;
    term.a = point(r, t.a);
    if (t.point) {
      term.b.fixed[0] = static_cast<float>((*t.point)[0]);
      term.b.fixed[1] = static_cast<float>((*t.point)[1]);
    } else {
      term.b = point(r, t.b);
    }
    term.ax = t.axes[0], term.ay = t.axes[1];
    term.weight = t.weight, term.within = t.within, term.bonus = t.bonus;
    term.terminate = t.terminate;
    if (term.success) term.slot = static_cast<int>(success_terms_++);
    terms_.push_back(term);
  }
  if (reach) {
    const std::size_t r = scene.reward.size();  // names the term "reach shaping" in errors
    Term term;
    term.a = point(r, reach->driven_name);
    term.b = point(r, reach->target_name);
    term.weight = -reach->weight;
    term.behind = reach->behind;
    if (term.behind > 0.0) {
      if (reach->goal_name.empty()) {
        term.goal.fixed[0] = static_cast<float>(reach->goal_point[0]);
        term.goal.fixed[1] = static_cast<float>(reach->goal_point[1]);
      } else {
        term.goal = point(r, reach->goal_name);
      }
    }
    terms_.push_back(term);
  }
}

void PoseReward::set_markers(std::span<const float> m) {
  if (m.size() != markers_.size())
    throw std::invalid_argument("reward from poses: scene '" + scene_ + "' has " +
                                std::to_string(markers_.size() / 3) + " markers, got " +
                                std::to_string(m.size()) + " floats");
  std::copy(m.begin(), m.end(), markers_.begin());
}

void PoseReward::xy_of(const Point& p, std::span<const float> xy, float out[2]) const {
  if (p.pose >= 0) {
    out[0] = xy[2 * p.pose], out[1] = xy[2 * p.pose + 1];
  } else if (p.marker >= 0) {
    out[0] = markers_[3 * p.marker], out[1] = markers_[3 * p.marker + 1];
  } else {
    out[0] = p.fixed[0], out[1] = p.fixed[1];
  }
}

double PoseReward::evaluate(std::span<const float> xy, std::span<std::uint8_t> fired,
                            bool& terminated) const {
  double reward = 0;
  for (const auto& t : terms_) {
    float pa[2], pb[2];
    xy_of(t.a, xy, pa);
    xy_of(t.b, xy, pb);
    std::array<double, 2> b{pb[0], pb[1]};
    if (t.behind > 0.0) {
      float pg[2];
      xy_of(t.goal, xy, pg);
      b = reach_point(b[0], b[1], pg[0], pg[1], t.behind);
    }
    const double dx = t.ax ? pa[0] - b[0] : 0.0;
    const double dy = t.ay ? pa[1] - b[1] : 0.0;
    const double d = std::sqrt(dx * dx + dy * dy);
    if (!t.success) {
      reward += t.weight * d;
    } else if (d < t.within) {
      if (!fired[t.slot]) reward += t.bonus;
      fired[t.slot] = 1;
      if (t.terminate) terminated = true;
    }
  }
  return reward;
}

}  // namespace parallax::agents
