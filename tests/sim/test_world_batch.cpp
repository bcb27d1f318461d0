// WorldBatch: EnvPool-style determinism, thread-count independence, autoreset semantics.
#include <malloc.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "parallax/sim/world_batch.hpp"
#include "sim_test_util.hpp"

using namespace parallax::sim;
using namespace parallax::sim::test;

namespace {

// Hash of a whole run: every output of every env at every step.
std::uint64_t run_hash(const std::string& scene_name, int envs, int threads, int steps,
                       std::uint64_t seed) {
  auto scene = shipped(scene_name);
  WorldBatch batch(scene, envs, seed, threads);
  std::mt19937_64 rng(42);
  std::vector<float> act(static_cast<std::size_t>(envs * batch.action_size()));
  std::uint64_t h = 1469598103934665603ull;
  fnv(h, batch.poses());
  for (int t = 0; t < steps; ++t) {
    random_actions(rng, act);
    batch.step(act);
    fnv(h, batch.poses());
    fnv(h, batch.velocities());
    fnv(h, batch.rewards());
    fnv(h, batch.terminated());
    fnv(h, batch.truncated());
    fnv(h, batch.reset_mask());
  }
  return h;
}

}  // namespace

TEST_CASE("WorldBatch: a 64-env run hashes the same for 1 and 2 and 4 threads",
          "[batch][determinism]") {
  for (const char* name : {"push", "billiards", "tower", "cartpole", "reacher"}) {
    INFO(name);
    // 160 steps: past the end of the 100- and 150-step episodes, so autoresets are hashed too.
    std::uint64_t h1 = run_hash(name, 64, 1, 160, 0);
    CHECK(run_hash(name, 64, 2, 160, 0) == h1);
    CHECK(run_hash(name, 64, 4, 160, 0) == h1);
    CHECK(run_hash(name, 64, 1, 160, 1) != h1);  // a hash that cannot tell runs apart is useless
  }
}

TEST_CASE("WorldBatch: seed 0 twice matches at every step and seed 1 differs (outputs in bounds)",
          "[batch][determinism]") {
  auto scene = shipped("push");
  const int N = 8;
  WorldBatch a(scene, N, 0, 2), b(scene, N, 0, 1), c(scene, N, 1, 2);
  std::mt19937_64 rng(9);
  std::vector<float> act(static_cast<std::size_t>(N * a.action_size()));
  int differs = 0;
  for (int t = 0; t < 300; ++t) {
    random_actions(rng, act);
    a.step(act), b.step(act), c.step(act);
    REQUIRE(std::memcmp(a.poses().data(), b.poses().data(), a.poses().size_bytes()) == 0);
    REQUIRE(std::memcmp(a.rewards().data(), b.rewards().data(), a.rewards().size_bytes()) == 0);
    if (std::memcmp(a.poses().data(), c.poses().data(), a.poses().size_bytes()) != 0) ++differs;
    for (float p : a.poses()) REQUIRE(std::isfinite(p));
    // Every pose component of every body against the bounds that push.json implies.
    for (int e = 0; e < N; ++e) {
      INFO("step " << t << ", env " << e);
      const float* p = &a.poses()[static_cast<std::size_t>(e) * 3 * 7];  // [3 bodies, 7]
      for (int k = 0; k < 3; ++k) {
        const float* q = p + 7 * k + 3;  // unit quaternion
        REQUIRE(std::abs(q[0] * q[0] + q[1] * q[1] + q[2] * q[2] + q[3] * q[3] - 1.0f) < 1e-4f);
      }
      // table: static, at the origin with the identity orientation.
      for (int c = 0; c < 7; ++c) REQUIRE(p[c] == (c == 6 ? 1.0f : 0.0f));
      // pusher: kinematic, z held at 0.031 m, never rotated; x, y start in [-0.3, 0.3] m and
      // move at most max_speed 0.5 m/s x 5 s of a 150-step episode at 30 Hz.
      REQUIRE(std::abs(p[7]) <= 0.3f + 2.5f);
      REQUIRE(std::abs(p[8]) <= 0.3f + 2.5f);
      REQUIRE(p[9] == Approx(0.031f).margin(1e-5));
      REQUIRE(std::abs(p[13]) == Approx(1.0f).margin(1e-5));
      // cube: the episode ends once |x| or |y| > 0.6 m, so it never gets much further than one
      // step beyond (pushed at <= 0.5 m/s: 0.017 m per step, plus a margin); it rests on the table
      // (half size 0.04 m) and at most stands on an edge or corner (0.04 sqrt(3) = 0.069 m).
      REQUIRE(std::abs(p[14]) < 0.65f);
      REQUIRE(std::abs(p[15]) < 0.65f);
      REQUIRE(p[16] > 0.035f);
      REQUIRE(p[16] < 0.075f);
      // goal marker: drawn in its randomize box, on the table.
      const float* g = &a.marker_positions()[static_cast<std::size_t>(e) * 3];
      REQUIRE(g[0] >= 0.15f);
      REQUIRE(g[0] <= 0.3f);
      REQUIRE(g[1] >= -0.25f);
      REQUIRE(g[1] <= 0.25f);
      REQUIRE(g[2] == 0.0f);
      // reward: -|cube - goal|_xy (at most |0.65 + 0.3| and |0.65 + 0.25| apart) + bonus 10.
      REQUIRE(a.rewards()[e] >= -std::hypot(0.95f, 0.9f));
      REQUIRE(a.rewards()[e] <= 10.0f);
    }
  }
  CHECK(differs == 300);
}

TEST_CASE("WorldBatch: env i's first episode equals a World seeded seed + i", "[batch]") {
  auto scene = shipped("push");
  WorldBatch batch(scene, 4, 100, 2);
  World w(scene, 102);
  std::vector<float> p(batch.num_bodies() * 7);
  w.poses(p);
  CHECK(std::memcmp(p.data(), batch.poses().data() + 2 * p.size(), p.size() * 4) == 0);
  std::vector<float> act(4 * 2, 0.3f), one(2, 0.3f);
  batch.step(act);
  w.step(one);
  w.poses(p);
  CHECK(std::memcmp(p.data(), batch.poses().data() + 2 * p.size(), p.size() * 4) == 0);
}

TEST_CASE("WorldBatch: next-step autoreset after truncation", "[batch][autoreset]") {
  auto scene = shipped("push");
  const int N = 3;
  WorldBatch batch(scene, N, 5, 1);
  std::vector<float> zero(static_cast<std::size_t>(N * batch.action_size()), 0.0f);
  const int T = scene->episode_steps;
  for (int t = 1; t <= T; ++t) {
    batch.step(zero);
    for (int i = 0; i < N; ++i) {
      // With zero actions nothing can reach the goal, so every episode runs to truncation.
      REQUIRE(batch.terminated()[i] == 0);
      REQUIRE(batch.truncated()[i] == (t == T ? 1 : 0));
      REQUIRE(batch.reset_mask()[i] == 0);
    }
  }
  batch.step(zero);
  World fresh(scene, 5 + 1 + N);  // env 1, episode 1: seed + i + 1 * N
  std::vector<float> p(batch.num_bodies() * 7);
  fresh.poses(p);
  for (int i = 0; i < N; ++i) {
    CHECK(batch.reset_mask()[i] == 1);
    CHECK(batch.rewards()[i] == 0.0f);
    CHECK(batch.truncated()[i] == 0);
  }
  CHECK(batch.episode_seeds()[1] == 5 + 1 + N);
  CHECK(std::memcmp(p.data(), batch.poses().data() + p.size(), p.size() * 4) == 0);
  CHECK(batch.world(1).steps() == 0);
}

TEST_CASE("WorldBatch: bad actions are refused before any env steps", "[batch][bad-input]") {
  auto scene = shipped("push");
  WorldBatch batch(scene, 2, 0, 2);
  std::vector<float> act(4, 0.0f);
  act[3] = std::nanf("");
  CHECK_THROWS_WITH(batch.step(act), Catch::Contains("actions[1, 1]"));
  CHECK(batch.world(0).steps() == 0);
  std::vector<float> short_act(3, 0.0f);
  CHECK_THROWS_AS(batch.step(short_act), std::invalid_argument);
}

TEST_CASE("WorldBatch: joint states and per-episode appearance match each env's World", "[batch]") {
  auto scene = shipped("reacher");
  const int N = 3;
  WorldBatch batch(scene, N, 7, 2);
  REQUIRE(batch.num_joints() == 2);
  std::vector<float> act(static_cast<std::size_t>(N * batch.action_size()), 0.5f);
  for (int t = 0; t < 5; ++t) batch.step(act);
  for (int i = 0; i < N; ++i) {
    std::vector<float> js(4), colors(batch.num_bodies() * 3), scales(batch.num_bodies());
    batch.world(i).joint_states(js);
    batch.world(i).body_colors(colors);
    batch.world(i).body_size_scales(scales);
    CHECK(std::memcmp(js.data(), batch.joint_states().data() + i * 4, 16) == 0);
    CHECK(std::memcmp(colors.data(), batch.body_colors().data() + i * colors.size(),
                      colors.size() * 4) == 0);
    CHECK(std::memcmp(scales.data(), batch.body_size_scales().data() + i * scales.size(),
                      scales.size() * 4) == 0);
    CHECK(js[1] == Approx(2.0).margin(0.1));  // shoulder turning at 0.5 * 4 rad/s
  }
}

TEST_CASE("WorldBatch: envs that cannot fit in memory are refused before allocating",
          "[batch][bad-input]") {
  auto scene = shipped("push");
  const auto t0 = std::chrono::steady_clock::now();
  try {
    WorldBatch batch(scene, 1000000, 0, 1);
    FAIL("1000000 envs were built");
  } catch (const std::length_error& e) {
    const std::string what = e.what();
    INFO(what);
    CHECK(what.find("1000000 envs of scene push") != std::string::npos);
    CHECK(what.find("GiB") != std::string::npos);
    CHECK(what.find("use at most") != std::string::npos);
  }
  CHECK(std::chrono::steady_clock::now() - t0 < std::chrono::seconds(2));  // nothing was built
}

// The estimate behind that refusal must not be below what an env really takes: heap bytes in
// use (mallinfo2: resident-set deltas miss memory the allocator already holds from earlier tests).
TEST_CASE("WorldBatch: estimated_env_bytes bounds the heap memory of each shipped scene",
          "[batch]") {
  auto heap_bytes = [] {
    const struct mallinfo2 mi = ::mallinfo2();
    return static_cast<double>(mi.uordblks) + static_cast<double>(mi.hblkhd);
  };
  constexpr int kEnvs = 64;
  for (const auto& name : shipped_scenes()) {
    auto scene = shipped(name);
    const double before = heap_bytes();
    WorldBatch batch(scene, kEnvs, 0, 1);
    const double per_env = (heap_bytes() - before) / kEnvs;
    const double estimate = static_cast<double>(WorldBatch::estimated_env_bytes(*scene));
    INFO(name << ": " << per_env / 1024 << " KiB per env in use, estimate " << estimate / 1024
              << " KiB");
    CHECK(per_env <= estimate);
    CHECK(per_env > 0.5 * estimate);
  }
}
