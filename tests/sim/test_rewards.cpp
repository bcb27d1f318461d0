// Every reward term and termination of the scene format (assets/scenes/README.md), each on a
// hand-built state, against its formula. The expected values are computed here from the state
// the World reports after the step (poses, velocities, joint states) with the README's formula,
// and from the hand-placed numbers themselves (which no force moves: no gravity unless said).
#include <catch2/catch.hpp>
#include <cmath>
#include <string>
#include <vector>

#include "sim_test_util.hpp"

using namespace parallax::sim;
using namespace parallax::sim::test;

namespace {

// Bodies of the hand-built state, no gravity, one physics step per control step (1/240 s).
//   a: sphere at (0.3, 0.4, 0.7), turned 90 degrees about z (its local +x is world +y)
//   b: sphere at (-0.1, 0.1, 0.2)
//   v: sphere at (2, 2, 2) moving at (3, 4, 12) m/s (speed 13)
//   arm: a box on a hinge about world y through (0, -1, 1), started at joint position `angle`
//   marker m at (0.5, -0.2, 0)
std::string scene_with(const std::string& extra, double angle = 0.5, int episode_steps = 100) {
  return R"({"name": "rewards", "physics_hz": 240, "control_hz": 240, "gravity": [0, 0, 0],
    "episode_steps": )" +
         std::to_string(episode_steps) + R"(,
    "bodies": [
      {"name": "a", "shape": "sphere", "radius": 0.05, "mass": 1.0, "position": [0.3, 0.4, 0.7],
       "rpy_deg": [0, 0, 90]},
      {"name": "b", "shape": "sphere", "radius": 0.05, "mass": 1.0, "position": [-0.1, 0.1, 0.2]},
      {"name": "v", "shape": "sphere", "radius": 0.05, "mass": 1.0, "position": [2, 2, 2],
       "linear_velocity": [3, 4, 12]},
      {"name": "arm", "shape": "box", "half_extents": [0.02, 0.02, 0.1], "mass": 1.0,
       "position": [0, -1, 0.9]}],
    "markers": [{"name": "m", "radius": 0.05, "position": [0.5, -0.2, 0]}],
    "joints": [{"name": "hinge", "type": "hinge", "body_b": "arm", "pivot": [0, -1, 1],
                "axis": [0, 1, 0], "randomize": {"position": {"low": )" +
         std::to_string(angle) + R"(, "high": )" + std::to_string(angle) + R"(}}}],
    )" + extra +
         "}";
}

struct Observed {
  StepResult result;
  std::vector<float> poses;   // [4, 7]
  std::vector<float> vel;     // [4, 6]
  std::vector<float> joints;  // [1, 2]
};

Observed step_once(World& w) {
  Observed o;
  o.result = w.step({});
  o.poses = poses_of(w);
  o.vel = velocities_of(w);
  o.joints.resize(2);
  w.joint_states(o.joints);
  return o;
}

Observed one_step(const std::string& extra, double angle = 0.5) {
  World w(inline_scene(scene_with(extra, angle)), 0);
  return step_once(w);
}

double norm3(double x, double y, double z) {
  return std::sqrt(x * x + y * y + z * z);
}

}  // namespace

TEST_CASE("reward distance: weight times the distance between two bodies over xyz",
          "[world][reward]") {
  auto o = one_step(R"("reward": [{"type": "distance", "a": "a", "b": "b", "weight": -2.0}])");
  const float* pa = &o.poses[0];
  const float* pb = &o.poses[7];
  const double d = norm3(pa[0] - pb[0], pa[1] - pb[1], pa[2] - pb[2]);
  CHECK(o.result.reward == Approx(-2.0 * d).epsilon(1e-5));
  CHECK(o.result.reward == Approx(-2.0 * norm3(0.4, 0.3, 0.5)).epsilon(1e-5));  // as placed
  CHECK_FALSE(o.result.terminated);
  CHECK_FALSE(o.result.truncated);
}

TEST_CASE("reward distance: offset on body a in its own frame and axes xy to a point",
          "[world][reward]") {
  // a is turned 90 degrees about z: its local offset (0.1, 0, 0) is world (0, 0.1, 0), so the
  // point on a is (0.3, 0.5, 0.7); the xy distance to (0, 0.1, 5) is |(0.3, 0.4)| = 0.5 (z
  // ignored).
  auto o = one_step(R"("reward": [{"type": "distance", "a": "a", "offset_a": [0.1, 0, 0],
                                   "point": [0, 0.1, 5], "axes": "xy", "weight": 0.5}])");
  const float* pa = &o.poses[0];
  CHECK(o.result.reward == Approx(0.5 * std::hypot(pa[0] - 0.0, pa[1] + 0.1 - 0.1)).epsilon(1e-5));
  CHECK(o.result.reward == Approx(0.5 * 0.5).epsilon(1e-5));
}

TEST_CASE("reward distance: to a marker over the chosen axes z only", "[world][reward]") {
  auto o = one_step(
      R"("reward": [{"type": "distance", "a": "a", "b": "m", "axes": "z", "weight": 1.5}])");
  CHECK(o.result.reward == Approx(1.5 * std::abs(o.poses[2] - 0.0)).epsilon(1e-5));
  CHECK(o.result.reward == Approx(1.5 * 0.7).epsilon(1e-5));
  auto xy = one_step(
      R"("reward": [{"type": "distance", "a": "b", "b": "m", "axes": "xy", "weight": 1}])");
  CHECK(xy.result.reward == Approx(std::hypot(-0.1 - 0.5, 0.1 + 0.2)).epsilon(1e-5));
}

TEST_CASE("reward height: weight times z of the body", "[world][reward]") {
  auto o = one_step(R"("reward": [{"type": "height", "a": "a", "weight": 3.0}])");
  CHECK(o.result.reward == Approx(3.0 * o.poses[2]).epsilon(1e-6));
  CHECK(o.result.reward == Approx(3.0 * 0.7).epsilon(1e-6));
}

TEST_CASE("reward joint_cos: weight times the cosine of the hinge angle", "[world][reward]") {
  auto o = one_step(R"("reward": [{"type": "joint_cos", "joint": "hinge", "weight": -1.5}])", 0.5);
  CHECK(o.joints[0] == Approx(0.5).margin(1e-4));
  CHECK(o.result.reward == Approx(-1.5 * std::cos(o.joints[0])).epsilon(1e-5));
  auto flipped =
      one_step(R"("reward": [{"type": "joint_cos", "joint": "hinge", "weight": -1.5}])", 2.5);
  CHECK(flipped.result.reward == Approx(-1.5 * std::cos(2.5)).epsilon(1e-4));  // cos < 0
}

TEST_CASE("reward velocity: weight times the speed of the body", "[world][reward]") {
  auto o = one_step(R"("reward": [{"type": "velocity", "a": "v", "weight": 0.25}])");
  const float* v = &o.vel[12];
  CHECK(o.result.reward == Approx(0.25 * norm3(v[0], v[1], v[2])).epsilon(1e-6));
  CHECK(o.result.reward == Approx(0.25 * 13.0).epsilon(1e-6));  // |(3, 4, 12)| = 13 m/s
}

TEST_CASE("reward contact: weight only while the two bodies touch", "[world][reward]") {
  // Under gravity: `low` rests on the floor, `high` falls from 0.5 m (no contact yet).
  auto scene = inline_scene(R"({"name": "contact", "physics_hz": 240, "control_hz": 240,
    "bodies": [
      {"name": "floor", "shape": "plane"},
      {"name": "low", "shape": "box", "half_extents": [0.05, 0.05, 0.05], "mass": 1.0,
       "position": [0, 0, 0.05]},
      {"name": "high", "shape": "box", "half_extents": [0.05, 0.05, 0.05], "mass": 1.0,
       "position": [1, 0, 0.5]}],
    "reward": [{"type": "contact", "a": "low", "b": "floor", "weight": 1.0},
               {"type": "contact", "a": "high", "b": "floor", "weight": 10.0},
               {"type": "contact", "a": "low", "b": "high", "weight": 100.0}]})");
  World w(scene, 0);
  CHECK(w.step({}).reward == 1.0f);  // only low touches the floor
  // high lands after sqrt(2 * 0.45 / 9.81) = 0.30 s = 72 steps; then both touch the floor.
  float last = 0;
  for (int t = 0; t < 120; ++t) last = w.step({}).reward;
  CHECK(last == 11.0f);
}

TEST_CASE("reward success: the bonus once per episode below `within` and terminate",
          "[world][reward][termination]") {
  // a to the point (0.3, 0.43, 0.7): 0.03 m away, within 0.05.
  const std::string near =
      R"("reward": [{"type": "success", "a": "a", "point": [0.3, 0.43, 0.7], "within": 0.05,
                     "bonus": 7.0}])";
  World w(inline_scene(scene_with(near)), 0);
  auto first = w.step({});
  CHECK(first.reward == 7.0f);
  CHECK_FALSE(first.terminated);
  CHECK(w.step({}).reward == 0.0f);  // once per episode
  w.reset(0);
  CHECK(w.step({}).reward == 7.0f);  // a new episode pays again
  // Outside `within` (0.03 m away, within 0.02): nothing.
  auto far = one_step(R"("reward": [{"type": "success", "a": "a", "point": [0.3, 0.43, 0.7],
                                     "within": 0.02, "bonus": 7.0, "terminate": true}])");
  CHECK(far.result.reward == 0.0f);
  CHECK_FALSE(far.result.terminated);
  // With terminate: the bonus and the end of the episode.
  auto done = one_step(R"("reward": [{"type": "success", "a": "a", "point": [0.3, 0.43, 0.7],
                                      "within": 0.05, "bonus": 7.0, "terminate": true}])");
  CHECK(done.result.reward == 7.0f);
  CHECK(done.result.terminated);
  // The terms add up: distance + height + success.
  auto sum = one_step(R"("reward": [
      {"type": "distance", "a": "a", "b": "b", "weight": -2.0},
      {"type": "height", "a": "a", "weight": 3.0},
      {"type": "success", "a": "a", "point": [0.3, 0.43, 0.7], "within": 0.05, "bonus": 7.0}])");
  CHECK(sum.result.reward == Approx(-2.0 * norm3(0.4, 0.3, 0.5) + 3.0 * 0.7 + 7.0).epsilon(1e-5));
}

TEST_CASE("terminations: height_below and height_above against z of the body",
          "[world][termination]") {
  auto t = [](const std::string& type, double value) {
    return one_step(R"("terminations": [{"type": ")" + type + R"(", "body": "a", "value": )" +
                    std::to_string(value) + "}]")
        .result.terminated;
  };
  // z of a is 0.7 m.
  CHECK(t("height_below", 0.8));
  CHECK_FALSE(t("height_below", 0.6));
  CHECK(t("height_above", 0.6));
  CHECK_FALSE(t("height_above", 0.8));
}

TEST_CASE("terminations: out_of_bounds on |x| or |y| of the body", "[world][termination]") {
  auto t = [](const std::string& body, double value) {
    return one_step(R"("terminations": [{"type": "out_of_bounds", "body": ")" + body +
                    R"(", "value": )" + std::to_string(value) + "}]")
        .result.terminated;
  };
  // a at (0.3, 0.4): |y| decides; b at (-0.1, 0.1): |x| = 0.1 decides against 0.1 > value.
  CHECK(t("a", 0.35));
  CHECK_FALSE(t("a", 0.45));
  CHECK(t("b", 0.09));  // |x| = |y| = 0.1
  CHECK_FALSE(t("b", 0.11));
  CHECK_FALSE(t("a", 0.65));  // z = 0.7 is not a bound
}

TEST_CASE("terminations: joint_abs_above on the absolute joint position", "[world][termination]") {
  auto t = [](double angle, double value) {
    return one_step(R"("terminations": [{"type": "joint_abs_above", "joint": "hinge", "value": )" +
                        std::to_string(value) + "}]",
                    angle)
        .result.terminated;
  };
  CHECK(t(-0.5, 0.4));  // |-0.5| > 0.4
  CHECK_FALSE(t(-0.5, 0.6));
  CHECK(t(0.5, 0.4));
}

TEST_CASE("truncation after episode_steps is not a termination", "[world][termination]") {
  World w(inline_scene(scene_with(R"("reward": [])", 0.5, 3)), 0);
  CHECK_FALSE(w.step({}).truncated);
  CHECK_FALSE(w.step({}).truncated);
  auto last = w.step({});
  CHECK(last.truncated);
  CHECK_FALSE(last.terminated);
}
