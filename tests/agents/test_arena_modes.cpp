// The arena's modes and live controls: dream mode (the agent perceives only the model's world,
// Bullet verifies), resync on demand, switching mode and policy between ticks, and the returns
// it reports. Two stand-in models make the expected values independent of any trained network:
// an oracle (Bullet replayed behind the world-model interface: its predictions ARE the truth)
// and a still model (holds the last frame it observed).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "parallax/agents/arena.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/sim/world_batch.hpp"
#include "still_world_model.hpp"

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace wm = parallax::worldmodel;

namespace {

constexpr int kMaxSteps = 16;

// push with 6-step episodes: several autoresets in a short run.
std::shared_ptr<const sim::SceneModel> short_push() {
  auto s = sim::resolve_scene("push");
  s.episode_steps = 6;
  return std::make_shared<const sim::SceneModel>(s);
}

// [H, W, 3] u8 of one World, with its own colours and sizes.
std::vector<std::uint8_t> render_world(const sim::Renderer& r, const sim::SceneModel& scene,
                                       const sim::World& world) {
  sim::WorldRenderInputs inputs(scene);
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(r.height()) * r.width() * 3);
  r.render(inputs.gather(world), rgb.data());
  return rgb;
}

// Bullet behind the world-model interface. A slot's state is (episode seed, steps taken) and its
// action history; each step replays the episode from its seed in a fresh World (exact by
// determinism) and renders it. A context frame is recognised by its bytes among the first frames
// of the episode seeds it was built for; observe() keeps the state (it is the truth already).
class OracleWorldModel final : public wm::WorldModel {
 public:
  OracleWorldModel(std::shared_ptr<const sim::SceneModel> scene, std::uint64_t first_seed,
                   int num_seeds)
      : scene_(scene), renderer_(scene, sim::RenderOptions{.threads = 1}) {
    info_.family = "oracle";
    info_.height = renderer_.height();
    info_.width = renderer_.width();
    info_.action_size = scene->action_size();
    info_.config_json = "{}";
    for (int s = 0; s < num_seeds; ++s) {
      const std::uint64_t seed = first_seed + static_cast<std::uint64_t>(s);
      const auto rgb = render_world(renderer_, *scene_, sim::World(scene_, seed));
      table_.emplace(std::string(rgb.begin(), rgb.end()), seed);
    }
  }
  const wm::ModelInfo& info() const override { return info_; }
  torch::nn::Module& module() override { return module_; }
  wm::SlotState initial_state(int64_t b, torch::Device) override {
    return {torch::zeros({b, 2}, torch::kDouble), torch::zeros({b, kMaxSteps, info_.action_size}),
            torch::zeros({b, 3, info_.height, info_.width}), torch::zeros({b}), torch::ones({b})};
  }
  wm::SlotState encode_context(const torch::Tensor& frames, const torch::Tensor&,
                               const wm::StepContext&) override {
    const auto b = frames.size(0);
    auto s = initial_state(b, torch::kCPU);
    for (int64_t i = 0; i < b; ++i) {
      auto last = frames[i][frames.size(1) - 1].permute({1, 2, 0}).contiguous();  // [H, W, 3]
      const std::string key(reinterpret_cast<const char*>(last.data_ptr<std::uint8_t>()),
                            static_cast<std::size_t>(last.numel()));
      s[0][i][0] = static_cast<double>(table_.at(key));  // throws for a frame it does not know
      s[2][i].copy_(last.permute({2, 0, 1}).to(torch::kFloat) / 255.0);
    }
    return s;
  }
  wm::SlotState step(const wm::SlotState& state, const torch::Tensor& actions,
                     const wm::StepContext&) override {
    wm::SlotState s;
    for (const auto& t : state) s.push_back(t.clone());
    const int a = info_.action_size;
    for (int64_t i = 0; i < state[0].size(0); ++i) {
      const auto seed = static_cast<std::uint64_t>(s[0][i][0].item<double>());
      const int t = static_cast<int>(s[0][i][1].item<double>());
      if (t >= kMaxSteps) continue;  // past any episode of the test scene
      sim::World world(scene_, seed);
      auto hist = s[1][i].contiguous();
      for (int j = 0; j < t; ++j) world.step(std::span(hist.data_ptr<float>() + j * a, a));
      auto act = actions[i].contiguous();
      const auto r = world.step(std::span(act.data_ptr<float>(), a));
      s[1][i][t].copy_(act);
      s[0][i][1] = t + 1;
      const auto rgb = render_world(renderer_, *scene_, world);
      s[2][i].copy_(torch::from_blob(const_cast<std::uint8_t*>(rgb.data()),
                                     {info_.height, info_.width, 3}, torch::kUInt8)
                        .permute({2, 0, 1})
                        .to(torch::kFloat) /
                    255.0);
      s[3][i] = r.reward;
      s[4][i] = r.terminated ? 0.0f : 1.0f;
    }
    return s;
  }
  wm::SlotState observe(const wm::SlotState& state, const torch::Tensor&,
                        const wm::StepContext&) override {
    return state;
  }
  torch::Tensor decode(const wm::SlotState& s) override { return s[2]; }
  torch::Tensor reward(const wm::SlotState& s) override { return s[3]; }
  torch::Tensor cont(const wm::SlotState& s) override { return s[4]; }

 private:
  std::shared_ptr<const sim::SceneModel> scene_;
  sim::Renderer renderer_;
  wm::ModelInfo info_;
  torch::nn::Module module_;
  std::map<std::string, std::uint64_t> table_;
};

using parallax::testing::StillWorldModel;

ag::ArenaOptions options(int n, std::uint64_t seed, const std::string& policy, ag::ArenaMode mode,
                         int resync_every) {
  return ag::ArenaOptions{.num_envs = n,
                          .seed = seed,
                          .threads = 1,
                          .policy = policy,
                          .mode = mode,
                          .resync_every = resync_every};
}

bool same(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}

}  // namespace

TEST_CASE("arena dream mode with an oracle model: the dream is Bullet and Bullet verifies",
          "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  const int n = 2, a = scene->action_size(), T = scene->episode_steps;
  const std::uint64_t seed = 40;
  // Env i's k-th episode has seed seed + i + k * n (WorldBatch); 4 episodes per env are enough.
  auto oracle = std::make_shared<OracleWorldModel>(scene, seed, 4 * n);
  for (const int resync : {0, 2}) {
    INFO("resync_every " << resync);
    ag::Arena arena(scene, oracle, options(n, seed, "noisy", ag::ArenaMode::kDream, resync));
    CHECK(arena.mode() == ag::ArenaMode::kDream);
    // The verifier: the same worlds stepped with the actions the arena took.
    sim::WorldBatch worlds(scene, n, seed, 1);
    std::vector<double> ret(n, 0.0);
    int resets = 0;
    for (int t = 1; t <= 3 * (T + 1); ++t) {
      INFO("tick " << t);
      const auto m = arena.tick();
      const auto act = arena.last_actions();
      worlds.step(std::vector<float>(act.begin(), act.end()));
      REQUIRE(same(arena.true_frames(), arena.predicted_frames()));
      for (int i = 0; i < n; ++i) {
        INFO("env " << i);
        CHECK(m[i].mse == 0.0);
        CHECK(m[i].reward_true == worlds.rewards()[i]);
        CHECK(m[i].reset == (worlds.reset_mask()[i] != 0));
        if (!m[i].reset) CHECK(m[i].reward_pred == m[i].reward_true);
        ret[i] = m[i].reset ? 0.0 : ret[i] + worlds.rewards()[i];
        CHECK(m[i].return_true == ret[i]);
        CHECK(m[i].return_pred == m[i].return_true);
        resets += m[i].reset ? 1 : 0;
      }
    }
    CHECK(resets >= 2 * n);
    (void)a;
  }
}

TEST_CASE("arena dream mode: the agent's state is its last true observation", "[arena]") {
  // The push expert is a pure function of the state it is given, so its actions show what the
  // arena let it see: resync every tick = the mirror's actions (closed loop on real
  // observations); pure dreaming = the action for the episode's first state, repeated.
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  const int n = 2, a = scene->action_size(), T = scene->episode_steps;
  auto still = std::make_shared<StillWorldModel>(*scene);
  ag::Arena mirror(scene, still, options(n, 7, "expert", ag::ArenaMode::kMirror, 0));
  ag::Arena closed(scene, still, options(n, 7, "expert", ag::ArenaMode::kDream, 1));
  ag::Arena pure(scene, still, options(n, 7, "expert", ag::ArenaMode::kDream, 0));
  // The expert on the first state of each env, computed apart from the arena.
  sim::WorldBatch start(scene, n, 7, 1);
  auto expert = ag::make_policy("expert", scene, n, 7);
  std::vector<float> first(static_cast<std::size_t>(n) * a);
  expert->act(
      {n, a, start.poses(), start.marker_positions(), start.velocities(), start.joint_states()},
      first);
  int mirror_moves = 0;
  for (int t = 1; t < T; ++t) {  // the first episode, before any reset
    INFO("tick " << t);
    const auto before =
        std::vector<float>(mirror.last_actions().begin(), mirror.last_actions().end());
    mirror.tick();
    closed.tick();
    pure.tick();
    CHECK(std::equal(closed.last_actions().begin(), closed.last_actions().end(),
                     mirror.last_actions().begin()));
    CHECK(std::equal(pure.last_actions().begin(), pure.last_actions().end(), first.begin()));
    if (t > 1 && !std::equal(before.begin(), before.end(), mirror.last_actions().begin()))
      ++mirror_moves;
  }
  CHECK(mirror_moves > 0);  // not vacuous: with the true state, the expert's action changes
}

TEST_CASE("arena resync_now makes the dream re-observe the true frames at once", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  const int n = 3;
  auto still = std::make_shared<StillWorldModel>(*scene);
  ag::Arena arena(scene, still, options(n, 3, "random", ag::ArenaMode::kMirror, 0));
  for (int t = 0; t < 3; ++t) arena.tick();
  REQUIRE_FALSE(same(arena.true_frames(), arena.predicted_frames()));  // the pusher moved
  arena.resync_now();
  CHECK(same(arena.true_frames(), arena.predicted_frames()));
  CHECK(arena.ticks() == 3);  // resyncing is not a tick
  arena.tick();
  CHECK_FALSE(same(arena.true_frames(), arena.predicted_frames()));
}

TEST_CASE("arena set_policy and set_mode switch between ticks and reject bad values", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  const int n = 2;
  auto still = std::make_shared<StillWorldModel>(*scene);
  ag::Arena arena(scene, still, options(n, 9, "random", ag::ArenaMode::kMirror, 0));
  try {
    arena.set_policy("no-such-policy");
    FAIL("set_policy accepted an unknown name");
  } catch (const std::invalid_argument& e) {
    const std::string what = e.what();
    CHECK(what.find("no-such-policy") != std::string::npos);
    CHECK(what.find('\n') == std::string::npos);
  }
  CHECK(arena.policy_name() == "random");
  arena.tick();  // still usable

  // Switching to the expert at the start equals an arena built with it.
  ag::Arena switched(scene, still, options(n, 9, "random", ag::ArenaMode::kMirror, 0));
  ag::Arena built(scene, still, options(n, 9, "expert", ag::ArenaMode::kMirror, 0));
  switched.set_policy("expert");
  CHECK(switched.policy_name() == "expert");
  for (int t = 0; t < 4; ++t) {
    switched.tick();
    built.tick();
    CHECK(std::equal(switched.last_actions().begin(), switched.last_actions().end(),
                     built.last_actions().begin()));
  }

  CHECK_THROWS_AS(arena.set_mode(ag::ArenaMode::kResync, 0), std::invalid_argument);
  CHECK_THROWS_AS(arena.set_mode(ag::ArenaMode::kDream, -1), std::invalid_argument);
  CHECK(arena.mode() == ag::ArenaMode::kMirror);
  arena.set_mode(ag::ArenaMode::kDream, 3);
  CHECK(arena.mode() == ag::ArenaMode::kDream);
  CHECK(arena.resync_every() == 3);
  CHECK(ag::arena_mode_from_string("dream") == ag::ArenaMode::kDream);
  CHECK(std::string(ag::to_string(ag::ArenaMode::kResync)) == "resync");
  CHECK_THROWS_AS(ag::arena_mode_from_string("dreams"), std::invalid_argument);
}

TEST_CASE("arena instruments expose the worlds and the dream it drives", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  auto still = std::make_shared<StillWorldModel>(*scene);
  ag::Arena arena(scene, still, options(2, 5, "random", ag::ArenaMode::kMirror, 0));
  arena.tick();
  CHECK(arena.worlds().num_envs() == 2);
  CHECK(arena.dream().capacity() == 2);
  CHECK(arena.dream().num_open() == 2);
  const auto poses = arena.worlds().poses();
  arena.tick();
  CHECK(arena.worlds().poses().data() == poses.data());  // the arena's own batch, not a copy
}
