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

TEST_CASE("World: save/restore reproduces the trajectory to the bit, also in another world",
          "[world][state]") {
  for (const char* name : {"push"}) {
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
