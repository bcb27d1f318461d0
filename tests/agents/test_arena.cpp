// The arena drives Bullet and the dream in lockstep: its true frames are exactly what the sim and
// renderer produce for the same seed and actions, its predictions exactly what DreamBatch
// produces for the same actions, and its metrics are those of the two frame sets.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include "parallax/agents/arena.hpp"
#include "parallax/agents/metrics.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world_batch.hpp"
#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/rssm.hpp"

namespace {

using parallax::agents::Arena;
using parallax::agents::ArenaOptions;

std::shared_ptr<const parallax::sim::SceneModel> push_scene() {
  return std::make_shared<const parallax::sim::SceneModel>(parallax::sim::resolve_scene("push"));
}

parallax::worldmodel::RSSM tiny_model(const parallax::sim::SceneModel& s) {
  torch::manual_seed(3);
  auto cfg =
      parallax::worldmodel::make_preset("tiny", s.camera.height, s.camera.width, s.action_size());
  parallax::worldmodel::RSSM m(cfg);
  m->eval();
  return m;
}

// Deterministic action sequence in [-1, 1].
std::vector<float> actions_at(int tick, int n, int a) {
  std::vector<float> v(static_cast<std::size_t>(n) * a);
  for (std::size_t i = 0; i < v.size(); ++i)
    v[i] = static_cast<float>(std::sin(0.37 * tick + 1.3 * static_cast<double>(i)));
  return v;
}

}  // namespace

TEST_CASE("arena true frames equal a separately driven WorldBatch + Renderer", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = push_scene();
  const int n = 3, a = scene->action_size();
  Arena arena(scene, tiny_model(*scene), ArenaOptions{.num_envs = n, .seed = 11, .threads = 2});
  parallax::sim::WorldBatch worlds(scene, n, 11, 1);
  worlds.reset();
  parallax::sim::Renderer renderer(scene, {.threads = 1});
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(n) * renderer.width() * renderer.height() *
                                3);
  for (int t = 1; t <= 12; ++t) {
    const auto act = actions_at(t, n, a);
    const auto m = arena.tick(act);
    worlds.step(act);
    renderer.render(worlds.render_inputs(), rgb.data());
    const auto tf = arena.true_frames();
    REQUIRE(std::equal(tf.begin(), tf.end(), rgb.begin(), rgb.end()));
    for (int i = 0; i < n; ++i) {
      CHECK(m[i].tick == t);
      CHECK(m[i].reward_true == worlds.rewards()[i]);
    }
  }
}

TEST_CASE("arena predictions equal DreamBatch driven with the same actions and metrics match",
          "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = push_scene();
  const int n = 2, a = scene->action_size();
  auto model = tiny_model(*scene);
  Arena arena(scene, model, ArenaOptions{.num_envs = n, .seed = 5, .threads = 1});
  const int h = arena.height(), w = arena.width();
  // Seed a second DreamBatch with the arena's first true frames.
  parallax::sim::WorldBatch worlds(scene, n, 5, 1);
  worlds.reset();
  parallax::sim::Renderer renderer(scene, {.threads = 1});
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(n) * h * w * 3);
  renderer.render(worlds.render_inputs(), rgb.data());
  parallax::worldmodel::DreamBatch dream(model, n, torch::kCPU);
  auto frames =
      torch::from_blob(rgb.data(), {n, h, w, 3}, torch::kUInt8).permute({0, 3, 1, 2}).contiguous();
  for (int i = 0; i < n; ++i)
    dream.reset(i, frames.index({torch::indexing::Slice(i, i + 1)}), torch::zeros({1, a}));
  for (int t = 1; t <= 6; ++t) {
    auto act = actions_at(t, n, a);
    const auto m = arena.tick(act);
    dream.tick(torch::from_blob(act.data(), {n, a}, torch::kFloat32).clone());
    const auto pred = dream.frames().permute({0, 2, 3, 1}).contiguous();
    const auto pf = arena.predicted_frames();
    REQUIRE(std::equal(pf.begin(), pf.end(), pred.data_ptr<std::uint8_t>()));
    const auto tf = arena.true_frames();
    for (int i = 0; i < n; ++i) {
      const std::size_t off = static_cast<std::size_t>(i) * h * w * 3;
      CHECK(m[i].mse == parallax::agents::frame_mse(tf.data() + off, pf.data() + off, h, w));
      CHECK(m[i].ssim == parallax::agents::frame_ssim(tf.data() + off, pf.data() + off, h, w));
      CHECK(m[i].mse > 0.0);  // an untrained model does not reproduce Bullet
    }
  }
}

namespace {

// A plane seen from straight above under a light straight down: every true pixel has the same
// colour. Its one actuator drives a small kinematic sphere hidden under the plane.
std::shared_ptr<const parallax::sim::SceneModel> flat_scene() {
  return std::make_shared<const parallax::sim::SceneModel>(parallax::sim::parse_scene(
      R"({"name": "flat", "physics_hz": 240, "control_hz": 30, "episode_steps": 100,
      "camera": {"eye": [0, 0, 1], "target": [0, 0, 0], "up": [0, 1, 0], "fov_deg": 45,
                 "width": 32, "height": 32},
      "light": {"direction": [0, 0, -1], "ambient": 0.35},
      "bodies": [
        {"name": "floor", "shape": "plane", "color": [0.4, 0.6, 0.2]},
        {"name": "hidden", "shape": "sphere", "radius": 0.05, "kinematic": true,
         "position": [0, 0, -1]}],
      "actuators": [{"type": "planar_velocity", "body": "hidden", "max_speed": 0.1}]})",
      "<test flat scene>"));
}

// Makes the model's decoder output the constant colour rgb (bytes): every decoder weight zero,
// the last transposed convolution's bias = rgb / 255 - 0.5 (the decoder works in x - 0.5).
void decode_constant(parallax::worldmodel::RSSM& model, const std::uint8_t* rgb) {
  torch::NoGradGuard no_grad;
  torch::Tensor last_bias;
  for (auto& p : model->named_parameters()) {
    if (p.key().rfind("decoder", 0) != 0) continue;  // decoder_in.* and decoder.*
    p.value().zero_();
    if (p.key().rfind("decoder.", 0) == 0 && p.value().dim() == 1) last_bias = p.value();
  }
  REQUIRE(last_bias.defined());
  REQUIRE(last_bias.numel() == 3);
  for (int c = 0; c < 3; ++c) last_bias[c] = rgb[c] / 255.0f - 0.5f;
}

}  // namespace

TEST_CASE("arena metrics on identical frames report zero MSE and infinite PSNR and SSIM 1",
          "[arena]") {
  // The arena's own per-env metrics, on a tick where its predicted frames equal its true ones.
  torch::NoGradGuard no_grad;
  auto scene = flat_scene();
  const int n = 2;
  auto model = tiny_model(*scene);
  std::vector<std::uint8_t> colour;
  {
    Arena probe(scene, model, ArenaOptions{.num_envs = 1, .seed = 1, .threads = 1});
    const auto tf = probe.true_frames();
    colour.assign(tf.begin(), tf.begin() + 3);
    for (std::size_t i = 0; i < tf.size(); ++i) REQUIRE(tf[i] == colour[i % 3]);  // uniform
  }
  decode_constant(model, colour.data());
  Arena arena(scene, model, ArenaOptions{.num_envs = n, .seed = 1, .threads = 1});
  for (int t = 1; t <= 3; ++t) {
    const auto m = arena.tick();
    const auto tf = arena.true_frames(), pf = arena.predicted_frames();
    REQUIRE(std::equal(tf.begin(), tf.end(), pf.begin(), pf.end()));
    for (int i = 0; i < n; ++i) {
      CHECK(m[i].tick == t);
      CHECK(m[i].mse == 0.0);
      CHECK(std::isinf(m[i].psnr));
      CHECK(m[i].ssim == Approx(1.0).margin(1e-9));
    }
  }
  // Not vacuous: one channel off by 3 levels gives MSE (3/255)^2 / 3 over the three channels.
  std::vector<std::uint8_t> off = colour;
  off[0] = static_cast<std::uint8_t>(off[0] >= 128 ? off[0] - 3 : off[0] + 3);
  decode_constant(model, off.data());
  Arena shifted(scene, model, ArenaOptions{.num_envs = n, .seed = 1, .threads = 1});
  const auto m = shifted.tick();
  for (int i = 0; i < n; ++i) {
    CHECK(m[i].mse == Approx(9.0 / (255.0 * 255.0) / 3.0).epsilon(1e-9));
    CHECK(std::isfinite(m[i].psnr));
    CHECK(m[i].ssim < 1.0);
  }
}

namespace {

// push with 4-step episodes: several autoresets in a short run.
std::shared_ptr<const parallax::sim::SceneModel> short_push() {
  auto s = parallax::sim::resolve_scene("push");
  s.episode_steps = 4;
  return std::make_shared<const parallax::sim::SceneModel>(s);
}

// The arena's true frames [N, H, W, 3] as the model reads them: [N, 3, H, W] u8.
torch::Tensor nchw(std::span<const std::uint8_t> frames, int n, int h, int w) {
  return torch::from_blob(const_cast<std::uint8_t*>(frames.data()), {n, h, w, 3}, torch::kUInt8)
      .permute({0, 3, 1, 2})
      .contiguous();
}

bool same_bytes(std::span<const std::uint8_t> a, const torch::Tensor& nchw_frames) {
  const auto b = nchw_frames.permute({0, 2, 3, 1}).contiguous();
  return std::equal(a.begin(), a.end(), b.data_ptr<std::uint8_t>());
}

}  // namespace

TEST_CASE(
    "arena across episode boundaries: rewards and resets line up and resets re-seed the dream",
    "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = short_push();
  const int n = 2, a = scene->action_size(), T = scene->episode_steps;
  auto model = tiny_model(*scene);
  Arena arena(scene, model, ArenaOptions{.num_envs = n, .seed = 21, .threads = 1});
  const int h = arena.height(), w = arena.width();
  // References: the same worlds stepped directly; a DreamBatch that re-seeds a slot from the
  // fresh true frame when its env resets, and one that never does.
  parallax::sim::WorldBatch worlds(scene, n, 21, 1);
  worlds.reset();
  parallax::worldmodel::DreamBatch reseeded(model, n, torch::kCPU), stale(model, n, torch::kCPU);
  const auto first = nchw(arena.true_frames(), n, h, w);
  for (int i = 0; i < n; ++i) {
    const auto f = first.index({torch::indexing::Slice(i, i + 1)});
    reseeded.reset(i, f, torch::zeros({1, a}));
    stale.reset(i, f, torch::zeros({1, a}));
  }
  int resets = 0, ends = 0, stale_differs = 0;
  std::vector<bool> ended(n, false);
  for (int t = 1; t <= 2 * T + 2; ++t) {
    INFO("tick " << t);
    auto act = actions_at(t, n, a);
    const auto m = arena.tick(act);
    worlds.step(act);
    const auto act_t = torch::from_blob(act.data(), {n, a}, torch::kFloat32).clone();
    reseeded.tick(act_t);
    stale.tick(act_t);
    const auto truth = nchw(arena.true_frames(), n, h, w);
    for (int i = 0; i < n; ++i) {
      INFO("env " << i);
      CHECK(m[i].tick == t);
      CHECK(m[i].reward_true == worlds.rewards()[i]);
      CHECK(m[i].terminated == (worlds.terminated()[i] != 0));
      CHECK(m[i].truncated == (worlds.truncated()[i] != 0));
      CHECK(m[i].reset == (worlds.reset_mask()[i] != 0));
      // Next-step autoreset: a reset comes exactly one tick after an episode end, with reward 0
      // and no flags; episodes last T ticks (or end earlier on success/out of bounds).
      CHECK(m[i].reset == ended[i]);
      if (m[i].reset) {
        CHECK(m[i].reward_true == 0.0f);
        CHECK_FALSE(m[i].terminated);
        CHECK_FALSE(m[i].truncated);
        reseeded.reset(i, truth.index({torch::indexing::Slice(i, i + 1)}), torch::zeros({1, a}));
        ++resets;
      }
      ended[i] = m[i].terminated || m[i].truncated;
      ends += ended[i] ? 1 : 0;
    }
    const auto pred = reseeded.frames();
    REQUIRE(same_bytes(arena.predicted_frames(), pred));
    stale_differs += same_bytes(arena.predicted_frames(), stale.frames()) ? 0 : 1;
  }
  CHECK(resets >= 2 * n);  // every env crossed at least two episode boundaries
  CHECK(ends >= resets);
  CHECK(stale_differs > 0);  // a dream that is not re-seeded would predict other frames
}

TEST_CASE("arena in resync mode re-observes the true frames every K ticks", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = push_scene();
  const int n = 2, a = scene->action_size(), K = 3;
  auto model = tiny_model(*scene);
  ArenaOptions o{.num_envs = n, .seed = 4, .threads = 1};
  o.mode = parallax::agents::ArenaMode::kResync;
  o.resync_every = K;
  Arena arena(scene, model, o);
  Arena mirror(scene, model, ArenaOptions{.num_envs = n, .seed = 4, .threads = 1});
  const int h = arena.height(), w = arena.width();
  parallax::worldmodel::DreamBatch ref(model, n, torch::kCPU);
  const auto first = nchw(arena.true_frames(), n, h, w);
  for (int i = 0; i < n; ++i)
    ref.reset(i, first.index({torch::indexing::Slice(i, i + 1)}), torch::zeros({1, a}));
  int differs_from_mirror = 0;
  for (int t = 1; t <= 3 * K; ++t) {
    INFO("tick " << t);
    auto act = actions_at(t, n, a);
    arena.tick(act);
    mirror.tick(act);
    REQUIRE(std::equal(arena.true_frames().begin(), arena.true_frames().end(),
                       mirror.true_frames().begin()));
    ref.tick(torch::from_blob(act.data(), {n, a}, torch::kFloat32).clone());
    if (t % K == 0) ref.observe(nchw(arena.true_frames(), n, h, w), torch::ones({n}, torch::kBool));
    REQUIRE(same_bytes(arena.predicted_frames(), ref.frames()));
    if (t < K) {  // before the first resync, resync and mirror modes are the same dream
      CHECK(std::equal(arena.predicted_frames().begin(), arena.predicted_frames().end(),
                       mirror.predicted_frames().begin()));
    }
    differs_from_mirror +=
        std::equal(arena.predicted_frames().begin(), arena.predicted_frames().end(),
                   mirror.predicted_frames().begin())
            ? 0
            : 1;
  }
  CHECK(differs_from_mirror > 0);
  o.resync_every = 0;
  CHECK_THROWS_AS(Arena(scene, model, o), std::invalid_argument);
}

TEST_CASE("arena rejects actions of the wrong size", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = push_scene();
  Arena arena(scene, tiny_model(*scene), ArenaOptions{.num_envs = 2, .seed = 1, .threads = 1});
  std::vector<float> wrong(3, 0.0f);
  CHECK_THROWS_AS(arena.tick(wrong), std::invalid_argument);
}
