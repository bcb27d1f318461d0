// The planner's pose-space model (pose_dynamics.hpp, body_yaw.hpp, pose_plan_model.hpp).
// References: Bullet's true poses of the rendered frames (the root's reading, the yaw), push's
// reward written out by hand on positions worked out by hand (the returns, for a model whose
// network is a constant: every weight zero, the last bias given), and PyTorch's forward of the same
// checkpoint (the hidden [pose_reference] case, driven by tests/python/pose_reference.sh).
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <numbers>
#include <random>
#include <string>
#include <vector>

#include "frame_helpers.hpp"
#include "parallax/agents/body_yaw.hpp"
#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/agents/pose_plan_model.hpp"
#include "parallax/agents/reach_shaping.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "pose_checkpoint.hpp"

namespace {

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace fs = std::filesystem;
using parallax::testing::constant_model;
using parallax::testing::render;
using parallax::testing::scene_named;

constexpr double kPi = std::numbers::pi;

double yaw_of(const float* q) {  // x y z w
  return std::atan2(2.0 * (q[3] * q[2] + q[0] * q[1]), 1.0 - 2.0 * (q[1] * q[1] + q[2] * q[2]));
}

double fold90(double a) {  // into [-45, 45) deg, radians
  double r = std::fmod(a + kPi / 4, kPi / 2);
  if (r < 0) r += kPi / 2;
  return r - kPi / 4;
}

fs::path temp_dir(const std::string& tag) {
  const fs::path dir = fs::temp_directory_path() /
                       ("parallax_pose_" + tag + "_" + std::to_string(std::random_device{}()));
  fs::create_directories(dir);
  return dir;
}

// Removes a folder of plain files. Not std::filesystem::remove_all: the LibTorch wheel exports
// its own copy of that symbol, which crashes on non-empty folders when the test links torch.
void remove_dir(const fs::path& dir) {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path());
  for (const auto& f : files) fs::remove(f);
  fs::remove(dir);
}

// The cube's true x, y, yaw and the pusher's x, y in a world.
struct Truth {
  float c[2], th, p[2];
};
Truth truth(const sim::SceneModel& scene, const sim::World& world) {
  std::vector<float> poses(scene.bodies.size() * 7);
  world.poses(poses);
  const int cube = scene.body_index("cube"), pusher = scene.body_index("pusher");
  return {{poses[cube * 7], poses[cube * 7 + 1]},
          static_cast<float>(yaw_of(&poses[cube * 7 + 3])),
          {poses[pusher * 7], poses[pusher * 7 + 1]}};
}

}  // namespace

TEST_CASE("BodyYaw reads the cube's yaw from true frames", "[pose_plan]") {
  const auto scene = scene_named("push");
  const sim::Renderer renderer(scene);
  const ag::BodyYaw yaw(scene, "cube");
  const ag::FramePoses poses(scene, {"cube"});
  REQUIRE(yaw.period() == Approx(kPi / 2));
  std::vector<double> err;
  int unread = 0;
  for (std::uint64_t seed = 0; seed < 60; ++seed) {
    sim::World world(scene, 7000 + seed);  // the reset draws the cube's yaw in [-45, 45] deg
    const auto rgb = render(renderer, *scene, world);
    const Truth t = truth(*scene, world);
    float xy[2] = {0, 0};
    std::uint8_t found = 0;
    poses.find(rgb.data(), xy, std::span(&found, 1));
    if (!found) continue;  // out of view
    const auto y = yaw.read(rgb.data(), poses.finder(), xy[0], xy[1]);
    if (!y) {
      ++unread;
      continue;
    }
    CHECK(*y >= -kPi / 4);
    CHECK(*y < kPi / 4);
    err.push_back(std::abs(fold90(*y - t.th)) * 180 / kPi);
  }
  REQUIRE(err.size() >= 50);
  CHECK(unread == 0);
  std::sort(err.begin(), err.end());
  const double p50 = err[err.size() / 2], p90 = err[err.size() * 9 / 10];
  INFO("yaw error p50 " << p50 << " deg, p90 " << p90 << " deg, worst " << err.back());
  CHECK(p50 < 3.0);
  CHECK(p90 < 6.0);
  // A body that is not in the frame: nothing to read.
  std::vector<std::uint8_t> empty(static_cast<std::size_t>(64) * 64 * 3, 0);
  CHECK_FALSE(yaw.read(empty.data(), poses.finder(), 0.0f, 0.0f).has_value());
  CHECK_THROWS_AS(ag::BodyYaw(scene, "table"), std::invalid_argument);
  CHECK_THROWS_AS(ag::BodyYaw(scene, "nothing"), std::invalid_argument);
}

TEST_CASE("PoseDynamics loads its checkpoints and refuses bad ones", "[pose_plan]") {
  const auto dir = temp_dir("load");
  const float still[3] = {0, 0, 0};
  const auto path = constant_model(dir, "still.pt", still);
  const auto m = ag::PoseDynamics::load(path);
  CHECK(m->driver() == "pusher");
  CHECK(m->pushed() == "cube");
  CHECK(m->hidden() == 8);
  CHECK(m->parameters() == 7 * 8 + 8 + 2 * (8 * 8 + 8) + 8 * 3 + 3);
  const auto push = scene_named("push");
  m->check_scene(*push);
  CHECK_THROWS_AS(m->check_scene(*scene_named("reacher")), std::invalid_argument);
  // Another step than the scene's pusher takes.
  const auto slow = ag::PoseDynamics::load(constant_model(dir, "slow.pt", still, "push", 8, 0.01));
  CHECK_THROWS_AS(slow->check_scene(*push), std::invalid_argument);
  // Garbage and truncated files: one line naming the file.
  {
    std::ofstream(dir / "junk.pt") << "not a checkpoint";
    try {
      ag::PoseDynamics::load((dir / "junk.pt").string());
      FAIL("junk loaded");
    } catch (const std::runtime_error& e) {
      CHECK(std::string(e.what()).find("junk.pt") != std::string::npos);
    }
  }
  // A world model's checkpoint is not a pose-dynamics model, and the reverse.
  CHECK_THROWS_AS(
      ag::PoseDynamics::load(
          (fs::path(std::getenv("PARALLAX_ASSETS") ? std::getenv("PARALLAX_ASSETS") : "assets") /
           "models" / "push.pt")
              .string()),
      std::runtime_error);
  CHECK_THROWS_WITH(parallax::worldmodel::load_world_model(path), Catch::Contains("pose-dynamics"));
  remove_dir(dir);
}

TEST_CASE("PosePlanModel reads its root in true frames", "[pose_plan]") {
  const auto scene = scene_named("push");
  const auto dir = temp_dir("root");
  const float still[3] = {0, 0, 0};
  ag::PosePlanModel model(scene, ag::PoseDynamics::load(constant_model(dir, "s.pt", still)), 4);
  const sim::Renderer renderer(scene);
  sim::World world(scene, 7003);
  const auto f0 = render(renderer, *scene, world);
  // Drive the pusher into the cube until it moves more than 5 mm in a tick; keep the frames
  // before and after that tick, and the action between them.
  std::vector<std::uint8_t> prev;
  Truth t1 = truth(*scene, world), tprev = t1;
  float act[2] = {0, 0};
  for (int s = 0; s < 60; ++s) {
    tprev = truth(*scene, world);
    prev = render(renderer, *scene, world);
    const float dx = tprev.c[0] - tprev.p[0], dy = tprev.c[1] - tprev.p[1];
    const float n = std::max(1e-6f, std::hypot(dx, dy));
    act[0] = dx / n, act[1] = dy / n;
    world.step(act);
    t1 = truth(*scene, world);
    if (std::hypot(t1.c[0] - tprev.c[0], t1.c[1] - tprev.c[1]) > 0.005) break;
  }
  REQUIRE(std::hypot(t1.c[0] - tprev.c[0], t1.c[1] - tprev.c[1]) > 0.005);
  const auto last = render(renderer, *scene, world);
  std::vector<std::uint8_t> frames(prev);
  frames.insert(frames.end(), last.begin(), last.end());
  // The pusher touches the cube in both frames: rendered where it stood, it hides in the
  // silhouettes what it hides in the frames.
  model.set_root(frames.data(), 2, std::vector<float>{t1.p[0], t1.p[1]},
                 std::vector<float>{act[0], act[1]});
  const auto r = model.root();  // a copy: set_root() below changes the model's
  CHECK(r.seen);
  CHECK(std::hypot(r.c[0] - t1.c[0], r.c[1] - t1.c[1]) < 0.006);
  CHECK(std::hypot(r.c_prev[0] - tprev.c[0], r.c_prev[1] - tprev.c[1]) < 0.006);
  CHECK(std::abs(fold90(r.th - t1.th)) < 6 * kPi / 180);
  CHECK(r.p[0] == t1.p[0]);
  const auto cube = model.root_position("cube");
  REQUIRE(cube);
  CHECK((*cube)[0] == r.c[0]);
  CHECK_FALSE(model.root_position("table"));
  // One frame: the cube is taken to rest.
  model.set_root(last.data(), 1, std::vector<float>{t1.p[0], t1.p[1]});
  CHECK(model.root().c_prev[0] == model.root().c[0]);
  CHECK(model.root().th_prev == model.root().th);
  // A frame without the cube: the previous root's reading, at rest; without one, unknown.
  std::vector<std::uint8_t> blank(f0.size(), 0);
  const ag::PosePlanModel::Root previous = model.root();
  model.set_root(blank.data(), 1, std::vector<float>{t1.p[0], t1.p[1]}, {}, &previous);
  CHECK_FALSE(model.root().seen);
  CHECK(model.root().known);
  CHECK(model.root().c[0] == previous.c[0]);
  CHECK(model.root().c_prev[1] == previous.c[1]);
  CHECK(model.root().th == previous.th);
  REQUIRE(model.root_position("cube"));
  model.set_root(blank.data(), 1, std::vector<float>{t1.p[0], t1.p[1]});
  CHECK_FALSE(model.root().known);
  CHECK_FALSE(model.root_position("cube"));
  CHECK_THROWS_AS(model.set_root(last.data(), 0, std::vector<float>{0, 0}), std::invalid_argument);
  CHECK_THROWS_AS(model.set_root(last.data(), 1, std::vector<float>{NAN, 0}),
                  std::invalid_argument);
  CHECK_THROWS_AS(model.set_root(last.data(), 1, std::vector<float>{0, 0}, std::vector<float>{1}),
                  std::invalid_argument);
  remove_dir(dir);
}

TEST_CASE("PosePlanModel's returns equal push's reward on poses worked out by hand",
          "[pose_plan]") {
  const auto scene = scene_named("push");
  const auto dir = temp_dir("score");
  // The network's constant output (body frame, scaled): the cube moves 0.5 s in x and -0.25 s in
  // y of its own frame per tick and turns 0.02 rad per tick.
  const float bias[3] = {0.5f, -0.25f, 0.2f};
  const auto dyn = ag::PoseDynamics::load(constant_model(dir, "c.pt", bias));
  const auto reach = ag::ReachShaping::from_scene(*scene, 1.0, 0.08);
  ag::PosePlanModel model(scene, dyn, 3, &reach);
  const sim::Renderer renderer(scene);
  sim::World world(scene, 7011);
  const auto rgb = render(renderer, *scene, world);
  const Truth t = truth(*scene, world);
  std::vector<float> markers(scene->markers.size() * 3);
  world.marker_positions(markers);
  model.set_markers(markers);
  model.set_root(rgb.data(), 1, std::vector<float>{t.p[0], t.p[1]});
  const auto root = model.root();
  REQUIRE(root.seen);
  const int l = 6, k = 3;
  const float s = 0.5f / 30;
  std::vector<float> plans(k * l * 2);
  for (int i = 0; i < k; ++i)
    for (int h = 0; h < l; ++h) {
      plans[(i * l + h) * 2] = i == 0 ? 1.0f : i == 1 ? -0.4f : 2.0f;  // 2.0: clamped to 1
      plans[(i * l + h) * 2 + 1] = i == 0 ? 0.3f : i == 1 ? 0.9f : -3.0f;
    }
  std::vector<double> returns(k);
  const float gamma = 0.9f;
  model.score(plans, k, l, gamma, returns);
  const double gx = markers[0], gy = markers[1];
  for (int i = 0; i < k; ++i) {
    double px = t.p[0], py = t.p[1], cx = root.c[0], cy = root.c[1], th = root.th;
    double ret = 0, disc = 1;
    for (int h = 0; h < l; ++h) {
      px += std::clamp(plans[(i * l + h) * 2], -1.0f, 1.0f) * s;
      py += std::clamp(plans[(i * l + h) * 2 + 1], -1.0f, 1.0f) * s;
      const double phi = fold90(th);
      cx += (std::cos(phi) * 0.5 - std::sin(phi) * -0.25) * s;
      cy += (std::sin(phi) * 0.5 + std::cos(phi) * -0.25) * s;
      th += 0.2 * 0.1;
      const double d = std::hypot(cx - gx, cy - gy);
      double r = -d;  // push: -|cube - goal|, +10 within 5 cm (ends the plan)
      // Reach shaping: -1 x |pusher - (cube + 0.08 unit(cube - goal))|.
      const double bx = cx + 0.08 * (cx - gx) / d, by = cy + 0.08 * (cy - gy) / d;
      r -= std::hypot(px - bx, py - by);
      bool done = false;
      if (d < 0.05) r += 10, done = true;
      ret += disc * r;
      disc *= gamma;
      if (done) break;
    }
    INFO("plan " << i);
    CHECK(returns[i] == Approx(ret).epsilon(1e-5));
  }
  // The imagined poses follow the same rule; the frames show them.
  const auto poses = model.imagine_poses(std::span(plans).subspan(0, l * 2), l);
  REQUIRE(poses.size() == static_cast<std::size_t>(l + 1) * 6);
  CHECK(poses[0] == t.p[0]);
  CHECK(poses[6 * l] == Approx(t.p[0] + l * s).epsilon(1e-5));
  CHECK(poses[6 * l + 5] == Approx(root.th + l * 0.02).epsilon(1e-5));
  const auto frames = model.imagine(std::span(plans).subspan(0, l * 2), l);
  CHECK(frames.size() == static_cast<std::size_t>(l) * 64 * 64 * 3);
  CHECK_THROWS_AS(model.score(plans, 4, l, gamma, returns), std::invalid_argument);
  remove_dir(dir);
}

TEST_CASE("run_plan with the pose-space model plans and reports and refuses frame options",
          "[pose_plan]") {
  const auto scene = scene_named("push");
  const auto dir = temp_dir("run");
  const float still[3] = {0, 0, 0};
  ag::PlanRunOptions o;
  o.pose_model = ag::PoseDynamics::load(constant_model(dir, "s.pt", still));
  o.pose_reward = true;
  o.planner.kind = ag::PlannerKind::kCem;
  o.planner.candidates = 8, o.planner.horizon = 5, o.planner.iterations = 2;
  o.planner.elites = 2;
  o.episodes = 1, o.max_steps = 10, o.replan_every = 5, o.seed = 7020;
  o.reach = 1.0, o.reach_behind = 0.08;
  o.strips = true;
  const auto report = ag::run_plan(scene, nullptr, o, {});
  REQUIRE(report.episodes.size() == 1);
  CHECK(report.episodes[0].decisions == 2);
  CHECK(report.latency_ms.size() == 2);
  // Deterministic for a seed.
  const auto again = ag::run_plan(scene, nullptr, o, {});
  CHECK(again.episodes[0].ret == report.episodes[0].ret);
  for (int bad = 0; bad < 4; ++bad) {
    auto b = o;
    if (bad == 0) b.contact_gate = 0.1;
    if (bad == 1) b.edge_guard = true;
    if (bad == 2) b.terminal_value = true;
    if (bad == 3) b.world = "bullet";
    INFO("bad option " << bad);
    CHECK_THROWS_AS(ag::run_plan(scene, nullptr, b, {}), std::invalid_argument);
  }
  remove_dir(dir);
}

// Hidden: driven by tests/python/pose_reference.sh, which writes a checkpoint with
// worldmodel/python/train_pose_dynamics.py's network and its PyTorch outputs on random inputs.
TEST_CASE("PoseDynamics equals PyTorch's forward", "[.][pose_reference]") {
  const char* ck = std::getenv("PARALLAX_POSE_CHECKPOINT");
  const char* cases = std::getenv("PARALLAX_POSE_CASES");
  REQUIRE(ck);
  REQUIRE(cases);
  const auto m = ag::PoseDynamics::load(ck);
  const auto j = nlohmann::json::parse(std::ifstream(cases));
  const int b = static_cast<int>(j["th"].size());
  REQUIRE(b >= 100);
  auto v = [&](const char* key) { return j[key].get<std::vector<float>>(); };
  const auto p = v("p"), pn = v("pn"), c = v("c"), cp = v("cp"), th = v("th"), thp = v("thp");
  const auto want_c = v("c_next"), want_th = v("th_next");
  std::vector<float> got_c(2 * b), got_th(b);
  m->step(b, p.data(), pn.data(), c.data(), cp.data(), th.data(), thp.data(), got_c.data(),
          got_th.data());
  double worst = 0;
  for (int i = 0; i < 2 * b; ++i) worst = std::max(worst, double(std::abs(got_c[i] - want_c[i])));
  for (int i = 0; i < b; ++i) worst = std::max(worst, double(std::abs(got_th[i] - want_th[i])));
  INFO("worst difference " << worst);
  CHECK(worst < 2e-6);
}
