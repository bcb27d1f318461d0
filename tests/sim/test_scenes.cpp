// Shipped scenes: each loads, and its reward is meaningful: a simple hand-written controller
// earns clearly more return than zero and random actions over the same seeds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>
#include <iostream>

#include "sim_test_util.hpp"

using namespace parallax::sim;
using namespace parallax::sim::test;

namespace {

using Controller = std::function<void(const World&, std::span<float>)>;

struct Obs {
  std::vector<float> pose, vel, marker, joint;  // [K,7] [K,6] [M,3] [J,2]
  explicit Obs(const World& w)
      : pose(w.scene().bodies.size() * 7),
        vel(w.scene().bodies.size() * 6),
        marker(w.scene().markers.size() * 3),
        joint(w.scene().joints.size() * 2) {
    w.poses(pose), w.velocities(vel), w.marker_positions(marker), w.joint_states(joint);
  }
  const float* p(const World& w, const char* body) const {
    return &pose[static_cast<std::size_t>(w.scene().body_index(body)) * 7];
  }
  const float* v(const World& w, const char* body) const {
    return &vel[static_cast<std::size_t>(w.scene().body_index(body)) * 6];
  }
  const float* m(const World& w, const char* name) const {
    return &marker[static_cast<std::size_t>(w.scene().marker_index(name)) * 3];
  }
};

float clip1(double x) {
  return static_cast<float>(std::clamp(x, -1.0, 1.0));
}

// Mean undiscounted return of one episode per seed.
double mean_return(const std::string& name, const Controller& ctrl, int seeds) {
  auto scene = shipped(name);
  double total = 0;
  for (int s = 0; s < seeds; ++s) {
    World w(scene, 1000 + static_cast<std::uint64_t>(s));
    std::vector<float> act(static_cast<std::size_t>(scene->action_size()));
    for (;;) {
      ctrl(w, act);
      StepResult r = w.step(act);
      total += r.reward;
      if (r.terminated || r.truncated) break;
    }
  }
  return total / seeds;
}

Controller zero_ctrl() {
  return [](const World&, std::span<float> a) { std::fill(a.begin(), a.end(), 0.0f); };
}
Controller random_ctrl() {
  auto rng = std::make_shared<std::mt19937_64>(77);
  return [rng](const World&, std::span<float> a) { random_actions(*rng, a); };
}

// Planar "get behind the object, then push it toward the goal" for push and tower.
void push_behind(const float* obj, const float* goal, const float* pusher, double stand_off,
                 double max_speed, std::span<float> a) {
  double dx = goal[0] - obj[0], dy = goal[1] - obj[1];
  double n = std::hypot(dx, dy) + 1e-9;
  dx /= n, dy /= n;
  double bx = obj[0] - dx * stand_off, by = obj[1] - dy * stand_off;  // behind the object
  double rx = pusher[0] - obj[0], ry = pusher[1] - obj[1];
  double along = rx * dx + ry * dy, across = -rx * dy + ry * dx;
  double tx, ty;
  if (along < -0.7 * stand_off && std::abs(across) < 0.02) {
    tx = obj[0] + dx * 0.1, ty = obj[1] + dy * 0.1;  // aligned behind: push through
  } else if (along > -0.7 * stand_off && std::abs(across) < stand_off) {
    // In front or beside: go around, sideways first.
    double side = across >= 0 ? 1 : -1;
    tx = obj[0] - dx * stand_off * 1.2 - dy * side * stand_off * 1.5;
    ty = obj[1] - dy * stand_off * 1.2 + dx * side * stand_off * 1.5;
  } else {
    tx = bx, ty = by;
  }
  a[0] = clip1((tx - pusher[0]) * 10 / max_speed);
  a[1] = clip1((ty - pusher[1]) * 10 / max_speed);
}

Controller push_ctrl() {
  return [](const World& w, std::span<float> a) {
    Obs o(w);
    push_behind(o.p(w, "cube"), o.m(w, "goal"), o.p(w, "pusher"), 0.08, 0.5, a);
  };
}

Controller tower_ctrl() {
  // Drive the paddle through the tower's base, along +x.
  return [](const World& w, std::span<float> a) {
    Obs o(w);
    const float* p = o.p(w, "paddle");
    const float* b = o.p(w, "block1");
    a[0] = clip1(p[0] < b[0] + 0.2 ? 1.0 : 0.0);
    a[1] = clip1((b[1] - p[1]) * 20);
  };
}

Controller billiards_ctrl() {
  // Force on the cue ball: velocity tracking of the push_behind target.
  return [](const World& w, std::span<float> a) {
    Obs o(w);
    const float* cue = o.p(w, "cue");
    const float* vc = o.v(w, "cue");
    float target_vel[2];
    push_behind(o.p(w, "red"), o.m(w, "pocket"), cue, 0.07, 0.6, target_vel);
    for (int i = 0; i < 2; ++i) a[i] = clip1((target_vel[i] * 0.6 - vc[i]) * 2.0);
  };
}

Controller cartpole_ctrl() {
  // Energy pumping for the swing-up, a PD balance near upright, and a spring to the centre.
  return [](const World& w, std::span<float> a) {
    Obs o(w);
    double x = o.joint[0], xd = o.joint[1], th = o.joint[2], thd = o.joint[3];
    const double m = 0.1, l = 0.25, I = m * (0.04 * 0.04 + 0.5 * 0.5) / 12 + m * l * l;
    double energy = 0.5 * I * thd * thd + m * 9.81 * l * (std::cos(th) - 1);  // 0 at upright
    double u;
    if (std::cos(th) > 0.85) {
      double wrapped = std::atan2(std::sin(th), std::cos(th));
      u = 60 * wrapped + 10 * thd + 3 * x + 4 * xd;  // push the cart under the pole
    } else {
      u = 160 * energy * (thd * std::cos(th) >= 0 ? 1 : -1) - 2 * x - 1 * xd;
    }
    a[0] = clip1(u / 15.0);
  };
}

Controller reacher_ctrl() {
  // Two-link inverse kinematics, then proportional joint-velocity control.
  return [](const World& w, std::span<float> a) {
    Obs o(w);
    const double l1 = 0.15, l2 = 0.15;
    const float* t = o.m(w, "target");
    double r2 = t[0] * t[0] + t[1] * t[1];
    double c2 = std::clamp((r2 - l1 * l1 - l2 * l2) / (2 * l1 * l2), -1.0, 1.0);
    double q2 = std::acos(c2);
    double q1 = std::atan2(t[1], t[0]) - std::atan2(l2 * std::sin(q2), l1 + l2 * std::cos(q2));
    auto wrap = [](double x) { return std::atan2(std::sin(x), std::cos(x)); };
    a[0] = clip1(wrap(q1 - o.joint[0]) * 8 / 4.0);
    a[1] = clip1(wrap(q2 - o.joint[2]) * 8 / 4.0);
  };
}

void check_scene(const std::string& name, const Controller& ctrl) {
  const int seeds = 6;
  double r_zero = mean_return(name, zero_ctrl(), seeds);
  double r_rand = mean_return(name, random_ctrl(), seeds);
  double r_ctrl = mean_return(name, ctrl, seeds);
  std::cout << name << ": mean return zero " << r_zero << ", random " << r_rand << ", controller "
            << r_ctrl << "\n";
  INFO(name << ": zero " << r_zero << ", random " << r_rand << ", controller " << r_ctrl);
  double best_other = std::max(r_zero, r_rand);
  // "Clearly more": better by at least 20 % of the baseline's magnitude (and 1 reward unit).
  CHECK(r_ctrl > best_other + std::max(1.0, 0.2 * std::abs(best_other)));
}

}  // namespace

TEST_CASE("shipped scenes load and list", "[scenes]") {
  auto names = shipped_scenes();
  CHECK(names == std::vector<std::string>{"billiards", "cartpole", "push", "reacher", "tower"});
  for (const auto& n : names) {
    auto s = shipped(n);
    CHECK(s->name == n);
    CHECK(!s->description.empty());
    CHECK(s->camera.width == 64);
    CHECK(s->camera.height == 64);
    CHECK(s->action_size() >= 1);
  }
}

TEST_CASE("push: controller beats zero and random", "[scenes][reward]") {
  check_scene("push", push_ctrl());
}
TEST_CASE("billiards: controller beats zero and random", "[scenes][reward]") {
  check_scene("billiards", billiards_ctrl());
}
TEST_CASE("tower: controller beats zero and random", "[scenes][reward]") {
  check_scene("tower", tower_ctrl());
}
TEST_CASE("cartpole: controller beats zero and random", "[scenes][reward]") {
  check_scene("cartpole", cartpole_ctrl());
}
TEST_CASE("reacher: controller beats zero and random", "[scenes][reward]") {
  check_scene("reacher", reacher_ctrl());
}
