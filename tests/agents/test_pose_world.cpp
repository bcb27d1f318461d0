// The pose-world family (pose_world_model.hpp, body_locator.hpp).
// References: Bullet's true poses and marker positions of the rendered frames (the locator, the
// encoded state), constant-velocity extrapolation of those true poses worked out here (a network
// whose every weight is zero predicts exactly that), the scene's reward and terminations written
// out by hand on Bullet's poses, and PyTorch's step() of the same checkpoint (the hidden
// [pose_world_reference] case, driven by tests/python/pose_world_reference.sh).
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "../worldmodel/temp_dir.hpp"
#include "frame_helpers.hpp"
#include "parallax/agents/body_locator.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/agents/pose_world_model.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace {

namespace ag = parallax::agents;
namespace sim = parallax::sim;
namespace wm = parallax::worldmodel;
namespace fs = std::filesystem;
using parallax::testing::render;
using parallax::testing::scene_named;

const std::vector<std::string> kBalls = {"cue", "red", "blue", "yellow"};

fs::path temp_dir(const std::string& tag) {
  return parallax::worldmodel::testing::temp_dir("pose_world", tag);
}
using parallax::worldmodel::testing::remove_tree;

// A "pose-world" checkpoint as worldmodel/python/train_pose_world.py writes it: every weight
// zero (the network adds nothing: constant velocity), or `config` fields overridden; `rolling`:
// shaped for the rolling state (train_pose_world.py --spin; the config field is set unless
// overridden).
std::string zero_model(const fs::path& dir, const std::string& name,
                       const nlohmann::json& overrides = nlohmann::json::object(), int hidden = 8,
                       bool rolling = false) {
  const int p = 4, a = 2, n_in = 2 * p * 4 + a * 3 + (rolling ? 2 * p + 1 : 0);
  c10::Dict<std::string, torch::Tensor> w;
  const int in[4] = {n_in, hidden, hidden, hidden},
            out[4] = {hidden, hidden, hidden, (rolling ? 4 : 2) * p};
  for (int l = 0; l < 4; ++l) {
    const std::string k = std::to_string(2 * l);
    w.insert(k + ".weight", torch::zeros({out[l], in[l]}));
    w.insert(k + ".bias", torch::zeros({out[l]}));
  }
  nlohmann::json cfg = {{"scene", "billiards"}, {"bodies", kBalls},       {"action_size", a},
                        {"hidden", hidden},     {"history", 4},           {"action_history", 3},
                        {"step_m", 0.01},       {"position_scale_m", 0.5}};
  if (rolling) cfg["rolling_state"] = true;
  for (const auto& [k, v] : overrides.items()) cfg[k] = v;
  c10::impl::GenericDict d(c10::StringType::get(), c10::AnyType::get());
  d.insert(std::string("parallax_format"), std::string("parallax-model/2"));
  d.insert(std::string("family"), std::string("pose-world"));
  d.insert(std::string("config"), cfg.dump());
  d.insert(std::string("weights"), w);
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(d));
  const fs::path path = dir / name;
  std::ofstream(path, std::ios::binary)
      .write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path.string();
}

// Bullet's x, y of the balls [4, 2] and of the pocket [2].
std::vector<float> balls_xy(const sim::SceneModel& scene, const sim::World& world) {
  std::vector<float> poses(scene.bodies.size() * 7), out;
  world.poses(poses);
  for (const auto& n : kBalls) {
    const int k = scene.body_index(n);
    out.push_back(poses[k * 7]), out.push_back(poses[k * 7 + 1]);
  }
  return out;
}
std::vector<float> pocket_xy(const sim::SceneModel& scene, const sim::World& world) {
  std::vector<float> m(scene.markers.size() * 3);
  world.marker_positions(m);
  return {m[0], m[1]};
}

// An episode of billiards driven by a fixed pseudo-random force sequence: frames [T+1] and the
// balls' true x, y [T+1][8].
struct Episode {
  std::vector<std::vector<std::uint8_t>> frames;
  std::vector<std::vector<float>> xy;
  std::vector<std::array<float, 2>> actions;  // [T]
  std::vector<float> pocket;
};
Episode run_episode(const std::shared_ptr<const sim::SceneModel>& scene, std::uint64_t seed,
                    int t) {
  const sim::Renderer renderer(scene);
  sim::World world(scene, seed);
  Episode e;
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  e.pocket = pocket_xy(*scene, world);
  for (int i = 0; i <= t; ++i) {
    e.frames.push_back(render(renderer, *scene, world));
    e.xy.push_back(balls_xy(*scene, world));
    if (i == t) break;
    const std::array<float, 2> a{u(rng), u(rng)};
    e.actions.push_back(a);
    world.step(a);
  }
  return e;
}

// Frames from..from+count-1 of an episode as a context [1, count, 3, H, W] u8 and the actions
// taken before each of them [1, count, 2] (zeros before the first step).
std::pair<torch::Tensor, torch::Tensor> context(const Episode& e, int from, int count,
                                                const sim::SceneModel& scene) {
  const int h = scene.camera.height, w = scene.camera.width;
  auto f = torch::empty({1, count, 3, h, w}, torch::kUInt8);
  auto a = torch::zeros({1, count, 2});
  for (int i = 0; i < count; ++i) {
    f[0][i].copy_(torch::from_blob(const_cast<std::uint8_t*>(e.frames[from + i].data()), {h, w, 3},
                                   torch::kUInt8)
                      .permute({2, 0, 1}));
    const int before = from + i - 1;
    if (before >= 0) a[0][i] = torch::tensor({e.actions[before][0], e.actions[before][1]});
  }
  return {f, a};
}

}  // namespace

TEST_CASE("BodyLocator reads billiards' balls and pocket from true frames", "[pose_world]") {
  const auto scene = scene_named("billiards");
  const ag::BodyLocator locator(scene, kBalls);
  const sim::Renderer renderer(scene);
  REQUIRE(locator.num_markers() == 1);
  std::vector<double> err, pocket_err;
  for (std::uint64_t seed = 0; seed < 6; ++seed) {
    const Episode e = run_episode(scene, 4200 + seed, 12);
    for (int t : {0, 6, 12}) {
      std::vector<float> xy(8, 0.f), mk(2, 0.f);
      std::vector<std::uint8_t> found(4, 0);
      locator.locate(e.frames[t].data(), xy, found, mk);
      for (int p = 0; p < 4; ++p) {
        REQUIRE(found[p] == 1);
        err.push_back(std::hypot(xy[p * 2] - e.xy[t][p * 2], xy[p * 2 + 1] - e.xy[t][p * 2 + 1]) *
                      1000.0);
      }
      pocket_err.push_back(std::hypot(mk[0] - e.pocket[0], mk[1] - e.pocket[1]) * 1000.0);
      // A flat disc on the table shows only its edge: the frame fixes the pocket to a few
      // millimetres, and where the locator puts it the scene renders as the frame (at the
      // reset, where every ball rests at its reset height; a ball hops a little when struck).
      std::vector<float> poses(scene->bodies.size() * 7), marker_xyz(3);
      const std::vector<std::uint8_t> all(4, 1);
      locator.scene_at(e.xy[t], all, mk, poses.data(), marker_xyz.data());
      std::vector<std::uint8_t> again(e.frames[t].size());
      renderer.render({.n = 1, .poses = poses.data(), .markers = marker_xyz.data()}, again.data());
      std::size_t differ = 0;
      for (std::size_t i = 0; i < again.size(); ++i) differ += again[i] != e.frames[t][i];
      INFO("seed " << seed << " frame " << t << ": " << differ << " values differ");
      if (t == 0) CHECK(differ <= 6);  // at most two pixels: the search may stop a cell short
      // From a guess 1 mm off (the model's prediction before a resync): the same precision.
      std::vector<float> guess = e.xy[t];
      for (auto& v : guess) v += 0.001f;
      std::vector<float> mk2 = e.pocket;
      locator.locate(e.frames[t].data(), guess, found, mk2, true);
      for (int p = 0; p < 4; ++p)
        err.push_back(
            std::hypot(guess[p * 2] - e.xy[t][p * 2], guess[p * 2 + 1] - e.xy[t][p * 2 + 1]) *
            1000.0);
    }
  }
  double mean = 0;
  for (double x : err) mean += x;
  mean /= static_cast<double>(err.size());
  std::sort(err.begin(), err.end());
  std::sort(pocket_err.begin(), pocket_err.end());
  INFO("ball error mean " << mean << " mm, worst " << err.back() << " mm; pocket worst "
                          << pocket_err.back() << " mm");
  // 1 px is about 16 mm on this camera: 0.1 mm is 0.006 px.
  CHECK(mean < 0.1);
  CHECK(err.back() < 0.5);
  CHECK(pocket_err.back() < 5.0);
  // Scene checks name the body.
  REQUIRE_THROWS_WITH(ag::BodyLocator(scene, {"wall_north"}),
                      Catch::Contains("'wall_north'") && Catch::Contains("not a sphere"));
  REQUIRE_THROWS_WITH(ag::BodyLocator(scene, {"ghost"}), Catch::Contains("no such body"));
}

TEST_CASE("PoseWorldModel with a zero network: state and step and frames and reward and continue",
          "[pose_world]") {
  const auto scene = scene_named("billiards");
  const fs::path dir = temp_dir("zero");
  const std::string path = zero_model(dir, "zero.pt");
  const auto model = ag::load_pose_world_model(scene, path, torch::kCPU);
  const auto& info = model->info();
  CHECK(info.family == "pose-world");
  CHECK(info.context_frames == 4);
  CHECK(info.latent_step);
  CHECK(info.pose_bodies == kBalls);

  const Episode e = run_episode(scene, 4300, 8);
  const auto [frames, acts] = context(e, 2, 4, *scene);  // frames 2..5
  const int h = scene->camera.height, w = scene->camera.width;
  const wm::StepContext ctx;
  auto s = model->encode_context(frames, acts, ctx);
  // The history holds the four frames' balls where Bullet had them.
  for (int i = 0; i < 4; ++i)
    for (int p = 0; p < 4; ++p)
      for (int c = 0; c < 2; ++c)
        CHECK(s[0][0][i][p][c].item<float>() == Approx(e.xy[2 + i][p * 2 + c]).margin(3e-4));
  // The actions before frame 5 and frame 4 (a_t-1 = actions[4], a_t-2 = actions[3]).
  CHECK(s[1][0][1][0].item<float>() == Approx(e.actions[4][0]));
  CHECK(s[1][0][0][1].item<float>() == Approx(e.actions[3][1]));
  CHECK(s[2][0][0][0].item<float>() == Approx(e.pocket[0]).margin(1e-3));
  // Drawn where Bullet has them, the frame is the true one up to a few anti-aliased pixels.
  const auto drawn = model->decode(s);
  const auto truth =
      torch::from_blob(const_cast<std::uint8_t*>(e.frames[5].data()), {h, w, 3}, torch::kUInt8)
          .permute({2, 0, 1})
          .to(torch::kFloat) /
      255.0f;
  const double mse = (drawn[0] - truth).pow(2).mean().item<double>();
  INFO("decoded MSE " << mse);
  CHECK(10 * std::log10(1.0 / std::max(mse, 1e-12)) > 45.0);

  // A zero network extrapolates at constant velocity: p5 + k (p5 - p4) after k steps.
  for (int k = 1; k <= 3; ++k) {
    s = model->step(s, torch::tensor({{0.3f, -0.2f}}), ctx);
    for (int p = 0; p < 4; ++p)
      for (int c = 0; c < 2; ++c) {
        const float p5 = e.xy[5][p * 2 + c], p4 = e.xy[4][p * 2 + c];
        CHECK(s[0][0][3][p][c].item<float>() == Approx(p5 + k * (p5 - p4)).margin(6e-4));
      }
  }
  CHECK(s[1][0][1][0].item<float>() == Approx(0.3f));  // the last action joins the history

  // Reward and continue: the scene's terms on the positions, written out by hand:
  // -|red - pocket| (x, y), +10 and the end within 5 cm; the end when cue or red leaves +-0.6 m.
  auto at = [&](float rx, float ry, float cx) {
    auto t = model->initial_state(1, torch::kCPU);
    t[0].select(1, 3)[0][1][0] = rx, t[0].select(1, 3)[0][1][1] = ry;
    t[0].select(1, 3)[0][0][0] = cx;
    t[2][0][0][0] = 0.4f, t[2][0][0][1] = 0.2f;
    t[3].fill_(1.f);
    return t;
  };
  auto far = at(0.1f, 0.0f, 0.0f);
  CHECK(model->reward(far).item<float>() == Approx(-std::hypot(0.3, 0.2)).margin(1e-5));
  CHECK(model->cont(far).item<float>() == 1.f);
  auto in = at(0.38f, 0.21f, 0.0f);
  CHECK(model->reward(in).item<float>() == Approx(10.0 - std::hypot(0.02, 0.01)).margin(1e-5));
  CHECK(model->cont(in).item<float>() == 0.f);
  auto out = at(0.1f, 0.0f, 0.65f);
  CHECK(model->cont(out).item<float>() == 0.f);

  // Through DreamBatch (what fidelity, demo and the viewer drive), fork included: identical rows.
  wm::DreamBatch batch(model, 3, torch::kCPU);
  batch.reset(0, frames[0], acts[0]);
  batch.fork(0, std::vector<int>{1, 2});
  batch.tick(torch::tensor({{0.5f, 0.5f}, {0.5f, 0.5f}, {0.5f, 0.5f}}));
  const auto f3 = batch.frames();
  CHECK(torch::equal(f3[0], f3[1]));
  CHECK(torch::equal(f3[0], f3[2]));
  remove_tree(dir);
}

TEST_CASE("PoseWorldModel with the rolling state: read as rolling then carried and kept",
          "[pose_world]") {
  const auto scene = scene_named("billiards");
  const fs::path dir = temp_dir("rolling");
  const auto model = ag::load_pose_world_model(
      scene, zero_model(dir, "r.pt", nlohmann::json::object(), 8, true), torch::kCPU);
  const Episode e = run_episode(scene, 4301, 8);
  const auto [frames, acts] = context(e, 2, 4, *scene);  // frames 2..5
  const wm::StepContext ctx;
  auto s = model->encode_context(frames, acts, ctx);
  REQUIRE(s.size() == 6);
  // Read from frames, the bodies are taken to roll: the last displacement, not carried.
  CHECK(torch::equal(s[4], s[0].select(1, 3) - s[0].select(1, 2)));
  CHECK(s[5].item<float>() == 0.f);
  const auto read = s[4].clone();
  // A zero network: constant velocity, the rolling state unchanged, now carried.
  s = model->step(s, torch::tensor({{0.3f, -0.2f}}), ctx);
  CHECK(torch::equal(s[4], read));
  CHECK(s[5].item<float>() == 1.f);
  for (int p = 0; p < 4; ++p)
    for (int c = 0; c < 2; ++c) {
      const float p5 = e.xy[5][p * 2 + c], p4 = e.xy[4][p * 2 + c];
      CHECK(s[0][0][3][p][c].item<float>() == Approx(2 * p5 - p4).margin(6e-4));
    }
  // A frame does not show spin: observing keeps the model's own rolling state.
  const auto& next = e.frames[6];
  const auto frame =
      torch::from_blob(const_cast<std::uint8_t*>(next.data()),
                       {1, scene->camera.height, scene->camera.width, 3}, torch::kUInt8)
          .permute({0, 3, 1, 2})
          .contiguous();
  const auto seen = model->observe(s, frame, ctx);
  REQUIRE(seen.size() == 6);
  CHECK(torch::equal(seen[4], s[4]));
  CHECK(seen[5].item<float>() == 1.f);
  CHECK(seen[0][0][3][0][0].item<float>() == Approx(e.xy[6][0]).margin(3e-4));
  // A file whose weights are shaped for the plain network but flagged rolling, or a flag that
  // is not a boolean: refused naming the file.
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(
                          scene, zero_model(dir, "p.pt", {{"rolling_state", true}}), torch::kCPU),
                      Catch::Contains("p.pt"));
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(
                          scene, zero_model(dir, "y.pt", {{"rolling_state", "yes"}}), torch::kCPU),
                      Catch::Contains("'rolling_state'") && Catch::Contains("y.pt"));
  remove_tree(dir);
}

TEST_CASE("pose-world checkpoints: loading and refusals", "[pose_world]") {
  const auto billiards = scene_named("billiards");
  const fs::path dir = temp_dir("refuse");
  const std::string ok = zero_model(dir, "ok.pt");
  // Through the front ends' loader: the family is dispatched, not refused.
  const auto src = ag::load_model_for_scene(*billiards, ok, "cpu", 0);
  CHECK(src.model->info().family == "pose-world");
  CHECK(src.trained);
  // worldmodel's loader has no scene: it names the family and the way.
  REQUIRE_THROWS_WITH(wm::load_world_model(ok),
                      Catch::Contains("'pose-world'") && Catch::Contains("load_model_for_scene"));
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(scene_named("push"), ok, torch::kCPU),
                      Catch::Contains("trained on scene 'billiards', not 'push'"));
  const std::string bad_hidden = zero_model(dir, "h.pt", {{"hidden", 3}});
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(billiards, bad_hidden, torch::kCPU),
                      Catch::Contains("'hidden'") && Catch::Contains("h.pt"));
  const std::string ghost = zero_model(dir, "g.pt", {{"bodies", {"cue", "red", "blue", "ghost"}}});
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(billiards, ghost, torch::kCPU),
                      Catch::Contains("'ghost'"));
  const std::string missing = zero_model(dir, "m.pt", {{"bodies", {"cue", "red", "blue"}}});
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(billiards, missing, torch::kCPU),
                      Catch::Contains("'yellow'") && Catch::Contains("not modelled"));
  const std::string nostep = zero_model(dir, "s.pt", {{"step_m", -1}});
  REQUIRE_THROWS_WITH(ag::load_pose_world_model(billiards, nostep, torch::kCPU),
                      Catch::Contains("'step_m'"));
  remove_tree(dir);
}

// Driven by tests/python/pose_world_reference.sh: PARALLAX_POSE_WORLD_CHECKPOINT (a checkpoint
// with random weights) and PARALLAX_POSE_WORLD_CASES (histories, actions and PyTorch's next
// positions).
TEST_CASE("PoseWorldModel's step equals PyTorch's", "[.][pose_world_reference]") {
  const char* ck = std::getenv("PARALLAX_POSE_WORLD_CHECKPOINT");
  const char* cases = std::getenv("PARALLAX_POSE_WORLD_CASES");
  REQUIRE(ck != nullptr);
  REQUIRE(cases != nullptr);
  const auto model = ag::load_pose_world_model(scene_named("billiards"), ck, torch::kCPU);
  std::ifstream in(cases);
  const auto j = nlohmann::json::parse(in);
  const int b = j["rows"].get<int>();
  const auto hist = torch::tensor(j["hist"].get<std::vector<float>>()).reshape({b, 4, 4, 2});
  const auto acts = torch::tensor(j["acts"].get<std::vector<float>>()).reshape({b, 3, 2});
  const auto want = torch::tensor(j["next"].get<std::vector<float>>()).reshape({b, 4, 2});
  auto s = model->initial_state(b, torch::kCPU);
  s[0].copy_(hist);
  s[1].copy_(acts.narrow(1, 0, 2));
  s[3].fill_(1.f);
  const bool rolling = j.contains("roll");
  REQUIRE(s.size() == (rolling ? 6u : 4u));
  if (rolling) {
    s[4].copy_(torch::tensor(j["roll"].get<std::vector<float>>()).reshape({b, 4, 2}));
    s[5].copy_(torch::tensor(j["carried"].get<std::vector<float>>()).reshape({b, 1}));
  }
  const auto next = model->step(s, acts.select(1, 2), {});
  const double err = (next[0].select(1, 3) - want).abs().max().item<double>();
  INFO("largest difference " << err << " m");
  CHECK(err < 2e-6);
  if (rolling) {
    const auto want_roll =
        torch::tensor(j["next_roll"].get<std::vector<float>>()).reshape({b, 4, 2});
    const double roll_err = (next[4] - want_roll).abs().max().item<double>();
    INFO("largest rolling-state difference " << roll_err << " m");
    CHECK(roll_err < 2e-6);
    CHECK(next[5].min().item<float>() == 1.f);  // carried from now on
  }
}
