// Proprioception of the dream planner (DreamPlanModel::set_proprioception): the bodies the
// actions move kinematically are moved by each plan's actions, not looked for in imagined frames.
// References: Bullet's returns for the same plans from the same state (BulletPlanModel), on a
// push variant whose reward names the pusher; and the contact gate worked out by hand from the
// finder's readings of the drifting model's frames, with the pusher out of every frame.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "frame_helpers.hpp"
#include "parallax/agents/frame_poses.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "still_world_model.hpp"

namespace {

namespace ag = parallax::agents;
namespace sim = parallax::sim;
using parallax::testing::as_context;
using parallax::testing::render;
using parallax::testing::scene_named;

// The pusher's true x, y in `world`.
std::vector<float> pusher_xy(const sim::SceneModel& scene, const sim::World& world) {
  std::vector<float> poses(scene.bodies.size() * 7);
  world.poses(poses);
  const int p = scene.body_index("pusher");
  return {poses[7 * p], poses[7 * p + 1]};
}

}  // namespace

TEST_CASE("dream planner's proprioception moves the pusher as Bullet does",
          "[proprioception][planner]") {
  // Push with a reward on the pusher alone (-|pusher - goal|, no success term): a still model
  // never draws the pusher anywhere but at the root, so every difference between plans comes
  // from the pusher moved by their actions. Bullet's returns for the same plans are the
  // reference (actions beyond [-1, 1] included: both clamp).
  auto variant = sim::resolve_scene("push");
  variant.reward.clear();
  sim::RewardTerm term;
  term.type = sim::RewardType::kDistance;
  term.a = "pusher";
  term.b = "goal";
  term.axes = {true, true, false};
  term.weight = -1.0;
  variant.reward.push_back(term);
  const auto scene = std::make_shared<const sim::SceneModel>(variant);
  const auto model = std::make_shared<parallax::testing::StillWorldModel>(*scene);
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  const int k = 4, l = 12;
  const float gamma = 0.95f;
  std::vector<float> plans(static_cast<std::size_t>(k) * l * scene->action_size());
  for (std::size_t i = 0; i < plans.size(); ++i) plans[i] = 1.3f * std::sin(0.37f * i + 0.2f);
  for (std::uint64_t seed : {3ull, 11ull}) {
    INFO("seed " << seed);
    sim::World world(scene, seed);
    std::vector<float> markers(scene->markers.size() * 3);
    world.marker_positions(markers);
    ag::BulletPlanModel bullet(scene, k, 1);
    bullet.set_root(world.save_state());
    std::vector<double> truth(k), without(k), with(k);
    bullet.score(plans, k, l, gamma, truth);
    const auto rgb = render(renderer, *scene, world);
    for (bool own : {false, true}) {
      ag::DreamPlanModel dream(model, k, torch::kCPU);
      dream.set_pose_reward(*scene);
      dream.set_proprioception(own);
      if (own) REQUIRE(dream.proprioceptive_bodies() == std::vector<std::string>{"pusher"});
      dream.set_markers(markers);
      dream.set_root(as_context(rgb, *scene), torch::zeros({1, scene->action_size()}));
      if (own) dream.set_proprioception_xy(pusher_xy(*scene, world));
      dream.score(plans, k, l, gamma, own ? with : without);
    }
    for (int i = 0; i < k; ++i) {
      INFO("plan " << i << ": Bullet " << truth[i] << ", with " << with[i] << ", without "
                   << without[i]);
      CHECK(with[i] == Approx(truth[i]).epsilon(1e-5));
      // Without it the still frames keep the pusher at the root: every plan ties.
      CHECK(without[i] == without[0]);
    }
    // ... where Bullet tells the plans apart.
    CHECK(*std::max_element(truth.begin(), truth.end()) -
              *std::min_element(truth.begin(), truth.end()) >
          0.05);
  }
}

TEST_CASE("dream planner's contact gate opens on the pusher its actions bring to the cube",
          "[proprioception][planner]") {
  // The drifting model (every imagined frame 1 px further right) and a root frame with the
  // pusher painted out: the frames never show the pusher, so without proprioception the gate
  // stays shut for every plan. With it, a plan that drives the pusher straight at the cube opens
  // the gate once its pusher (root + clamped action x 0.5 m/s / 30 Hz per tick) is within the
  // gate of the cube's root spot, and from then on the drifted cube counts; a plan that drives
  // it away keeps the cube at rest. Expected returns are worked out from the finder's readings
  // of the rolled frames.
  const auto scene = scene_named("push");
  const auto model = std::make_shared<parallax::testing::StillWorldModel>(*scene, 1);
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::World world(scene, 3);
  std::vector<float> markers(scene->markers.size() * 3);
  world.marker_positions(markers);
  auto rgb = render(renderer, *scene, world);
  REQUIRE(parallax::testing::paint_out(rgb, renderer, *scene, world, "pusher") > 10);
  const int h = scene->camera.height, w = scene->camera.width, l = 8;
  const float gamma = 0.9f;
  const ag::FramePoses finder(scene, {"cube"});
  float root[2], xy[2];
  std::uint8_t found[1];
  finder.find(rgb.data(), root, found);
  REQUIRE(found[0]);
  const auto own = pusher_xy(*scene, world);
  const double dx = root[0] - own[0], dy = root[1] - own[1], gap = std::hypot(dx, dy);
  const double per_tick = 0.5 / 30.0;  // push.json: max_speed 0.5 m/s, control_hz 30
  // The gate: the toward plan's pusher crosses it between ticks 4 and 5 (1-based).
  const double gate = gap - 4.5 * per_tick;
  REQUIRE(gate > 0.02);
  std::vector<float> plans(static_cast<std::size_t>(2) * l * 2);
  for (int s = 0; s < l; ++s) {
    plans[2 * s] = static_cast<float>(dx / gap), plans[2 * s + 1] = static_cast<float>(dy / gap);
    plans[2 * (l + s)] = static_cast<float>(-dx / gap);
    plans[2 * (l + s) + 1] = static_cast<float>(-dy / gap);
  }
  double at_rest = 0, toward = 0, discount = 1;
  for (int s = 1; s <= l; ++s) {
    finder.find(parallax::testing::rolled(rgb, s, h, w).data(), xy, found);
    REQUIRE(found[0]);
    const double rest_d = std::hypot(root[0] - markers[0], root[1] - markers[1]);
    const double drift_d = std::hypot(xy[0] - markers[0], xy[1] - markers[1]);
    at_rest += discount * -rest_d;
    toward += discount * -(s >= 5 ? drift_d : rest_d);
    discount *= gamma;
  }
  REQUIRE(std::abs(toward - at_rest) > 1e-3);
  const auto score = [&](bool proprio) {
    ag::DreamPlanModel dream(model, 2, torch::kCPU);
    dream.set_pose_reward(*scene);
    dream.set_contact_gate(gate);
    dream.set_proprioception(proprio);
    dream.set_markers(markers);
    dream.set_root(as_context(rgb, *scene), torch::zeros({1, scene->action_size()}));
    if (proprio) dream.set_proprioception_xy(own);
    std::vector<double> returns(2);
    dream.score(plans, 2, l, gamma, returns);
    return returns;
  };
  const auto with = score(true);
  CHECK(with[0] == Approx(toward).epsilon(1e-6));
  CHECK(with[1] == Approx(at_rest).epsilon(1e-6));
  for (double r : score(false)) CHECK(r == Approx(at_rest).epsilon(1e-6));
}

TEST_CASE("dream planner refuses proprioception it cannot have and names why",
          "[proprioception][planner]") {
  const auto scene = scene_named("push");
  const auto model = std::make_shared<parallax::testing::StillWorldModel>(*scene);
  ag::DreamPlanModel head(model, 2, torch::kCPU);  // the reward head: no poses from frames
  CHECK_THROWS_WITH(head.set_proprioception(true), Catch::Contains("frames"));
  CHECK_NOTHROW(head.set_proprioception(false));
  CHECK_THROWS_AS(head.set_proprioception_xy(std::vector<float>{0, 0}), std::logic_error);
  // push's reward names cube and goal only: no body of the agent's is found.
  ag::DreamPlanModel bare(model, 2, torch::kCPU);
  bare.set_pose_reward(*scene);
  CHECK_THROWS_WITH(bare.set_proprioception(true), Catch::Contains("no body"));
  // A pusher moved by forces (not kinematic) does not go where its actions say.
  auto pushed = sim::resolve_scene("push");
  pushed.bodies[pushed.body_index("pusher")].kinematic = false;
  pushed.bodies[pushed.body_index("pusher")].mass = 0.5;
  ag::DreamPlanModel forced(model, 2, torch::kCPU);
  forced.set_pose_reward(pushed);
  forced.set_contact_gate(0.1);
  CHECK_THROWS_WITH(forced.set_proprioception(true),
                    Catch::Contains("'pusher'") && Catch::Contains("forces"));
  // Wrong sizes, non-finite values, and a plan without the positions.
  ag::DreamPlanModel dream(model, 2, torch::kCPU);
  dream.set_pose_reward(*scene);
  dream.set_contact_gate(0.1);
  dream.set_proprioception(true);
  CHECK_THROWS_WITH(dream.set_proprioception_xy(std::vector<float>{0, 0, 0}),
                    Catch::Contains("expected x, y of 1 bodies"));
  CHECK_THROWS_WITH(
      dream.set_proprioception_xy(std::vector<float>{0, std::numeric_limits<float>::quiet_NaN()}),
      Catch::Contains("'pusher' y") && Catch::Contains("nan"));
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::World world(scene, 0);
  const auto rgb = render(renderer, *scene, world);
  dream.set_root(as_context(rgb, *scene), torch::zeros({1, scene->action_size()}));
  std::vector<float> plans(2 * 3 * 2, 0.0f);
  std::vector<double> returns(2);
  CHECK_THROWS_WITH(dream.score(plans, 2, 3, 0.9f, returns),
                    Catch::Contains("set_proprioception_xy"));
  dream.set_proprioception_xy(pusher_xy(*scene, world));
  CHECK_NOTHROW(dream.score(plans, 2, 3, 0.9f, returns));
}
