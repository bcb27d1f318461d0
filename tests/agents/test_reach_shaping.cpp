// Reach shaping (reach_shaping.hpp): push's driven body and target are the pusher and the cube;
// the term is -weight x their x, y distance, written out by hand on known poses; the oracle's
// returns with it differ from its returns without by exactly that term summed along the plan
// (a plan that stands still: the distance stays the one of the start, a closed form), also with
// the point to reach behind the cube on the goal line (worked by hand below); the
// episodes' rewards stay the scene's own; scenes without a driven body and bad weights are
// refused by name.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <array>
#include <cmath>
#include <limits>

#include "parallax/agents/planner.hpp"
#include "parallax/agents/pose_reward.hpp"
#include "parallax/agents/reach_shaping.hpp"
#include "parallax/sim/world.hpp"

namespace {

namespace ag = parallax::agents;
namespace sim = parallax::sim;

std::shared_ptr<const sim::SceneModel> scene_named(const char* name) {
  return std::make_shared<const sim::SceneModel>(sim::resolve_scene(name));
}

}  // namespace

TEST_CASE("reach shaping on push leads the pusher to the cube", "[reach]") {
  const auto scene = scene_named("push");
  const auto s = ag::ReachShaping::from_scene(*scene, 0.5);
  CHECK(s.driven_name == "pusher");
  CHECK(s.target_name == "cube");
  CHECK(s.driven == scene->body_index("pusher"));
  CHECK(s.target == scene->body_index("cube"));
  // Poses [bodies, 7]: the pusher at (0.1, -0.2), the cube at (0.4, 0.2): 0.3-0.4-0.5 triangle.
  std::vector<float> poses(scene->bodies.size() * 7, 0.0f);
  poses[7 * s.driven] = 0.1f, poses[7 * s.driven + 1] = -0.2f, poses[7 * s.driven + 2] = 0.9f;
  poses[7 * s.target] = 0.4f, poses[7 * s.target + 1] = 0.2f;
  CHECK(s.reward(poses) == Approx(-0.5 * 0.5).epsilon(1e-6));  // z does not count
  // As a term on predicted positions: PoseReward with the shaping adds the same.
  ag::PoseReward plain(*scene, {"pusher", "cube"}), with(*scene, {"pusher", "cube"}, &s);
  const std::vector<float> markers{0.4f, 0.2f, 0.0f};  // the goal under the cube: success
  plain.set_markers(markers);
  with.set_markers(markers);
  const float xy[4] = {0.1f, -0.2f, 0.4f, 0.2f};
  std::vector<std::uint8_t> f1(1, 0), f2(1, 0);
  bool t1 = false, t2 = false;
  const double r1 = plain.evaluate(xy, f1, t1), r2 = with.evaluate(xy, f2, t2);
  CHECK(r2 - r1 == Approx(-0.25).epsilon(1e-6));
  CHECK(t1 == t2);
  CHECK(t1);  // the success term is unchanged (it still fires and terminates)
}

// The point behind the cube, by hand: the goal at (0.4, 0.2), the cube at (0.1, -0.2): the
// goal-to-cube direction is (-0.3, -0.4) / 0.5 = (-0.6, -0.8); 0.1 m past the cube that way is
// (0.1 - 0.06, -0.2 - 0.08) = (0.04, -0.28). The pusher at (0.04, -0.28 + 0.3) is 0.3 from it.
TEST_CASE("reach shaping behind the cube aims at the point on the goal line", "[reach]") {
  const auto scene = scene_named("push");
  const auto s = ag::ReachShaping::from_scene(*scene, 0.5, 0.1);
  CHECK(s.behind == 0.1);
  CHECK(s.goal_name == "goal");
  CHECK(s.goal_marker == scene->marker_index("goal"));
  CHECK(s.goal_body == -1);
  const auto p = ag::reach_point(0.1, -0.2, 0.4, 0.2, 0.1);
  CHECK(p[0] == Approx(0.04).epsilon(1e-12));
  CHECK(p[1] == Approx(-0.28).epsilon(1e-12));
  const auto same = ag::reach_point(0.1, -0.2, 0.1, -0.2, 0.1);  // on the goal: the cube itself
  CHECK(same[0] == 0.1);
  CHECK(same[1] == -0.2);
  std::vector<float> poses(scene->bodies.size() * 7, 0.0f);
  poses[7 * s.driven] = 0.04f, poses[7 * s.driven + 1] = 0.02f;
  poses[7 * s.target] = 0.1f, poses[7 * s.target + 1] = -0.2f;
  const std::vector<float> markers{0.4f, 0.2f, 0.0f};
  CHECK(s.reward(poses, markers) == Approx(-0.5 * 0.3).epsilon(1e-6));
  CHECK_THROWS_WITH(s.reward(poses), Catch::Contains("goal marker 'goal'"));
  // On predicted positions: PoseReward with it adds exactly that term.
  ag::PoseReward plain(*scene, {"pusher", "cube"}), with(*scene, {"pusher", "cube"}, &s);
  plain.set_markers(markers);
  with.set_markers(markers);
  const float xy[4] = {0.04f, 0.02f, 0.1f, -0.2f};
  std::vector<std::uint8_t> f1(1, 0), f2(1, 0);
  bool t1 = false, t2 = false;
  CHECK(with.evaluate(xy, f2, t2) - plain.evaluate(xy, f1, t1) == Approx(-0.15).epsilon(1e-6));
  CHECK_FALSE(t2);  // the cube is 0.5 m from the goal
  // A pusher on the target point: the term is zero.
  poses[7 * s.driven] = 0.04f, poses[7 * s.driven + 1] = -0.28f;
  CHECK(std::abs(s.reward(poses, markers)) < 1e-6);
}

TEST_CASE("reach shaping in the oracle adds the term along the plan and nothing else", "[reach]") {
  const auto scene = scene_named("push");
  const double behind = GENERATE(0.0, 0.08);
  INFO("behind " << behind);
  const auto s = ag::ReachShaping::from_scene(*scene, 0.5, behind);
  sim::World world(scene, 4000);
  const auto root = world.save_state();
  std::vector<float> poses(scene->bodies.size() * 7), markers(scene->markers.size() * 3);
  world.poses(poses);
  world.marker_positions(markers);
  const int g = scene->marker_index("goal");
  // The point to reach, written out: behind the cube, away from the goal.
  auto point = [&] {
    const double cx = poses[7 * s.target], cy = poses[7 * s.target + 1];
    const double ux = cx - markers[3 * g], uy = cy - markers[3 * g + 1];
    const double n = std::hypot(ux, uy);
    return std::array<double, 2>{cx + behind * ux / n, cy + behind * uy / n};
  };
  const auto p0 = point();
  const double d0 = std::hypot(static_cast<double>(poses[7 * s.driven]) - p0[0],
                               static_cast<double>(poses[7 * s.driven + 1]) - p0[1]);
  REQUIRE(d0 > 0.1);  // seed 4000 starts the pusher away from the cube
  const int k = 3, l = 10, a = scene->action_size();
  const float gamma = 0.9f;
  // Plan 0 stands still; plans 1 and 2 move (their shaping depends on the path).
  std::vector<float> plans(static_cast<std::size_t>(k) * l * a, 0.0f);
  for (int st = 0; st < l; ++st) {
    plans[(1 * l + st) * a] = 0.8f;
    plans[(2 * l + st) * a + 1] = -0.6f;
  }
  ag::BulletPlanModel plain(scene, k, 1), shaped(scene, k, 2);
  shaped.set_reach(s);
  plain.set_root(root);
  shaped.set_root(root);
  std::vector<double> r_plain(k), r_shaped(k);
  std::vector<std::uint8_t> ok_plain(k), ok_shaped(k);
  plain.score_outcomes(plans, k, l, gamma, r_plain, ok_plain);
  shaped.score_outcomes(plans, k, l, gamma, r_shaped, ok_shaped);
  // Standing still: the term is -0.5 d0 at every step, sum_s gamma^s of it (closed form).
  const double still = -0.5 * d0 * (1.0 - std::pow(0.9, l)) / (1.0 - 0.9);
  CHECK(r_shaped[0] - r_plain[0] == Approx(still).epsilon(1e-5));
  // Moving: the term, recomputed from a world stepped by hand, is the whole difference.
  for (int i = 1; i < k; ++i) {
    sim::World w(scene, 4000);
    w.restore_state(root);  // as the oracle runs each candidate
    double term = 0, discount = 1;
    for (int st = 0; st < l; ++st) {
      w.step(std::span<const float>(plans).subspan((static_cast<std::size_t>(i) * l + st) * a, a));
      w.poses(poses);
      const auto p = point();
      const double dx = static_cast<double>(poses[7 * s.driven]) - p[0];
      const double dy = static_cast<double>(poses[7 * s.driven + 1]) - p[1];
      term += discount * -0.5 * std::sqrt(dx * dx + dy * dy);
      discount *= 0.9;
    }
    INFO("plan " << i);
    CHECK(r_shaped[i] - r_plain[i] == Approx(term).epsilon(1e-5));
    CHECK(std::abs(term - still) > 1e-3);  // the path matters
  }
  CHECK(ok_plain == ok_shaped);  // success is the scene's own
}

TEST_CASE("reach shaping refuses scenes without a driven body and bad weights", "[reach]") {
  const auto reacher = scene_named("reacher");
  REQUIRE_THROWS_WITH(
      ag::ReachShaping::from_scene(*reacher, 0.5),
      Catch::Contains("scene 'reacher'") && Catch::Contains("no actuator drives a body"));
  const auto push = scene_named("push");
  for (double w : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                   std::numeric_limits<double>::infinity()}) {
    INFO("weight " << w);
    REQUIRE_THROWS_WITH(ag::ReachShaping::from_scene(*push, w), Catch::Contains("weight"));
  }
  for (double d : {-0.1, std::numeric_limits<double>::quiet_NaN()}) {
    INFO("behind " << d);
    REQUIRE_THROWS_WITH(ag::ReachShaping::from_scene(*push, 0.5, d), Catch::Contains("behind"));
  }
}
