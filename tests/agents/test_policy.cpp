// Policies: ranges, determinism per (seed, episode seed), errors, and that the experts actually
// work in Bullet: push is solved, tower falls, and on billiards, cartpole and reacher the expert
// earns clearly more return than random over the same seeds.
#include <algorithm>
#include <catch2/catch.hpp>
#include <cmath>
#include <iostream>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "parallax/agents/policy.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world_batch.hpp"

using parallax::agents::make_policy;
using parallax::agents::PolicyInput;
using parallax::sim::SceneModel;

namespace {

std::shared_ptr<const SceneModel> push_scene() {
  return std::make_shared<const SceneModel>(parallax::sim::resolve_scene("push"));
}

struct Outcome {
  int episodes = 0, successes = 0;
};

// Runs `kind` on push for `steps` control steps with N envs; a success is a terminating step
// that paid the success bonus (reward > 5; the distance term is at most ~1 in magnitude).
Outcome run(const std::string& kind, int n, int steps, std::uint64_t seed) {
  auto scene = push_scene();
  parallax::sim::WorldBatch batch(scene, n, seed, 2);
  auto policy = make_policy(kind, scene, n, seed);
  const int a = scene->action_size();
  std::vector<float> actions(static_cast<std::size_t>(n * a));  // [N, A]
  for (int i = 0; i < n; ++i) policy->reset(i, batch.episode_seeds()[i]);
  Outcome out;
  for (int t = 0; t < steps; ++t) {
    PolicyInput in{
        n, a, batch.poses(), batch.marker_positions(), batch.velocities(), batch.joint_states()};
    policy->act(in, actions);
    for (float v : actions) REQUIRE((v >= -1.0f && v <= 1.0f));
    batch.step(actions);
    for (int i = 0; i < n; ++i) {
      if (batch.reset_mask()[i]) {
        policy->reset(i, batch.episode_seeds()[i]);
        continue;
      }
      if (batch.terminated()[i] || batch.truncated()[i]) {
        out.episodes += 1;
        out.successes += batch.terminated()[i] && batch.rewards()[i] > 5.0f;
      }
    }
  }
  return out;
}

struct Returns {
  double mean = 0;    // mean undiscounted return per episode
  int successes = 0;  // episodes that ended on a step paying a success bonus (reward > 2)
};

// The first episode of each of `n` envs (episode seeds seed + i) with policy `kind` (policy seed
// 3). The success bonuses (billiards 10, reacher 5) dwarf the per-step terms (|r| < ~1).
Returns first_episodes(const std::string& scene_name, const std::string& kind, int n,
                       std::uint64_t seed) {
  auto scene = std::make_shared<const SceneModel>(parallax::sim::resolve_scene(scene_name));
  parallax::sim::WorldBatch batch(scene, n, seed, 2);
  auto policy = make_policy(kind, scene, n, 3);
  const int a = scene->action_size();
  for (int i = 0; i < n; ++i) policy->reset(i, batch.episode_seeds()[i]);
  std::vector<float> actions(static_cast<std::size_t>(n * a));  // [N, A]
  std::vector<double> ret(static_cast<std::size_t>(n), 0.0);
  std::vector<char> done(static_cast<std::size_t>(n), 0);
  Returns out;
  while (std::count(done.begin(), done.end(), 1) < n) {
    policy->act(
        {n, a, batch.poses(), batch.marker_positions(), batch.velocities(), batch.joint_states()},
        actions);
    batch.step(actions);
    for (int i = 0; i < n; ++i) {
      if (done[i]) continue;
      ret[i] += batch.rewards()[i];
      done[i] = batch.terminated()[i] || batch.truncated()[i];
      out.successes += batch.terminated()[i] && batch.rewards()[i] > 2.0f;
    }
  }
  for (double r : ret) out.mean += r / n;
  return out;
}

// Expert vs random over the same 8 seeds: "clearly more" = better by at least 20 % of random's
// magnitude and by at least 1 reward unit (as in tests/sim/test_scenes.cpp). Returns both.
std::pair<Returns, Returns> check_expert_beats_random(const std::string& scene_name) {
  const Returns expert = first_episodes(scene_name, "expert", 8, 500);
  const Returns random = first_episodes(scene_name, "random", 8, 500);
  std::cout << scene_name << ": mean return expert " << expert.mean << " (" << expert.successes
            << "/8 successes), random " << random.mean << " (" << random.successes << "/8)\n";
  INFO(scene_name << ": mean return expert " << expert.mean << " (" << expert.successes
                  << "/8 successes), random " << random.mean << " (" << random.successes << "/8)");
  CHECK(expert.mean > random.mean + std::max(1.0, 0.2 * std::abs(random.mean)));
  return {expert, random};
}

}  // namespace

TEST_CASE("policy: unknown kind and missing expert are named", "[policy]") {
  auto scene = push_scene();
  REQUIRE_THROWS_WITH(make_policy("greedy", scene, 1, 0), Catch::Contains("\"greedy\": unknown"));
  // The same scene with its pusher renamed has no scripted expert.
  std::string text = scene->source_json;
  for (std::size_t p; (p = text.find("pusher")) != std::string::npos;) text.replace(p, 6, "paddle");
  auto other = std::make_shared<const SceneModel>(parallax::sim::parse_scene(text, "renamed"));
  REQUIRE_THROWS_WITH(make_policy("noisy", other, 1, 0),
                      Catch::Contains("scene \"push\" has no scripted expert"));
  REQUIRE(make_policy("random", other, 1, 0) != nullptr);
  CHECK(parallax::agents::policy_kinds(*scene).size() == 3);
  CHECK(parallax::agents::policy_kinds(*other).size() == 1);
  CHECK(parallax::agents::all_policy_kinds(*scene) ==
        std::vector<std::string>{"random", "expert", "noisy", "decoy", "rush"});
  CHECK(parallax::agents::all_policy_kinds(*other).size() == 1);
  // decoy moves markers: a scene with an expert and no markers (tower) refuses it by name.
  auto tower = std::make_shared<const SceneModel>(parallax::sim::resolve_scene("tower"));
  REQUIRE_THROWS_WITH(make_policy("decoy", tower, 1, 0), Catch::Contains("has no markers"));
  REQUIRE_THROWS_WITH(make_policy("rush", tower, 1, 0), Catch::Contains("has no markers"));
  CHECK(parallax::agents::all_policy_kinds(*tower).size() == 3);
}

TEST_CASE("policy: actions depend only on the policy seed and episode seed (not on N)",
          "[policy]") {
  auto scene = push_scene();
  const int a = scene->action_size();
  const int k = static_cast<int>(scene->bodies.size()), m = static_cast<int>(scene->markers.size());
  for (const std::string kind : {"random", "noisy", "decoy", "rush"}) {
    INFO(kind);
    // Env 0 of a 1-env policy and env 2 of a 3-env policy, both reset with episode seed 77.
    auto p1 = make_policy(kind, scene, 1, 5);
    auto p3 = make_policy(kind, scene, 3, 5);
    auto q1 = make_policy(kind, scene, 1, 6);  // another policy seed
    p1->reset(0, 77);
    p3->reset(2, 77);
    q1->reset(0, 77);
    std::vector<float> poses(3 * k * 7, 0.0f), markers(3 * m * 3, 0.1f);
    for (int i = 0; i < 3 * k; ++i) poses[i * 7 + 6] = 1.0f;  // identity quaternions
    std::vector<float> x1(a), x3(3 * a), y1(a);
    bool differs = false;
    for (int t = 0; t < 20; ++t) {
      p1->act({1, a, std::span(poses).first(k * 7), std::span(markers).first(m * 3)}, x1);
      p3->act({3, a, poses, markers}, x3);
      q1->act({1, a, std::span(poses).first(k * 7), std::span(markers).first(m * 3)}, y1);
      for (int c = 0; c < a; ++c) {
        REQUIRE(x1[c] == x3[2 * a + c]);
        differs |= x1[c] != y1[c];
      }
    }
    CHECK(differs);  // a different policy seed gives different actions
  }
}

TEST_CASE("policy: the push expert solves push (noisy often and random rarely)", "[policy][sim]") {
  const Outcome expert = run("expert", 16, 300, 100);
  const Outcome noisy = run("noisy", 16, 300, 100);
  const Outcome random = run("random", 16, 300, 100);
  const auto rate = [](const Outcome& o) {
    return o.episodes ? double(o.successes) / o.episodes : 0.0;
  };
  INFO("expert " << expert.successes << "/" << expert.episodes << ", noisy " << noisy.successes
                 << "/" << noisy.episodes << ", random " << random.successes << "/"
                 << random.episodes);
  REQUIRE(expert.episodes >= 16);
  CHECK(rate(expert) >= 0.8);
  CHECK(rate(noisy) >= 0.4);
  CHECK(rate(random) <= 0.2);
  CHECK(rate(expert) > rate(random) + 0.5);
}

// decoy: the expert chasing random goals pushes the cube about as far as the expert does, but
// not onto the goal (the expert: every episode; the test above).
TEST_CASE("policy: the push decoy moves the cube but not onto the goal", "[policy][sim]") {
  auto scene = push_scene();
  const int n = 16, a = scene->action_size(), cube = scene->body_index("cube");
  const std::size_t k = scene->bodies.size();
  parallax::sim::WorldBatch batch(scene, n, 41, 2);
  auto policy = make_policy("decoy", scene, n, 41);
  for (int i = 0; i < n; ++i) policy->reset(i, batch.episode_seeds()[i]);
  std::vector<float> start(batch.poses().begin(), batch.poses().end());
  std::vector<float> actions(static_cast<std::size_t>(n * a));
  std::vector<char> ended(n, 0);
  std::vector<double> moved(n, 0.0);
  int successes = 0;
  for (int t = 0; t < scene->episode_steps; ++t) {
    policy->act({n, a, batch.poses(), batch.marker_positions()}, actions);
    batch.step(actions);
    for (int i = 0; i < n; ++i) {
      if (ended[i]) continue;
      const float* p = batch.poses().data() + (i * k + cube) * 7;
      const float* s = start.data() + (i * k + cube) * 7;
      moved[i] = std::max(moved[i], std::hypot(double(p[0]) - s[0], double(p[1]) - s[1]));
      if (batch.terminated()[i] || batch.truncated()[i]) {
        ended[i] = 1;
        successes += batch.rewards()[i] > 5.0f ? 1 : 0;  // the +10 success bonus
      }
    }
  }
  int pushed = 0;
  for (double d : moved) pushed += d > 0.05 ? 1 : 0;
  INFO("cube moved > 5 cm in " << pushed << " / " << n << ", successes " << successes);
  CHECK(pushed >= n / 2);
  CHECK(successes <= n / 4);
}

// rush: the decoy's pushes at up to full speed. The push expert pushes at 0.3 m/s at most
// (scripted_experts.cpp); rush multiplies its actions by 1.5-3, so the cube, while it moves,
// moves clearly faster than under the decoy over the same seeds, and it is still pushed about.
TEST_CASE("policy: the push rush pushes the cube faster than the decoy", "[policy][sim]") {
  auto scene = push_scene();
  const int n = 16, a = scene->action_size(), cube = scene->body_index("cube");
  const std::size_t k = scene->bodies.size();
  struct Pushes {
    std::vector<double> speeds;  // cube speed (m/s) at every tick it moves faster than 2 cm/s
    int pushed = 0;              // episodes with the cube moved more than 5 cm
  };
  const auto run_kind = [&](const std::string& kind) {
    parallax::sim::WorldBatch batch(scene, n, 43, 2);
    auto policy = make_policy(kind, scene, n, 43);
    for (int i = 0; i < n; ++i) policy->reset(i, batch.episode_seeds()[i]);
    std::vector<float> start(batch.poses().begin(), batch.poses().end());
    std::vector<float> actions(static_cast<std::size_t>(n * a));
    std::vector<double> moved(n, 0.0);
    Pushes out;
    for (int t = 0; t + 1 < scene->episode_steps; ++t) {  // one episode per env, no autoreset
      policy->act({n, a, batch.poses(), batch.marker_positions()}, actions);
      batch.step(actions);
      for (int i = 0; i < n; ++i) {
        const float* v = batch.velocities().data() + (i * k + cube) * 6;
        const double speed = std::hypot(double(v[0]), double(v[1]));
        if (speed > 0.02) out.speeds.push_back(speed);
        const float* p = batch.poses().data() + (i * k + cube) * 7;
        const float* s0 = start.data() + (i * k + cube) * 7;
        moved[i] = std::max(moved[i], std::hypot(double(p[0]) - s0[0], double(p[1]) - s0[1]));
      }
    }
    for (double d : moved) out.pushed += d > 0.05 ? 1 : 0;
    std::sort(out.speeds.begin(), out.speeds.end());
    return out;
  };
  const Pushes decoy = run_kind("decoy"), rush = run_kind("rush");
  REQUIRE(decoy.speeds.size() >= 20);
  REQUIRE(rush.speeds.size() >= 20);
  const auto p90 = [](const std::vector<double>& v) { return v[v.size() * 9 / 10]; };
  INFO("cube speed p90 while moving: decoy " << p90(decoy.speeds) << " m/s, rush "
                                             << p90(rush.speeds) << " m/s; pushed " << decoy.pushed
                                             << ", " << rush.pushed << " / " << n);
  CHECK(p90(rush.speeds) > 1.3 * p90(decoy.speeds));
  CHECK(rush.pushed >= n / 2);
}

TEST_CASE("policy: the tower expert brings the top block down", "[policy][sim]") {
  auto scene = std::make_shared<const SceneModel>(parallax::sim::resolve_scene("tower"));
  const int n = 8, a = scene->action_size();
  const int top = scene->body_index("block4");
  REQUIRE(top >= 0);
  // Height of the top block after 120 steps (s = 4 s) for each policy kind, mean over envs.
  auto final_top_z = [&](const std::string& kind) {
    parallax::sim::WorldBatch batch(scene, n, 9, 2);
    auto policy = make_policy(kind, scene, n, 9);
    for (int i = 0; i < n; ++i) policy->reset(i, batch.episode_seeds()[i]);
    std::vector<float> actions(static_cast<std::size_t>(n * a));  // [N, A]
    for (int t = 0; t < 120; ++t) {
      policy->act({n, a, batch.poses(), batch.marker_positions()}, actions);
      batch.step(actions);
    }
    const std::size_t k = scene->bodies.size();
    double z = 0;
    for (int i = 0; i < n; ++i) z += batch.poses()[(i * k + top) * 7 + 2];
    return z / n;
  };
  const double expert = final_top_z("expert"), random = final_top_z("random");
  INFO("mean top-block height: expert " << expert << " m, random " << random << " m");
  CHECK(expert < 0.07);  // fallen: the stacked top block starts at 0.21 m
  CHECK(random > 0.15);  // random jitter barely reaches the tower
}

TEST_CASE("policy: the billiards expert beats random", "[policy][sim]") {
  const auto [expert, random] = check_expert_beats_random("billiards");
  CHECK(expert.successes >= 6);  // the red ball reaches the pocket
  CHECK(random.successes <= 1);
}

TEST_CASE("policy: the cartpole expert beats random", "[policy][sim]") {
  const auto [expert, random] = check_expert_beats_random("cartpole");
  // Reward per step is cos(pole angle) - 0.2 |cart x|: hanging = -1, upright = +1, 300 steps.
  CHECK(expert.mean > 50.0);  // swung up and balanced for a good part of the episode
  CHECK(random.mean < -150.0);
}

TEST_CASE("policy: the reacher expert beats random", "[policy][sim]") {
  const auto [expert, random] = check_expert_beats_random("reacher");
  CHECK(expert.successes >= 6);  // the fingertip reaches the target disc
  CHECK(random.successes <= 2);  // random flailing sometimes passes over the disc
}

TEST_CASE("policy: experts that need velocities or joint states say so when they are missing",
          "[policy]") {
  for (const std::string name : {"billiards", "cartpole", "reacher"}) {
    INFO(name);
    auto scene = std::make_shared<const SceneModel>(parallax::sim::resolve_scene(name));
    CHECK(parallax::agents::policy_kinds(*scene).size() == 3);
    parallax::sim::WorldBatch batch(scene, 2, 1, 1);
    const int a = scene->action_size();
    std::vector<float> actions(static_cast<std::size_t>(2 * a));  // [N, A]
    auto policy = make_policy("noisy", scene, 2, 1);
    const std::string what = name == "billiards" ? "velocities" : "joint_states";
    REQUIRE_THROWS_AS(policy->act({2, a, batch.poses(), batch.marker_positions()}, actions),
                      std::invalid_argument);
    REQUIRE_THROWS_WITH(
        policy->act({2, a, batch.poses(), batch.marker_positions()}, actions),
        Catch::Contains("PolicyInput::" + what) && Catch::Contains("scene \"" + name + "\""));
    // With everything given it acts, within [-1, 1].
    policy->act(
        {2, a, batch.poses(), batch.marker_positions(), batch.velocities(), batch.joint_states()},
        actions);
    for (float v : actions) CHECK((v >= -1.0f && v <= 1.0f));
  }
}
