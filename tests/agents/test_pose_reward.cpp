// The scene's reward on predicted positions (PoseReward) and the dream planner scoring with it:
// on Bullet's true positions it is Bullet's own reward, step by step (an expert episode of push,
// success bonus included); the dream planner's returns equal push's reward written out by hand
// on the pose head's outputs; terms it cannot evaluate are refused by name.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>

#include "parallax/agents/planner.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/agents/pose_reward.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/latent.hpp"
#include "random_latent.hpp"

namespace {

namespace ag = parallax::agents;
namespace wm = parallax::worldmodel;
namespace sim = parallax::sim;

std::shared_ptr<const sim::SceneModel> scene_named(const char* name) {
  return std::make_shared<const sim::SceneModel>(sim::resolve_scene(name));
}

}  // namespace

TEST_CASE("pose reward on Bullet's true positions is Bullet's reward step by step",
          "[pose_reward]") {
  const auto scene = scene_named("push");
  ag::PoseReward reward(*scene, {"pusher", "cube"});
  REQUIRE(reward.success_terms() == 1);
  const int pusher = scene->body_index("pusher"), cube = scene->body_index("cube");
  auto expert = ag::make_policy("expert", scene, 1, 3);
  int successes = 0;
  for (std::uint64_t seed : {200000ull, 200001ull, 200002ull}) {
    sim::World world(scene, seed);
    expert->reset(0, seed);
    std::vector<float> poses(scene->bodies.size() * 7), markers(scene->markers.size() * 3);
    world.marker_positions(markers);
    reward.set_markers(markers);
    std::vector<std::uint8_t> fired(1, 0);
    std::vector<float> action(scene->action_size());
    for (int t = 0; t < scene->episode_steps; ++t) {
      ag::act_on_world(*expert, world, action);
      const auto res = world.step(action);
      world.poses(poses);
      const float xy[4] = {poses[pusher * 7], poses[pusher * 7 + 1], poses[cube * 7],
                           poses[cube * 7 + 1]};
      bool terminated = false;
      const double r = reward.evaluate(xy, fired, terminated);
      INFO("seed " << seed << " tick " << t);
      CHECK(r == Approx(res.reward).margin(1e-5));
      CHECK(terminated == (res.terminated && ag::is_success(*scene, world)));
      if (res.terminated || res.truncated) {
        successes += terminated ? 1 : 0;
        break;
      }
    }
  }
  CHECK(successes >= 1);  // the success bonus and termination were exercised
}

TEST_CASE("pose reward refuses terms it cannot evaluate by name", "[pose_reward]") {
  const auto push = scene_named("push");
  try {
    ag::PoseReward r(*push, {"pusher"});
    FAIL("a reward naming a body the model does not predict was accepted");
  } catch (const std::invalid_argument& e) {
    const std::string msg = e.what();
    CHECK(msg.find("'cube'") != std::string::npos);
    CHECK(msg.find("reward[0]") != std::string::npos);
  }
  const auto reacher = scene_named("reacher");  // a fingertip offset on the forearm
  CHECK_THROWS_WITH(ag::PoseReward(*reacher, {"fore"}), Catch::Contains("offset"));
  ag::PoseReward ok(*push, {"cube", "pusher"});
  CHECK_THROWS_AS(ok.set_markers(std::vector<float>(2)), std::invalid_argument);
}

TEST_CASE("dream planner with pose reward scores push's reward on the predicted positions",
          "[pose_reward][planner]") {
  const auto scene = scene_named("push");
  const int k = 4, l = 5, a = scene->action_size(), h = scene->camera.height,
            w = scene->camera.width;
  // Random heads: the predicted positions move with the plan.
  const auto model = parallax::testing::random_latent(*scene, 23, [](wm::LatentConfig& c) {
    c.pose_bodies = {"pusher", "cube"};
  });
  REQUIRE(model->info().pose_bodies == std::vector<std::string>{"pusher", "cube"});
  const auto frames = (torch::rand({2, 3, h, w}) * 255).to(torch::kUInt8);
  const auto acts = torch::zeros({2, a});
  std::vector<float> plans(static_cast<std::size_t>(k) * l * a);
  for (std::size_t i = 0; i < plans.size(); ++i)
    plans[i] = static_cast<float>(std::sin(0.37 * static_cast<double>(i) + 0.5));
  const float gamma = 0.9f;
  // By hand, plan by plan on the model itself: the cube's predicted x, y (pose body 1) and
  // push's reward written out: -|cube - goal|_xy, +10 once within 5 cm, then the episode ends.
  torch::NoGradGuard no_grad;
  const wm::StepContext ctx{};
  std::vector<std::vector<std::array<double, 2>>> cube_xy(k);
  std::vector<std::vector<double>> cont(k);
  for (int i = 0; i < k; ++i) {
    auto st = model->encode_context(frames.unsqueeze(0), acts.unsqueeze(0), ctx);
    for (int s = 0; s < l; ++s) {
      const auto act =
          torch::from_blob(plans.data() + (i * l + s) * a, {1, a}, torch::kFloat32).clone();
      st = model->step(st, act, ctx);
      const auto p = model->poses(st);  // [1, 2, 2] m
      cube_xy[i].push_back({p[0][1][0].item<double>(), p[0][1][1].item<double>()});
      cont[i].push_back(model->cont(st)[0].item<double>());
    }
  }
  // The goal (marker 0) 2 cm from where plan 0 puts the cube after step 2: plan 0 succeeds
  // there at the latest and its future ends.
  const float goal[3] = {static_cast<float>(cube_xy[0][2][0] + 0.02),
                         static_cast<float>(cube_xy[0][2][1]), 0.0f};
  std::vector<double> want(k);
  int first_hit = -1;  // plan 0's step where the bonus fires
  for (int i = 0; i < k; ++i) {
    double ret = 0, alive = 1, discount = 1;
    bool fired = false;
    for (int s = 0; s < l; ++s) {
      const double d = std::hypot(cube_xy[i][s][0] - goal[0], cube_xy[i][s][1] - goal[1]);
      double r = -d;
      const bool hit = d < 0.05;
      if (hit && !fired) r += 10.0;
      if (hit && !fired && i == 0) first_hit = s;
      fired = fired || hit;
      ret += discount * alive * r;
      alive *= hit ? 0.0 : cont[i][s];
      discount *= gamma;
    }
    want[i] = ret;
  }
  ag::DreamPlanModel d(model, k, torch::kCPU);
  d.set_root(frames, acts);
  d.set_pose_reward(*scene);
  d.set_markers(goal);
  std::vector<double> got(k);
  d.score(plans, k, l, gamma, got);
  for (int i = 0; i < k; ++i) CHECK(got[i] == Approx(want[i]).margin(1e-4));
  REQUIRE(first_hit >= 0);
  REQUIRE(first_hit <= 2);  // the success bonus was counted (and ended plan 0's future)
  // imagine() gives the rewards along plan 0: the bonus once, at the step it fires.
  std::vector<float> rewards;
  d.imagine(std::span<const float>(plans).subspan(0, static_cast<std::size_t>(l) * a), l, &rewards);
  for (int s = 0; s < l; ++s) {
    const double dist = std::hypot(cube_xy[0][s][0] - goal[0], cube_xy[0][s][1] - goal[1]);
    CHECK(rewards[s] == Approx((s == first_hit ? 10.0 : 0.0) - dist).margin(1e-4));
  }
  CHECK_FALSE(d.poses_from_frames());
  // A model without a pose head finds the poses in its frames (tests/agents/test_frame_poses.cpp);
  // members must agree: one without a pose head is refused next to one with, and vice versa.
  ag::DreamPlanModel none(parallax::testing::random_latent(*scene, 23), k, torch::kCPU);
  none.set_pose_reward(*scene);
  CHECK(none.poses_from_frames());
  CHECK_THROWS_AS(d.add_member(parallax::testing::random_latent(*scene, 24)),
                  std::invalid_argument);
  CHECK_THROWS_AS(none.add_member(model), std::invalid_argument);
}
