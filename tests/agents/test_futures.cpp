// Imagined futures: forked from a running dream's slot they equal what that DreamBatch itself
// computes when it forks and ticks with the same actions (an independent path through the
// model: DreamBatch's fork, staging, tick and decode); the pick is the largest imagined return;
// a planner source gives the planner's own candidates; the Bullet replay equals the source world
// stepped with the chosen plan and rendered.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>

#include "parallax/agents/futures.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/rssm.hpp"

namespace {

namespace ag = parallax::agents;
namespace wm = parallax::worldmodel;

std::shared_ptr<const parallax::sim::SceneModel> push_scene() {
  return std::make_shared<const parallax::sim::SceneModel>(parallax::sim::resolve_scene("push"));
}

std::shared_ptr<wm::WorldModel> tiny_rssm(const parallax::sim::SceneModel& s) {
  torch::manual_seed(7);
  wm::RSSM m(wm::make_preset("tiny", s.camera.height, s.camera.width, s.action_size()));
  m->eval();
  return wm::make_rssm_world_model(m);
}

// A dream of 3 slots, slot 1 advanced a few ticks from a rendered frame of the push scene.
struct Source {
  std::shared_ptr<const parallax::sim::SceneModel> scene = push_scene();
  std::shared_ptr<wm::WorldModel> model = tiny_rssm(*scene);
  wm::DreamBatch dream{model, 3, torch::kCPU};
  parallax::sim::World world{scene, 5};
  Source() {
    dream.set_sampling(wm::Sampling::kMode);
    parallax::sim::Renderer r(scene);
    parallax::sim::WorldRenderInputs in(*scene);
    auto frame = torch::empty({1, r.height(), r.width(), 3}, torch::kUInt8);
    r.render(in.gather(world), frame.data_ptr<std::uint8_t>());
    const int a = scene->action_size();
    dream.reset(1, frame.permute({0, 3, 1, 2}).contiguous(), torch::zeros({1, a}));
    for (int t = 0; t < 3; ++t) dream.tick(torch::full({3, a}, 0.3f * (t - 1)));
  }
};

}  // namespace

TEST_CASE("futures: forked futures equal the dream's own fork and tick", "[agents][futures]") {
  Source src;
  ag::FutureImaginer im(src.model, 4, torch::kCPU);
  im.set_root(src.dream.state(), 1);
  const ag::FuturesOptions o{.futures = 2, .horizon = 4, .seed = 9};
  const auto f = im.imagine(o);
  REQUIRE(f.k == 2);
  REQUIRE(f.l == 4);
  REQUIRE(f.plans.size() == static_cast<std::size_t>(2 * 4 * f.a));
  // The independent path: the source DreamBatch forks slot 1 into slots 0 and 2 and ticks.
  src.dream.fork(1, {0, 2});
  const int a = f.a;
  for (int s = 0; s < f.l; ++s) {
    auto act = torch::zeros({3, a});
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < a; ++j)
        act[i == 0 ? 0 : 2][j] = f.plans[(static_cast<std::size_t>(i) * f.l + s) * a + j];
    src.dream.tick(act);
    const auto frames = src.dream.frames().permute({0, 2, 3, 1}).contiguous();  // [3, H, W, 3]
    const auto reward = src.dream.reward();
    for (int i = 0; i < 2; ++i) {
      const int slot = i == 0 ? 0 : 2;
      const auto got = f.frame(i, s);
      const auto want = frames[slot];
      CHECK(std::equal(got.begin(), got.end(), want.data_ptr<std::uint8_t>()));
      CHECK(f.rewards[static_cast<std::size_t>(i) * f.l + s] ==
            Approx(reward[slot].item<float>()).margin(1e-6));
    }
  }
  // Plans differ between futures (random source), and the same seed gives the same futures.
  CHECK(!std::equal(f.plans.begin(), f.plans.begin() + 4 * a, f.plans.begin() + 4 * a));
  const auto again = im.imagine(o);
  CHECK(again.plans == f.plans);
  CHECK(again.frames == f.frames);
}

TEST_CASE("futures: at bf16 they follow the dream's own bf16 fork and tick", "[agents][futures]") {
  // The same comparison with both paths under bf16 autocast: within one 8-bit level of the
  // DreamBatch's bf16 frames (the batch sizes differ: 2 futures, 3 slots), and not f32's frames.
  Source src;
  ag::FutureImaginer f32(src.model, 4, torch::kCPU);
  f32.set_root(src.dream.state(), 1);
  const ag::FuturesOptions o{.futures = 2, .horizon = 3, .seed = 4};
  const auto ref = f32.imagine(o);
  src.dream.set_precision(wm::Precision::kBF16);
  ag::FutureImaginer im(src.model, 4, torch::kCPU);
  im.set_precision(wm::Precision::kBF16);
  im.set_root(src.dream.state(), 1);
  const auto f = im.imagine(o);
  REQUIRE(f.plans == ref.plans);
  src.dream.fork(1, {0, 2});
  int worst = 0;
  for (int s = 0; s < f.l; ++s) {
    auto act = torch::zeros({3, f.a});
    for (int i = 0; i < 2; ++i)
      for (int j = 0; j < f.a; ++j)
        act[i == 0 ? 0 : 2][j] = f.plans[(static_cast<std::size_t>(i) * f.l + s) * f.a + j];
    src.dream.tick(act);
    const auto frames = src.dream.frames().permute({0, 2, 3, 1}).contiguous();
    for (int i = 0; i < 2; ++i) {
      const auto got = f.frame(i, s);
      const std::uint8_t* want = frames[i == 0 ? 0 : 2].data_ptr<std::uint8_t>();
      for (std::size_t p = 0; p < got.size(); ++p)
        worst = std::max(worst, std::abs(int(got[p]) - int(want[p])));
    }
  }
  CHECK(worst <= 1);
  CHECK(f.frames != ref.frames);  // bf16 moved some pixel away from f32
}

TEST_CASE("futures: the pick is the largest imagined return and score() agrees",
          "[agents][futures]") {
  Source src;
  ag::FutureImaginer im(src.model, 16, torch::kCPU);
  im.set_root(src.dream.state(), 1);
  const auto f = im.imagine(ag::FuturesOptions{.futures = 6, .horizon = 5, .gamma = 0.9f});
  CHECK(f.returns[f.chosen] == *std::max_element(f.returns.begin(), f.returns.end()));
  // Return by hand from the rewards (alive <= 1 can only shrink terms, so compare the upper
  // bound), and score() of the same plans from the same root gives the same returns.
  std::vector<double> scored(6);
  im.score(f.plans, 6, 5, 0.9f, scored);
  for (int i = 0; i < 6; ++i) {
    CHECK(scored[i] == Approx(f.returns[i]).margin(1e-9));
    double bound = 0, d = 1;
    for (int s = 0; s < 5; ++s, d *= 0.9) bound += d * std::abs(f.rewards[i * 5 + s]);
    CHECK(std::abs(f.returns[i]) <= bound + 1e-9);
  }
}

TEST_CASE("futures: a planner source shows the planner's candidates", "[agents][futures]") {
  Source src;
  ag::FutureImaginer im(src.model, 8, torch::kCPU);
  im.set_root(src.dream.state(), 1);
  const ag::FuturesOptions o{
      .futures = 8, .horizon = 3, .gamma = 0.95f, .source = ag::FutureSource::kPlanner, .seed = 4};
  const auto f = im.imagine(o);
  // The same planner run by hand against the same PlanModel proposes the same candidates.
  ag::Planner p(ag::PlannerOptions{.kind = ag::PlannerKind::kShooting,
                                   .candidates = 8,
                                   .horizon = 3,
                                   .iterations = 1,
                                   .elites = 2,
                                   .gamma = 0.95f,
                                   .seed = 4},
                f.a);
  p.reset(4);
  p.plan(im);
  CHECK(std::vector<float>(p.last_candidates().begin(), p.last_candidates().end()) == f.plans);
  CHECK(f.returns[f.chosen] == Approx(p.best_return()).margin(1e-9));
}

TEST_CASE("futures: the Bullet replay is what the source world does with the plan",
          "[agents][futures]") {
  Source src;
  ag::FutureImaginer im(src.model, 4, torch::kCPU);
  im.set_root(src.dream.state(), 1);
  auto f = im.imagine(ag::FuturesOptions{.futures = 3, .horizon = 6, .seed = 2});
  ag::replay_in_bullet(src.world, 0.99f, f);
  REQUIRE(f.bullet_frames.size() == f.frames.size());
  REQUIRE(f.bullet_returns.size() == 3);
  // The source world itself (which saved its state, dropping its caches: World::save_state)
  // steps plan 1; rendered with its own appearance (WorldRenderInputs), each frame equals the
  // replay's.
  parallax::sim::Renderer r(src.scene);
  parallax::sim::WorldRenderInputs in(*src.scene);
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(f.h) * f.w * 3);
  double ret = 0, d = 1;
  for (int s = 0; s < f.l; ++s) {
    const auto res = src.world.step(std::span(f.plans).subspan((1 * f.l + s) * f.a, f.a));
    ret += d * res.reward;
    d *= static_cast<double>(0.99f);  // the discount replay_in_bullet was given (a float)
    r.render(in.gather(src.world), rgb.data());
    const auto got = f.bullet_frame(1, s);
    CHECK(std::equal(got.begin(), got.end(), rgb.begin()));
  }
  CHECK(f.bullet_returns[1] == ret);
  // Different plans, different outcomes: the pusher goes elsewhere.
  CHECK(!std::equal(f.bullet_frame(0, 5).begin(), f.bullet_frame(0, 5).end(),
                    f.bullet_frame(1, 5).begin()));
}

TEST_CASE("futures: options out of range are refused by name", "[agents][futures]") {
  CHECK_THROWS_WITH(ag::validate(ag::FuturesOptions{.futures = 17}), Catch::Contains("futures"));
  CHECK_THROWS_WITH(ag::validate(ag::FuturesOptions{.horizon = 0}), Catch::Contains("horizon"));
  CHECK_THROWS_WITH(ag::future_source_from_string("oracle"), Catch::Contains("'oracle'"));
  Source src;
  ag::FutureImaginer im(src.model, 2, torch::kCPU);
  CHECK_THROWS_WITH(im.imagine(ag::FuturesOptions{.futures = 2}), Catch::Contains("set_root"));
  im.set_root(src.dream.state(), 1);
  CHECK_THROWS_WITH(im.imagine(ag::FuturesOptions{.futures = 3}), Catch::Contains("exceeds"));
  CHECK_THROWS_WITH(im.set_root(src.dream.state(), 3), Catch::Contains("row 3"));
}
