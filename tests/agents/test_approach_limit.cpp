// Approach limit (approach_limit.hpp) and the task's goal (task_goal.hpp): push's task is the
// cube onto the goal marker; the fraction clamp(d / radius, floor, 1) worked by hand; in a
// planning episode every decision's action limit is that fraction of the planner's limit, with d
// recomputed here from the true state the verifier records (the oracle) or from where push's
// frame reader puts the cube (the dream, a model that holds its frame), and no chosen action
// exceeds it; bad radii and floors and scenes without a task body are refused by name.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <limits>

#include "frame_helpers.hpp"
#include "parallax/agents/approach_limit.hpp"
#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/frame_poses.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/agents/task_goal.hpp"
#include "parallax/sim/world.hpp"
#include "still_world_model.hpp"

namespace {

namespace ag = parallax::agents;
namespace sim = parallax::sim;
using parallax::testing::scene_named;

// The options of a short planning run on push: one episode, a decision every 3 ticks, verified
// (the decisions record the true positions and the action limit).
ag::PlanRunOptions short_run(const std::string& world) {
  ag::PlanRunOptions o;
  o.world = world;
  o.planner.candidates = 8;
  o.planner.horizon = 5;
  o.planner.iterations = 2;
  o.planner.elites = 2;
  o.episodes = 1;
  o.seed = 2000;
  o.replan_every = 3;
  o.max_steps = 30;
  o.verify = true;
  o.approach_radius = 0.5;
  o.approach_floor = 0.2;
  return o;
}

}  // namespace

TEST_CASE("task goal on push is the cube onto the goal marker", "[approach]") {
  const auto scene = scene_named("push");
  const auto task = ag::TaskGoal::from_scene(*scene);
  REQUIRE(task.has_value());
  CHECK(task->target_name == "cube");
  CHECK(task->target == scene->body_index("cube"));
  CHECK(task->goal_name == "goal");
  CHECK(task->goal_marker == scene->marker_index("goal"));
  CHECK(task->goal_body == -1);
  // The cube at (0.4, 0.2), the goal at (0.1, -0.2): a 0.3-0.4-0.5 triangle.
  std::vector<float> poses(scene->bodies.size() * 7, 0.0f);
  poses[7 * task->target] = 0.4f, poses[7 * task->target + 1] = 0.2f;
  poses[7 * task->target + 2] = 0.7f;  // z does not count
  const std::vector<float> markers{0.1f, -0.2f, 0.0f};
  CHECK(task->distance(poses, markers) == Approx(0.5).epsilon(1e-6));
  CHECK_THROWS_WITH(task->distance(poses, {}), Catch::Contains("goal marker 'goal'"));
  // Excluding the cube leaves no success term with another body.
  CHECK_FALSE(ag::TaskGoal::from_scene(*scene, "cube").has_value());
}

TEST_CASE("approach limit scales the action limit by the distance to the goal", "[approach]") {
  const auto scene = scene_named("push");
  const auto ap = ag::ApproachLimit::from_scene(*scene, 0.2, 0.25);
  CHECK(ap.task.target_name == "cube");
  CHECK(ap.fraction(0.5) == 1.0);                         // beyond the radius: the full limit
  CHECK(ap.fraction(0.2) == 1.0);                         // at it
  CHECK(ap.fraction(0.1) == Approx(0.5).epsilon(1e-12));  // 0.1 / 0.2
  CHECK(ap.fraction(0.01) == 0.25);                       // 0.05 would be below the floor
  CHECK(ap.fraction(0.0) == 0.25);
  CHECK(ap.fraction(std::numeric_limits<double>::quiet_NaN()) == 1.0);  // unknown
  // On a state: the cube 0.1 m from the goal (a 0.06-0.08-0.1 triangle).
  std::vector<float> poses(scene->bodies.size() * 7, 0.0f);
  poses[7 * ap.task.target] = 0.16f, poses[7 * ap.task.target + 1] = 0.08f;
  const std::vector<float> markers{0.1f, 0.0f, 0.0f};
  CHECK(ap.fraction(poses, markers) == Approx(0.5).epsilon(1e-5));
}

TEST_CASE("approach limit refuses bad radii and floors and scenes without a task body",
          "[approach]") {
  const auto push = scene_named("push");
  const double nan = std::numeric_limits<double>::quiet_NaN();
  for (double r : {0.0, -0.1, nan, std::numeric_limits<double>::infinity()}) {
    INFO("radius " << r);
    REQUIRE_THROWS_WITH(ag::ApproachLimit::from_scene(*push, r, 0.3),
                        Catch::Contains("scene 'push'") && Catch::Contains("radius"));
  }
  for (double f : {0.0, -0.2, 1.5, nan}) {
    INFO("floor " << f);
    REQUIRE_THROWS_WITH(ag::ApproachLimit::from_scene(*push, 0.15, f), Catch::Contains("floor"));
  }
  const auto cartpole = scene_named("cartpole");
  REQUIRE_THROWS_WITH(ag::ApproachLimit::from_scene(*cartpole, 0.15, 0.3),
                      Catch::Contains("scene 'cartpole'") && Catch::Contains("no success term"));
}

TEST_CASE("oracle under an approach limit: each decision's limit follows the cube's distance",
          "[approach][planner]") {
  const auto scene = scene_named("push");
  const auto o = short_run("bullet");
  const auto report = ag::run_plan(scene, nullptr, o);
  REQUIRE(report.decisions.size() == 10);
  const int cube = scene->body_index("cube");
  std::vector<float> markers(scene->markers.size() * 3);
  sim::World(scene, o.seed).marker_positions(markers);  // the goal stays put in an episode
  const int g = scene->marker_index("goal");
  bool below_full = false;
  for (const auto& d : report.decisions) {
    const double dist = std::hypot(d.body_xy[2 * cube] - markers[3 * g],
                                   d.body_xy[2 * cube + 1] - markers[3 * g + 1]);
    const double expected = std::clamp(dist / 0.5, 0.2, 1.0);
    INFO("tick " << d.tick << ": cube " << dist << " m from the goal");
    CHECK(d.action_limit == Approx(expected).epsilon(1e-6));
    for (float v : d.chosen_plan) CHECK(std::abs(v) <= d.action_limit);
    below_full = below_full || d.action_limit < 0.99f;
  }
  CHECK(below_full);  // seed 2000's cube starts within 0.5 m of its goal
}

TEST_CASE("dream under an approach limit reads the cube in the perceived frame",
          "[approach][planner]") {
  const auto scene = scene_named("push");
  const auto model = std::make_shared<parallax::testing::StillWorldModel>(*scene);
  auto o = short_run("dream");
  o.pose_reward = true;
  const auto report = ag::run_plan(scene, model, o);
  REQUIRE(report.decisions.size() == 10);
  const int cube = scene->body_index("cube");
  std::vector<float> markers(scene->markers.size() * 3);
  sim::World(scene, o.seed).marker_positions(markers);
  const int g = scene->marker_index("goal");
  // The reader's error is its fit's (millimetres, FramePoses): the fraction agrees to 2 cm / 0.5.
  const ag::FramePoses reader(scene, {"cube"});
  const double tol = 0.02 / 0.5;
  REQUIRE(reader.fit_rms_m(0) < 0.005);
  for (const auto& d : report.decisions) {
    const double dist = std::hypot(d.body_xy[2 * cube] - markers[3 * g],
                                   d.body_xy[2 * cube + 1] - markers[3 * g + 1]);
    INFO("tick " << d.tick << ": cube " << dist << " m from the goal");
    CHECK(std::abs(d.action_limit - std::clamp(dist / 0.5, 0.2, 1.0)) < tol);
    for (float v : d.chosen_plan) CHECK(std::abs(v) <= d.action_limit);
  }
  // Without the reward from poses the dream cannot read the cube: refused by name.
  o.pose_reward = false;
  REQUIRE_THROWS_WITH(ag::run_plan(scene, model, o), Catch::Contains("approach limit"));
}
