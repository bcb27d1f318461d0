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
    const std::size_t k = scene->bodies.size();
    std::vector<float> colors(n * k * 3), scales(n * k);
    for (int i = 0; i < n; ++i) {
      worlds.world(i).body_colors(std::span(colors).subspan(i * k * 3, k * 3));
      worlds.world(i).body_size_scales(std::span(scales).subspan(i * k, k));
    }
    renderer.render(n, worlds.poses().data(), worlds.marker_positions().data(), colors.data(),
                    scales.data(), rgb.data(), nullptr);
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
  renderer.render(n, worlds.poses().data(), worlds.marker_positions().data(), rgb.data(), nullptr);
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

TEST_CASE("arena metrics on identical frames report zero MSE", "[arena]") {
  // Frames compared with themselves through the arena's own metric path.
  torch::NoGradGuard no_grad;
  auto scene = push_scene();
  Arena arena(scene, tiny_model(*scene), ArenaOptions{.num_envs = 2, .seed = 1, .threads = 1});
  arena.tick();
  const auto tf = arena.true_frames();
  const double mse =
      parallax::agents::frame_mse(tf.data(), tf.data(), arena.height(), arena.width());
  CHECK(mse == 0.0);
  CHECK(std::isinf(parallax::agents::psnr_from_mse(mse)));
}

TEST_CASE("arena rejects actions of the wrong size", "[arena]") {
  torch::NoGradGuard no_grad;
  auto scene = push_scene();
  Arena arena(scene, tiny_model(*scene), ArenaOptions{.num_envs = 2, .seed = 1, .threads = 1});
  std::vector<float> wrong(3, 0.0f);
  CHECK_THROWS_AS(arena.tick(wrong), std::invalid_argument);
}
