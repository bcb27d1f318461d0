// The `latent` family against an independent reference (PyTorch, tests/python/latent_reference.py,
// from the same weights and inputs), its loader's refusals, and DreamBatch over it: fork equals
// separate resets to the bit, a step leaves the observed frame alone, observe re-encodes.
#include "torch_catch.hpp"

#include <string>
#include <vector>

#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/latent.hpp"
#include "parallax/worldmodel/world_model.hpp"
#include "python_reference.hpp"

namespace wm = parallax::worldmodel;
namespace fs = std::filesystem;

using wm::testing::get;
using wm::testing::max_diff;
using wm::testing::read_dict;

namespace {

// Runs the Python reference once per process; returns its output folder.
const fs::path& reference_dir() {
  static const fs::path dir = [] {
    auto d = wm::testing::run_python_reference("latent_reference.py", "latent");
    REQUIRE(!d.empty());
    return d;
  }();
  return dir;
}

}  // namespace

TEST_CASE("latent: C++ forward equals PyTorch on the same weights and inputs",
          "[worldmodel][latent]") {
  torch::set_num_threads(1);
  auto loaded = wm::load_world_model((reference_dir() / "model.pt").string());
  const auto& info = loaded.model->info();
  CHECK(info.family == "latent");
  CHECK(info.latent_step);
  CHECK(info.height == 32);
  CHECK(info.width == 48);
  auto io = read_dict(reference_dir() / "io.pt");
  const wm::StepContext ctx{};
  auto& m = *loaded.model;
  auto s = m.encode_context(get(io, "frames"), torch::zeros({4, 2, 2}), ctx);
  CHECK(max_diff(s[0], get(io, "z")) < 1e-5);
  CHECK(max_diff(s[1], get(io, "z_prev")) < 1e-5);
  auto s1 = m.step(s, get(io, "action"), ctx);
  CHECK(max_diff(s1[0], get(io, "z1")) < 1e-5);
  CHECK(max_diff(s1[1], get(io, "z")) < 1e-5);
  auto s2 = m.step(s1, -get(io, "action"), ctx);
  CHECK(max_diff(s2[0], get(io, "z2")) < 1e-5);
  const auto r2 = get(io, "reward2");
  CHECK(((m.reward(s2) - r2).abs() / r2.abs().clamp_min(1.0)).max().item<double>() < 1e-5);
  CHECK(max_diff(m.cont(s2), get(io, "cont2")) < 1e-5);
  CHECK(max_diff(m.decode(s2), get(io, "decode2")) < 1e-5);
  // A step does not touch the observed frame: the same tensor passes through.
  CHECK(s2[2].is_same(s[2]));
  auto so = m.observe(s2, get(io, "truth"), ctx);
  CHECK(max_diff(so[0], get(io, "z_observed")) < 1e-5);
  CHECK(torch::equal(so[1], s2[1]));  // the belief about t - 1 stays
  CHECK(max_diff(m.decode(so), get(io, "decode_observed")) < 1e-5);
}

TEST_CASE("latent: the loader refuses bad checkpoints with one line naming the file and field",
          "[worldmodel][latent]") {
  const auto dir = reference_dir() / "variants";
  auto refuses = [&](const std::string& name, const std::string& what) {
    const std::string path = (dir / (name + ".pt")).string();
    try {
      wm::load_world_model(path);
      FAIL("loaded " << name);
    } catch (const std::runtime_error& e) {
      const std::string msg = e.what();
      INFO(name << ": " << msg);
      CHECK(msg.find(path) != std::string::npos);
      CHECK(msg.find(what) != std::string::npos);
      CHECK(msg.find('\n') == std::string::npos);
    }
  };
  refuses("missing_weight", "weight 'dynamics.fc3.weight' is missing");
  refuses("bad_config", "config field 'dec_channels'");
  refuses("bad_height", "not multiples of 16");
  refuses("bad_value_gamma", "config field 'value_gamma' holds 1.5");
  refuses("missing_value_weight", "weight 'value.fc2.weight' is missing");
  refuses("bad_pose_bodies", "config field 'pose_bodies' holds [\"cube\",\"\"]");
}

TEST_CASE("latent: the value head equals the PyTorch reference and a model without one says so",
          "[worldmodel][latent]") {
  torch::set_num_threads(1);
  auto with = wm::load_world_model((reference_dir() / "model_value.pt").string()).model;
  auto without = wm::load_world_model((reference_dir() / "model.pt").string()).model;
  CHECK(with->info().value_gamma == Approx(0.95));
  CHECK(without->info().value_gamma == 0.0);
  auto io = read_dict(reference_dir() / "io.pt");
  const wm::StepContext ctx{};
  auto s = with->encode_context(get(io, "frames"), torch::zeros({4, 2, 2}), ctx);
  s = with->step(with->step(s, get(io, "action"), ctx), -get(io, "action"), ctx);
  const auto v2 = get(io, "value2");
  CHECK(((with->value(s) - v2).abs() / v2.abs().clamp_min(1.0)).max().item<double>() < 1e-5);
  // The value head changes nothing else: the same state and reward as the model without it.
  auto t = without->encode_context(get(io, "frames"), torch::zeros({4, 2, 2}), ctx);
  t = without->step(without->step(t, get(io, "action"), ctx), -get(io, "action"), ctx);
  CHECK(torch::equal(s[0], t[0]));
  CHECK(torch::equal(with->reward(s), without->reward(t)));
  CHECK_THROWS_AS(without->value(t), std::logic_error);
  // The pose head (x, y per pose body) equals PyTorch's; a model without one says so.
  auto& net = dynamic_cast<wm::LatentNetImpl&>(with->module());
  CHECK(net.config().pose_bodies == std::vector<std::string>{"pusher", "cube"});
  CHECK(max_diff(net.poses(s[0]), get(io, "poses2")) < 1e-5);
  CHECK_THROWS_AS(dynamic_cast<wm::LatentNetImpl&>(without->module()).poses(t[0]),
                  std::logic_error);
  // DreamBatch: the value of open slots, 0 for closed ones.
  wm::DreamBatch dream(with, 3, torch::kCPU);
  dream.reset(1, get(io, "frames")[0], torch::zeros({2, 2}));
  const auto v = dream.value();
  CHECK(v[0].item<float>() == 0.0f);
  CHECK(v[2].item<float>() == 0.0f);
  CHECK(v[1].item<float>() != 0.0f);
}

TEST_CASE("latent: DreamBatch fork then step equals slots reset separately to the bit",
          "[worldmodel][latent]") {
  torch::set_num_threads(1);
  auto model = wm::load_world_model((reference_dir() / "model.pt").string()).model;
  torch::manual_seed(5);
  auto ctx = (torch::rand({2, 3, 32, 48}) * 255).to(torch::kUInt8);
  auto ctx_actions = torch::zeros({2, 2});
  wm::DreamBatch forked(model, 4, torch::kCPU), separate(model, 4, torch::kCPU);
  forked.reset(0, ctx, ctx_actions);
  forked.fork(0, {1, 2, 3});
  for (int i = 0; i < 4; ++i) separate.reset(i, ctx, ctx_actions);
  for (int t = 0; t < 5; ++t) {
    auto a = torch::rand({4, 2}) * 2 - 1;
    forked.tick(a);
    separate.tick(a);
  }
  CHECK(torch::equal(forked.frames(), separate.frames()));
  CHECK(torch::equal(forked.reward(), separate.reward()));
  CHECK(torch::equal(forked.state()[0], separate.state()[0]));
  auto f = forked.state()[0];
  CHECK_FALSE(torch::equal(f[0], f[1]));  // different actions, different futures
  // Every slot still draws over the context's last frame (a step never rewrites it).
  for (int i = 0; i < 4; ++i) CHECK(torch::equal(forked.state()[2][i], ctx[1]));
}
