// The rollout engine and the seed rule (docs/agents.md "Seeds"): an episode is a function of
// (run seed, episode seed) alone, so collect's stored episodes, the arena's (demo, viewer) and a
// single World replayed by hand are the same, across resets.
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <limits>
#include <map>

#include "parallax/agents/arena.hpp"
#include "parallax/agents/arena_report.hpp"
#include "parallax/agents/episode_recorder.hpp"
#include "parallax/agents/rollout.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "still_world_model.hpp"

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace wm = parallax::worldmodel;

namespace {

// push with 5-step episodes: several autoresets in a short run.
std::shared_ptr<const sim::SceneModel> short_push() {
  auto s = sim::resolve_scene("push");
  s.episode_steps = 5;
  return std::make_shared<const sim::SceneModel>(s);
}

using parallax::testing::StillWorldModel;

// The episode of `episode_seed` replayed by hand in one World: the policy made for ONE env with
// the run's seed and started on the episode seed (the rule), acting on that World's own state.
wm::Episode replay(std::shared_ptr<const sim::SceneModel> scene, const std::string& policy,
                   std::uint64_t run_seed, std::uint64_t episode_seed) {
  sim::World world(scene, episode_seed);
  auto p = ag::make_policy(policy, scene, 1, run_seed);
  p->reset(0, episode_seed);
  const std::size_t k = scene->bodies.size(), m = scene->markers.size();
  const int a = scene->action_size();
  std::vector<float> poses(k * 7), markers(m * 3), vel(k * 6), joints(scene->joints.size() * 2),
      action(a);
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  sim::WorldRenderInputs inputs(*scene);
  const std::size_t px = static_cast<std::size_t>(renderer.height()) * renderer.width();
  std::vector<std::uint8_t> rgb(px * 3);
  wm::Episode e;
  e.seed = episode_seed;
  auto push_frame = [&] {
    renderer.render(inputs.gather(world), rgb.data());
    for (std::size_t c = 0; c < 3; ++c)
      for (std::size_t q = 0; q < px; ++q) e.observations.push_back(rgb[q * 3 + c]);
  };
  push_frame();
  for (;;) {
    world.poses(poses), world.marker_positions(markers), world.velocities(vel),
        world.joint_states(joints);
    p->act({.num_envs = 1,
            .action_size = a,
            .poses = poses,
            .markers = markers,
            .velocities = vel,
            .joint_states = joints},
           action);
    for (float& v : action) v = std::clamp(v, -1.0f, 1.0f);
    const auto r = world.step(action);
    e.actions.insert(e.actions.end(), action.begin(), action.end());
    e.rewards.push_back(r.reward);
    e.steps += 1;
    push_frame();
    if (r.terminated || r.truncated) break;
  }
  return e;
}

}  // namespace

TEST_CASE("seed rule: every stored episode is its run seed and episode seed replayed alone",
          "[rollout][seeds]") {
  auto scene = short_push();
  const int n = 3;
  const std::uint64_t seed = 100;
  ag::Rollout rollout(scene,
                      {.num_envs = n, .seed = seed, .threads = 2, .policy = "noisy", .ids = true});
  ag::EpisodeRecorder recorder(rollout);
  std::vector<wm::Episode> episodes;
  std::map<std::uint64_t, int> per_env;  // episodes seen per env
  while (episodes.size() < static_cast<std::size_t>(3 * n)) {
    rollout.step();
    for (auto& e : recorder.record(rollout)) episodes.push_back(std::move(e));
  }
  for (const auto& e : episodes) {
    INFO("episode seed " << e.seed);
    // WorldBatch's rule: env i's k-th episode has seed seed + i + k * n.
    CHECK(e.seed >= seed);
    ++per_env[(e.seed - seed) % n];
    const wm::Episode ref = replay(scene, "noisy", seed, e.seed);
    REQUIRE(e.steps == ref.steps);
    CHECK(e.actions == ref.actions);
    CHECK(e.rewards == ref.rewards);
    CHECK(e.observations == ref.observations);
  }
  for (int i = 0; i < n; ++i) CHECK(per_env[static_cast<std::uint64_t>(i)] >= 2);
}

TEST_CASE("seed rule: the arena of demo and the viewer and collect's loop live the same episodes",
          "[rollout][seeds]") {
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  const int n = 2, T = 4 * (scene->episode_steps + 1);  // at least three episodes per env
  auto model = std::make_shared<StillWorldModel>(*scene);
  for (const std::string policy : {"noisy", "random"}) {
    INFO("policy " << policy);
    ag::Arena arena(scene, model,
                    ag::ArenaOptions{.num_envs = n, .seed = 31, .threads = 1, .policy = policy});
    ag::Rollout collect(scene,
                        {.num_envs = n, .seed = 31, .threads = 2, .policy = policy, .ids = true});
    int resets = 0;
    for (int t = 1; t <= T; ++t) {
      INFO("tick " << t);
      const auto m = arena.tick();
      const auto r = collect.step();
      REQUIRE(std::equal(arena.last_actions().begin(), arena.last_actions().end(),
                         collect.actions().begin(), collect.actions().end()));
      REQUIRE(std::equal(arena.true_frames().begin(), arena.true_frames().end(),
                         collect.frames().begin(), collect.frames().end()));
      for (int i = 0; i < n; ++i) {
        CHECK(m[i].reward_true == r[i].reward);
        CHECK(m[i].reset == r[i].reset);
        CHECK(m[i].return_true == r[i].ret);
        resets += r[i].reset ? 1 : 0;
      }
    }
    CHECK(resets >= 3 * n);
  }
}

TEST_CASE("rollout records: episode seeds and steps and returns follow the batch", "[rollout]") {
  auto scene = short_push();
  const int n = 2, T = scene->episode_steps;
  ag::Rollout one(scene, {.num_envs = n, .seed = 5, .threads = 1, .policy = "random"});
  ag::Rollout two(scene, {.num_envs = n, .seed = 5, .threads = 2, .policy = "random"});
  std::vector<double> ret(n, 0.0);
  std::vector<int> episodes(n, 0);
  for (int t = 1; t <= 3 * (T + 1); ++t) {
    INFO("tick " << t);
    const auto r = one.step();
    two.step();
    // The thread count changes nothing.
    REQUIRE(std::equal(one.frames().begin(), one.frames().end(), two.frames().begin()));
    for (int i = 0; i < n; ++i) {
      CHECK(r[i].tick == t);
      CHECK(r[i].env == i);
      if (r[i].reset) ++episodes[i];
      CHECK(r[i].episode_seed == 5u + i + static_cast<std::uint64_t>(episodes[i]) * n);
      CHECK(r[i].episode_step == (r[i].reset ? 0 : (t - 1) % (T + 1) + 1));
      ret[i] = r[i].reset ? 0.0 : ret[i] + r[i].reward;
      CHECK(r[i].ret == ret[i]);
    }
  }
  CHECK(episodes[0] == 3);  // resets at ticks T + 1, 2 (T + 1), 3 (T + 1)
  std::vector<float> wrong(3, 0.0f);
  CHECK_THROWS_AS(one.step_actions(wrong), std::invalid_argument);
  CHECK_THROWS_AS(ag::Rollout(scene, {.num_envs = 1, .policy = "nope"}), std::invalid_argument);
}

TEST_CASE("arena report: means skip reset ticks and returns are run totals", "[rollout]") {
  std::vector<ag::StepMetrics> tick(2);
  tick[0] = {.tick = 1,
             .env = 0,
             .reward_true = 1.0f,
             .reward_pred = 0.5f,
             .mse = 0.1,
             .psnr = 10.0,
             .ssim = 0.5};
  tick[1] = {.tick = 1, .env = 1, .reset = true, .mse = 9.0, .psnr = 1.0, .ssim = 0.0};
  ag::ArenaReport report(2);
  report.add(tick);
  tick[0].reward_true = 2.0f;
  tick[0].psnr = std::numeric_limits<double>::infinity();
  tick[0].mse = 0.3;
  tick[1].reset = false;
  tick[1].reward_true = 3.0f;
  tick[1].reward_pred = 3.0f;
  tick[1].mse = 0.2;
  tick[1].psnr = 20.0;
  report.add(tick);
  const auto s = report.summary();
  // By hand: measured steps (env 0 tick 1, env 0 tick 2, env 1 tick 2): mse 0.1, 0.3, 0.2.
  CHECK(s["mean_mse"].get<double>() == Approx(0.2));
  CHECK(s["mean_psnr"].get<double>() == Approx(15.0));  // finite ones: 10 and 20
  CHECK(s["mean_abs_reward_error"].get<double>() == Approx((0.5 + 1.5 + 0.0) / 3));
  CHECK(s["returns"][0].get<double>() == Approx(3.0));
  CHECK(s["returns"][1].get<double>() == Approx(3.0));
  CHECK(report.steps().size() == 4);
  CHECK(report.steps()[2]["psnr"].is_null());
}
