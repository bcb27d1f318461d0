// Proprioception of the dream planner (DreamPlanModel::set_proprioception): the bodies the
// actions move kinematically are moved by each plan's actions, not looked for in imagined frames.
// References: Bullet's returns for the same plans from the same state (BulletPlanModel), on a
// push variant whose reward names the pusher; the contact gate worked out by hand from the
// finder's readings of the drifting model's frames, with the pusher out of every frame; and for
// the own bodies painted into frames (OwnBodyPainter), the renderer's true frames and Bullet's
// pusher under the same actions. With a pose head (a `latent` model trained with --pose-bodies):
// Bullet's pusher under the plans' actions and the model's own outputs stepped by hand.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "frame_helpers.hpp"
#include "parallax/agents/frame_poses.hpp"
#include "parallax/agents/own_body_painter.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/world_model.hpp"
#include "random_latent.hpp"
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

TEST_CASE(
    "dream planner with a pose head: the pusher moves as in Bullet, the cube rests behind "
    "the gate",
    "[proprioception][pose_reward][planner]") {
  // A random `latent` model with a pose head for pusher and cube: its positions vary with the
  // plan. With proprioception the pusher is where Bullet takes it under each plan's actions; with
  // the contact gate the cube stays where the head reads it at the root until that pusher comes
  // within the gate, then the head's cube counts. Reference: the model stepped plan by plan by
  // hand (its poses and continue head), Bullet's pusher from a World stepped with the same
  // actions, and push's reward written out (-|cube - goal|, +10 within 5 cm, then the end).
  namespace wm = parallax::worldmodel;
  const auto scene = scene_named("push");
  const auto model = parallax::testing::random_latent(*scene, 23, [](wm::LatentConfig& c) {
    c.pose_bodies = {"pusher", "cube"};
  });
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::World world(scene, 3);
  std::vector<float> markers(scene->markers.size() * 3);
  world.marker_positions(markers);
  const auto rgb = render(renderer, *scene, world);
  const auto ctx_frames = as_context(rgb, *scene);
  const auto ctx_actions = torch::zeros({1, scene->action_size()});
  const int k = 3, l = 10, a = scene->action_size();
  const float gamma = 0.9f;
  torch::NoGradGuard no_grad;
  const wm::StepContext ctx{};
  const auto root_state =
      model->encode_context(ctx_frames.unsqueeze(0), ctx_actions.unsqueeze(0), ctx);
  const auto rp = model->poses(root_state);  // [1, 2, 2] m: the head's reading of the root
  const double cube0[2] = {rp[0][1][0].item<double>(), rp[0][1][1].item<double>()};
  const auto own = pusher_xy(*scene, world);
  const double dx = cube0[0] - own[0], dy = cube0[1] - own[1], gap = std::hypot(dx, dy);
  // Plan 0 drives the pusher at the head's root cube, plan 1 away from it, plan 2 wavers.
  std::vector<float> plans(static_cast<std::size_t>(k) * l * a);
  for (int s = 0; s < l; ++s) {
    plans[2 * s] = static_cast<float>(dx / gap), plans[2 * s + 1] = static_cast<float>(dy / gap);
    plans[2 * (l + s)] = static_cast<float>(-dx / gap);
    plans[2 * (l + s) + 1] = static_cast<float>(-dy / gap);
    plans[2 * (2 * l + s)] = 1.4f * std::sin(0.9f * s), plans[2 * (2 * l + s) + 1] = 0.3f;
  }
  // By hand: Bullet's pusher, the head's cube and continue along each plan.
  std::vector<std::vector<std::array<double, 2>>> pusher(k), cube(k);
  std::vector<std::vector<double>> cont(k);
  for (int i = 0; i < k; ++i) {
    sim::World bullet(scene, 3);
    auto st = model->encode_context(ctx_frames.unsqueeze(0), ctx_actions.unsqueeze(0), ctx);
    for (int s = 0; s < l; ++s) {
      const float* u = plans.data() + (static_cast<std::size_t>(i) * l + s) * a;
      bullet.step(std::span<const float>(u, a));
      const auto p = pusher_xy(*scene, bullet);
      pusher[i].push_back({p[0], p[1]});
      st = model->step(st, torch::from_blob(const_cast<float*>(u), {1, a}).clone(), ctx);
      const auto q = model->poses(st);
      cube[i].push_back({q[0][1][0].item<double>(), q[0][1][1].item<double>()});
      cont[i].push_back(model->cont(st)[0].item<double>());
    }
  }
  // The gate: plan 0's pusher crosses it between its 4th and 5th step.
  const double d4 = std::hypot(pusher[0][3][0] - cube0[0], pusher[0][3][1] - cube0[1]);
  const double d5 = std::hypot(pusher[0][4][0] - cube0[0], pusher[0][4][1] - cube0[1]);
  REQUIRE(d5 < d4);
  const double gate = 0.5 * (d4 + d5);
  REQUIRE(gate > 0.02);
  std::vector<double> want(k);
  for (int i = 0; i < k; ++i) {
    double ret = 0, alive = 1, discount = 1;
    bool touched = false, fired = false;
    for (int s = 0; s < l; ++s) {
      touched =
          touched || std::hypot(pusher[i][s][0] - cube0[0], pusher[i][s][1] - cube0[1]) <= gate;
      const double cx = touched ? cube[i][s][0] : cube0[0], cy = touched ? cube[i][s][1] : cube0[1];
      const double d = std::hypot(cx - markers[0], cy - markers[1]);
      const bool hit = d < 0.05;
      ret += discount * alive * (-d + (hit && !fired ? 10.0 : 0.0));
      alive *= hit ? 0.0 : cont[i][s];
      fired = fired || hit;
      discount *= gamma;
    }
    want[i] = ret;
  }
  ag::DreamPlanModel dream(model, k, torch::kCPU);
  dream.set_pose_reward(*scene);
  dream.set_contact_gate(gate);
  dream.set_proprioception(true);
  REQUIRE(dream.proprioceptive_bodies() == std::vector<std::string>{"pusher"});
  CHECK_FALSE(dream.poses_from_frames());
  dream.set_markers(markers);
  dream.set_root(ctx_frames, ctx_actions);
  dream.set_proprioception_xy(own);
  std::vector<double> got(k);
  dream.score(plans, k, l, gamma, got);
  for (int i = 0; i < k; ++i) {
    INFO("plan " << i);
    CHECK(got[i] == Approx(want[i]).margin(1e-4));
  }
  // Plan 0 opened the gate and plan 1 did not: the cube moved in one and rested in the other.
  CHECK(std::hypot(cube[0][l - 1][0] - cube0[0], cube[0][l - 1][1] - cube0[1]) > 1e-4);
  // Without the gate and proprioception the head's own positions count: other returns.
  ag::DreamPlanModel plain(model, k, torch::kCPU);
  plain.set_pose_reward(*scene);
  plain.set_markers(markers);
  plain.set_root(ctx_frames, ctx_actions);
  std::vector<double> head_only(k);
  plain.score(plans, k, l, gamma, head_only);
  CHECK(std::abs(head_only[1] - got[1]) > 1e-4);
  // Own bodies painted into frames need frames to paint; a head without a driven body has
  // nothing for proprioception or the gate to hold on to.
  CHECK_THROWS_WITH(dream.set_own_body_frames(true), Catch::Contains("frames"));
  const auto cube_only = parallax::testing::random_latent(
      *scene, 23, [](wm::LatentConfig& c) { c.pose_bodies = {"cube"}; });
  ag::DreamPlanModel blind(cube_only, k, torch::kCPU);
  blind.set_pose_reward(*scene);
  CHECK_THROWS_WITH(blind.set_contact_gate(0.1), Catch::Contains("no body the actions drive"));
  CHECK_THROWS_WITH(blind.set_proprioception(true), Catch::Contains("no body"));
  CHECK_NOTHROW(blind.set_rest_tolerance(0.01));
}

TEST_CASE("own body painter moves the pusher in a frame to where a true render has it",
          "[proprioception][own_body_painter]") {
  // A true frame of push (pusher at A) repainted with the pusher at B against the true render of
  // the same world with the pusher moved to B: the pusher's pixels and shadow at B match
  // exactly; what differs is at most the shadow the pusher cast at A (the painter keeps shadows
  // the frame had), and the finder no longer sees a pusher at A.
  const auto scene = scene_named("push");
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::World world(scene, 3);
  sim::WorldRenderInputs inputs(*scene);
  const sim::RenderInputs at_a = inputs.gather(world);
  const int nk = static_cast<int>(scene->bodies.size()), pusher = scene->body_index("pusher");
  const int h = renderer.height(), w = renderer.width();
  const std::size_t npx = static_cast<std::size_t>(h) * w;
  std::vector<float> poses(at_a.poses, at_a.poses + nk * 7);
  std::vector<std::uint8_t> rgb_a(npx * 3), ids_a(npx), rgb_b(npx * 3), ids_b(npx);
  renderer.render(at_a, rgb_a.data(), ids_a.data());
  const float a_xy[2] = {poses[7 * pusher], poses[7 * pusher + 1]};
  const float b_xy[2] = {a_xy[0] + 0.12f, a_xy[1] - 0.08f};
  poses[7 * pusher] = b_xy[0], poses[7 * pusher + 1] = b_xy[1];
  std::vector<float> markers(at_a.markers, at_a.markers + scene->markers.size() * 3);
  renderer.render(sim::RenderInputs{.n = 1,
                                    .poses = poses.data(),
                                    .markers = at_a.markers,
                                    .colors = at_a.colors,
                                    .scales = at_a.scales},
                  rgb_b.data(), ids_b.data());
  const ag::FramePoses finder(scene, {"pusher"});
  ag::OwnBodyPainter painter(scene, {"pusher"}, finder.finder());
  painter.set_markers(markers);
  auto painted = rgb_a;
  painter.paint(painted.data(), 1, b_xy);
  // The pusher's shadow at A: pixels where the frame differs from the empty scene but shows
  // neither the pusher nor another body (ids: background or marker).
  const auto& empty = painter.empty_scene();
  std::size_t shadow_a = 0, differ = 0, pusher_b = 0;
  for (std::size_t q = 0; q < npx; ++q) {
    const bool a_differs = !std::equal(&rgb_a[3 * q], &rgb_a[3 * q] + 3, &empty[3 * q]);
    const bool on_body = ids_a[q] >= 1 && ids_a[q] <= nk && ids_a[q] != 1;  // id 1: the table
    if (a_differs && !on_body) ++shadow_a;
    if (!std::equal(&painted[3 * q], &painted[3 * q] + 3, &rgb_b[3 * q])) ++differ;
    if (ids_b[q] == pusher + 1) {
      ++pusher_b;
      INFO("pixel " << q);
      CHECK(std::equal(&painted[3 * q], &painted[3 * q] + 3, &rgb_b[3 * q]));
    }
  }
  REQUIRE(pusher_b > 10);
  INFO("pixels differing " << differ << ", shadow at A " << shadow_a);
  CHECK(differ <= shadow_a);
  float xy[2];
  std::uint8_t found[1];
  finder.find(painted.data(), xy, found);
  REQUIRE(found[0]);
  float truth[2];
  finder.find(rgb_b.data(), truth, found);
  CHECK(std::hypot(xy[0] - truth[0], xy[1] - truth[1]) < 1e-3);
  CHECK(std::hypot(xy[0] - a_xy[0], xy[1] - a_xy[1]) > 0.1);
  CHECK_THROWS_WITH(painter.paint(painted.data(), 1, std::vector<float>{0, 0, 0}),
                    Catch::Contains("expected x, y of 1 bodies"));
  CHECK_THROWS_WITH(ag::OwnBodyPainter(scene, {"table"}, finder.finder()),
                    Catch::Contains("plane"));
}

TEST_CASE("dream planner with own bodies in the frames imagines the pusher where Bullet has it",
          "[proprioception][own_body_painter][planner]") {
  // A still model goes on from the last frame it observed: with own bodies in the frames, every
  // imagined frame is the root's repainted with the pusher moved by the plan, so the pusher the
  // finder reads in the imagined frames follows Bullet's pusher under the same actions (to the
  // finder's accuracy); without it the still model keeps the pusher at the root.
  const auto scene = scene_named("push");
  const auto model = std::make_shared<parallax::testing::StillWorldModel>(*scene);
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::World world(scene, 5);
  std::vector<float> markers(scene->markers.size() * 3);
  world.marker_positions(markers);
  const auto rgb = render(renderer, *scene, world);
  const auto root = pusher_xy(*scene, world);
  const int l = 10;
  std::vector<float> plan(static_cast<std::size_t>(l) * 2);
  for (int s = 0; s < l; ++s) plan[2 * s] = 0.8f, plan[2 * s + 1] = 0.6f * std::cos(0.5f * s);
  const ag::FramePoses finder(scene, {"pusher"});
  for (bool own : {false, true}) {
    INFO("own bodies in the frames: " << own);
    ag::DreamPlanModel dream(model, 1, torch::kCPU);
    dream.set_pose_reward(*scene);
    dream.set_contact_gate(0.1);
    dream.set_proprioception(true);
    dream.set_own_body_frames(own);
    dream.set_markers(markers);
    dream.set_root(as_context(rgb, *scene), torch::zeros({1, scene->action_size()}));
    dream.set_proprioception_xy(root);
    const auto frames = dream.imagine(plan, l);
    sim::World truth(scene, 5);
    for (int s = 0; s < l; ++s) {
      truth.step(std::span<const float>(plan).subspan(2 * s, 2));
      const auto want = pusher_xy(*scene, truth);
      float xy[2];
      std::uint8_t found[1];
      finder.find(frames.data() + static_cast<std::size_t>(s) * rgb.size(), xy, found);
      REQUIRE(found[0]);
      INFO("step " << s + 1);
      if (own)
        CHECK(std::hypot(xy[0] - want[0], xy[1] - want[1]) < 0.004);
      else
        CHECK(std::hypot(xy[0] - root[0], xy[1] - root[1]) < 0.004);
    }
  }
}
