// World: determinism, exact save/restore, bad actions.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstring>
#include <limits>

#include "sim_test_util.hpp"

using namespace parallax::sim;
using namespace parallax::sim::test;

namespace {
bool bit_equal(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}
}  // namespace

TEST_CASE("push: two fresh worlds are bit-identical for 1000 steps", "[world][determinism]") {
  auto scene = shipped("push");
  World a(scene, 7), b(scene, 7);
  std::mt19937_64 rng(123);
  std::vector<float> act(static_cast<std::size_t>(scene->action_size()));
  int moved = 0;
  auto start = poses_of(a);
  for (int t = 0; t < 1000; ++t) {
    random_actions(rng, act);
    StepResult ra = a.step(act), rb = b.step(act);
    REQUIRE(std::memcmp(&ra.reward, &rb.reward, sizeof(float)) == 0);
    REQUIRE(ra.terminated == rb.terminated);
    REQUIRE(ra.truncated == rb.truncated);
    auto pa = poses_of(a);
    REQUIRE(bit_equal(pa, poses_of(b)));
    REQUIRE(bit_equal(velocities_of(a), velocities_of(b)));
    if (!bit_equal(pa, start)) ++moved;
  }
  CHECK(moved > 900);  // the test is not vacuous: things move
  CHECK(a.steps() == 1000);
}

TEST_CASE("World: reset gives the same state for the same seed and another for another seed",
          "[world][determinism]") {
  auto scene = shipped("push");
  World a(scene, 3);
  auto p3 = poses_of(a);
  std::vector<float> act(2, 0.7f);
  for (int t = 0; t < 20; ++t) a.step(act);
  a.reset(3);
  CHECK(bit_equal(poses_of(a), p3));
  CHECK(a.steps() == 0);
  a.reset(4);
  CHECK(!bit_equal(poses_of(a), p3));
}

TEST_CASE("World: save/restore reproduces the trajectory to the bit even in another world",
          "[world][state]") {
  for (const char* name : {"push", "billiards", "tower", "cartpole", "reacher"}) {
    INFO(name);
    auto scene = shipped(name);
    World live(scene, 11);
    std::mt19937_64 rng(5);
    std::vector<float> act(static_cast<std::size_t>(scene->action_size()));
    for (int t = 0; t < 40; ++t) {
      random_actions(rng, act);
      live.step(act);
    }
    WorldState s = live.save_state();
    std::mt19937_64 rng_copy = rng;
    // Continue the live world.
    std::vector<std::vector<float>> traj;
    std::vector<float> rewards;
    for (int t = 0; t < 100; ++t) {
      random_actions(rng, act);
      rewards.push_back(live.step(act).reward);
      traj.push_back(poses_of(live));
    }
    // Restore into the same world and into a fresh one with another seed.
    World other(scene, 999);
    for (World* w : {&live, &other}) {
      w->restore_state(s);
      CHECK(w->steps() == 40);
      std::mt19937_64 r2 = rng_copy;
      for (int t = 0; t < 100; ++t) {
        random_actions(r2, act);
        float rw = w->step(act).reward;
        REQUIRE(std::memcmp(&rw, &rewards[t], sizeof(float)) == 0);
        REQUIRE(bit_equal(poses_of(*w), traj[t]));
      }
    }
  }
}

TEST_CASE("World: actions of the wrong size or non-finite are refused", "[world][bad-input]") {
  auto scene = shipped("push");
  World w(scene, 0);
  auto before = poses_of(w);
  std::vector<float> small(1, 0.0f), big(3, 0.0f);
  CHECK_THROWS_AS(w.step(small), std::invalid_argument);
  CHECK_THROWS_AS(w.step(big), std::invalid_argument);
  std::vector<float> nan{0.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_WITH(w.step(nan), Catch::Contains("action[1]") && Catch::Contains("nan"));
  std::vector<float> inf{std::numeric_limits<float>::infinity(), 0.0f};
  CHECK_THROWS_WITH(w.step(inf), Catch::Contains("action[0]") && Catch::Contains("inf"));
  CHECK(w.steps() == 0);
  CHECK(bit_equal(poses_of(w), before));  // nothing was stepped
}

TEST_CASE("World: a hinge motor turns the commanded way and a slider stays in its limits",
          "[world][joints]") {
  auto scene = inline_scene(R"({"name": "arm", "physics_hz": 240, "control_hz": 30,
    "gravity": [0, 0, -9.81],
    "bodies": [
      {"name": "link", "shape": "box", "half_extents": [0.1, 0.01, 0.01], "mass": 0.2,
       "position": [0.1, 0, 0.5]},
      {"name": "cart", "shape": "box", "half_extents": [0.05, 0.05, 0.05], "mass": 1.0,
       "position": [0, 1, 0.5]}],
    "joints": [
      {"name": "hinge", "type": "hinge", "body_b": "link", "pivot": [0, 0, 0.5],
       "axis": [0, 0, 1], "max_motor_force": 5.0},
      {"name": "rail", "type": "slider", "body_b": "cart", "pivot": [0, 1, 0.5],
       "axis": [1, 0, 0], "limits": {"low": -0.2, "high": 0.3}}],
    "actuators": [{"type": "joint_velocity", "joint": "hinge", "max_speed": 2.0},
                  {"type": "joint_torque", "joint": "rail", "max_force": 20.0}]})");
  World w(scene, 0);
  std::vector<float> js(4), act{0.5f, 1.0f};
  for (int t = 0; t < 15; ++t) w.step(act);  // 0.5 s
  w.joint_states(js);
  CHECK(js[1] == Approx(1.0).epsilon(0.02));  // rad/s = 0.5 * max_speed, positive about +z
  CHECK(js[0] == Approx(0.5).margin(0.05));   // angle after 0.5 s at 1 rad/s
  auto p = poses_of(w);
  // The link's far end moved counter-clockwise (+y) seen from above.
  CHECK(p[1] > 0.04);
  CHECK(js[2] == Approx(0.3).margin(0.01));  // pushed to the upper slider limit, m
  CHECK(p[7] == Approx(0.3).margin(0.01));   // the cart's x
  CHECK(p[9] == Approx(0.5).margin(1e-3));   // the slider holds it against gravity
  act = {-1.0f, -1.0f};
  for (int t = 0; t < 30; ++t) w.step(act);
  w.joint_states(js);
  CHECK(js[1] == Approx(-2.0).epsilon(0.02));
  CHECK(js[2] == Approx(-0.2).margin(0.01));
}

TEST_CASE("World: randomised size and mass and colour are per episode and part of the state",
          "[world][state]") {
  auto scene = inline_scene(R"({"name": "sizes", "physics_hz": 240, "control_hz": 30,
    "bodies": [
      {"name": "floor", "shape": "plane"},
      {"name": "box", "shape": "box", "half_extents": [0.05, 0.05, 0.05], "mass": 1.0,
       "position": [0, 0, 0.2],
       "randomize": {"size_scale": {"low": 0.5, "high": 2.0}, "mass_scale": {"low": 0.5, "high": 2.0},
                     "color": {"low": [0, 0, 0], "high": [1, 1, 1]}}}]})");
  World a(scene, 1), b(scene, 2);
  std::vector<float> sa(2), sb(2), ca(6), cb(6);
  a.body_size_scales(sa), b.body_size_scales(sb);
  a.body_colors(ca), b.body_colors(cb);
  CHECK(sa[0] == 1.0f);
  CHECK(sa[1] != sb[1]);
  CHECK(ca != cb);
  // Each box settles on the floor at its own half height: the size is physical.
  for (int t = 0; t < 60; ++t) a.step({}), b.step({});
  CHECK(poses_of(a)[9] == Approx(0.05 * sa[1]).margin(0.003));
  CHECK(poses_of(b)[9] == Approx(0.05 * sb[1]).margin(0.003));
  // Restoring a's state into b brings a's size and colour along.
  b.restore_state(a.save_state());
  b.body_size_scales(sb), b.body_colors(cb);
  CHECK(sb == sa);
  CHECK(cb == ca);
  for (int t = 0; t < 10; ++t) a.step({}), b.step({});
  CHECK(poses_of(a) == poses_of(b));

  // Mass, measured by its physics: no gravity, a 1 N force along x for one control step of
  // 1/30 s from rest gives v = F t / m (the force is applied at every physics substep and Bullet's
  // semi-implicit Euler integrates it exactly), so m = F t / v.
  auto pushed = [](const std::string& mass_scale) {
    return inline_scene(R"({"name": "masses", "physics_hz": 240, "control_hz": 30,
      "gravity": [0, 0, 0],
      "bodies": [{"name": "box", "shape": "box", "half_extents": [0.05, 0.05, 0.05], "mass": 1.0,
                  "randomize": {"mass_scale": )" +
                        mass_scale + R"(}}],
      "actuators": [{"type": "force", "body": "box", "max_force": 1.0, "axis": [1, 0, 0]}]})");
  };
  auto measured_mass = [](World& w) {
    const float before = velocities_of(w)[0];
    const std::vector<float> push = {1.0f};
    w.step(push);
    return 1.0 * (1.0 / 30) / (velocities_of(w)[0] - before);
  };
  World fixed(pushed(R"({"low": 1.7, "high": 1.7})"), 0);
  CHECK(measured_mass(fixed) == Approx(1.7).epsilon(1e-4));  // nominal 1 kg x scale 1.7
  auto ranged = pushed(R"({"low": 0.5, "high": 2.0})");
  World ma(ranged, 1), mb(ranged, 2);
  const double mass_a = measured_mass(ma), mass_b = measured_mass(mb);
  INFO("masses " << mass_a << " and " << mass_b << " kg");
  CHECK(mass_a >= 0.5 - 1e-4);
  CHECK(mass_a <= 2.0 + 1e-4);
  CHECK(std::abs(mass_a - mass_b) > 0.01);  // per episode: two seeds, two masses
  // The mass is part of the state: b restored from a's snapshot answers the push as a does.
  ma.reset(1), mb.reset(2);
  mb.restore_state(ma.save_state());
  CHECK(measured_mass(mb) == measured_mass(ma));
}

TEST_CASE("World: a snapshot of another scene is refused", "[world][state][bad-input]") {
  World push(shipped("push"), 0), reacher(shipped("reacher"), 0);
  CHECK_THROWS_AS(push.restore_state(reacher.save_state()), std::invalid_argument);
}

TEST_CASE("World: a state that overflows is reported as divergence and ends the episode",
          "[world][bad-input]") {
  // Bad numbers are data: a body pushed past the float range terminates with reward 0. The
  // scene loader refuses such values (gravity and velocity beyond their physical ranges), so
  // the world is pushed there by perturb: 3e38 m sideways, whose squared norm overflows.
  CHECK_THROWS_AS(inline_scene(R"({"name": "overflow", "gravity": [0, 0, -3e38],
    "bodies": [{"name": "ball", "shape": "sphere", "radius": 0.05, "mass": 1.0}]})"),
                  SceneError);
  auto scene = inline_scene(R"({"name": "overflow", "physics_hz": 240, "control_hz": 30,
    "bodies": [{"name": "ball", "shape": "sphere", "radius": 0.05, "mass": 1.0,
                "linear_velocity": [0, 0, -1000]}],
    "reward": [{"type": "height", "a": "ball", "weight": 1.0}]})");
  World w(scene, 0);
  w.perturb(3e38f, 0, 1);
  StepResult r;
  int t = 0;
  for (; t < 50 && !w.diverged(); ++t) r = w.step({});
  REQUIRE(w.diverged());
  CHECK(r.terminated);
  CHECK(r.reward == 0.0f);
  CHECK(t < 20);
  w.reset(0);
  CHECK(!w.diverged());  // a reset starts clean
}
