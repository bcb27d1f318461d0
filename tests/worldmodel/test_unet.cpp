// The `unet` family against an independent reference (PyTorch, tests/python/unet_reference.py,
// from the same weights and inputs), its loader's refusals, and DreamBatch over it: fork equals
// separate resets, observe replaces the frame, bf16 precision follows PyTorch's autocast. Plus
// SHA-256 against FIPS 180-2's test vectors.
#include "torch_catch.hpp"

#include <fstream>
#include <iterator>
#include <string>

#include "parallax/worldmodel/dream_batch.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/sha256.hpp"
#include "parallax/worldmodel/unet.hpp"
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
    auto d = wm::testing::run_python_reference("unet_reference.py", "unet");
    REQUIRE(!d.empty());
    return d;
  }();
  return dir;
}

}  // namespace

TEST_CASE("unet: C++ forward equals PyTorch on the same weights and inputs", "[worldmodel][unet]") {
  torch::set_num_threads(1);
  // Heads on the bottleneck (the default), on the predicted frame (reward_input "frame") and on
  // its keypoints (reward_input "keypoints").
  // Also a model that warps the last frame by a predicted flow (output "warp") and one that
  // warps the last observed frame by the accumulated flow (output "anchored": its second step
  // reads the carried anchor, flow and residual).
  const fs::path dir =
      GENERATE(as<fs::path>{}, "", "frame_head", "keypoint_head", "warp", "anchored");
  INFO("reference " << (reference_dir() / dir).string());
  auto loaded = wm::load_world_model((reference_dir() / dir / "model.pt").string());
  const auto& info = loaded.model->info();
  CHECK(info.family == "unet");
  CHECK(info.context_frames == 3);
  CHECK(info.height == 32);
  auto io = read_dict(reference_dir() / dir / "io.pt");
  // One step through the interface: state from the context, then step.
  const wm::StepContext ctx{};
  const wm::SlotState s =
      loaded.model->encode_context(get(io, "frames"), torch::zeros({4, 3, 2}), ctx);
  auto next = loaded.model->step(s, get(io, "action"), ctx);
  // The state's last frame is the clamped prediction; PyTorch's raw output clamped likewise.
  CHECK(max_diff(loaded.model->decode(next), get(io, "next").clamp(0, 1)) < 1e-5);
  CHECK(max_diff(next[1], get(io, "reward")) < 1e-5);
  CHECK(max_diff(next[2], get(io, "cont")) < 1e-5);
  // A second step on its own prediction (the open-loop window slides).
  auto next2 = loaded.model->step(next, -get(io, "action"), ctx);
  CHECK(max_diff(loaded.model->decode(next2), get(io, "next2")) < 1e-5);
  // symexp of a large logit: compare relative to the magnitude.
  const auto r2 = get(io, "reward2");
  CHECK(((loaded.model->reward(next2) - r2).abs() / r2.abs().clamp_min(1.0)).max().item<double>() <
        1e-5);
  CHECK(max_diff(loaded.model->cont(next2), get(io, "cont2")) < 1e-5);
  // The loader records the file's sha256.
  std::ifstream in(reference_dir() / dir / "model.pt", std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  CHECK(loaded.sha256 == wm::sha256_hex(bytes));
}

TEST_CASE("unet: the loader refuses bad checkpoints with one line naming the file and field",
          "[worldmodel][unet]") {
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
  refuses("unknown_family", "known families: rssm, unet, latent");
  refuses("bad_format", "field 'parallax_format'");
  refuses("missing_weight", "weight 'mid.weight' is missing");
  refuses("bad_shape", "weight 'mid.weight' has shape");
  refuses("nan_weight", "weight 'head1.bias' holds non-finite values");
  refuses("bad_config", "config field 'channels'");
  refuses("not_a_dict", "not a dict");
  refuses("keypoints_missing", "config field 'keypoints' is missing");
  refuses("bad_output", "config field 'output' is \"optical\"");
  refuses("warp_without_flow", "weight 'flow.weight' is missing");
}

TEST_CASE("unet: warp samples the frame at each pixel plus its flow", "[worldmodel][unet]") {
  // Closed form: a shift by a whole number of pixels moves the image by it (the border row
  // repeated), half a pixel averages two neighbours, zero flow is the identity.
  torch::manual_seed(5);
  const auto frame = torch::rand({2, 3, 8, 16});
  const auto zero = torch::zeros({2, 2, 8, 16});
  CHECK(torch::equal(wm::warp(frame, zero), frame));
  auto flow = zero.clone();
  flow.select(1, 0).fill_(2.0f);  // sample 2 px to the right: out(x) = in(x + 2)
  auto shifted = wm::warp(frame, flow);
  using torch::indexing::Slice;
  CHECK((shifted.index({Slice(), Slice(), Slice(), Slice(0, 14)}) -
         frame.index({Slice(), Slice(), Slice(), Slice(2, 16)}))
            .abs()
            .max()
            .item<float>() < 1e-6f);
  // Past the right border the last column repeats.
  CHECK((shifted.index({Slice(), Slice(), Slice(), 15}) -
         frame.index({Slice(), Slice(), Slice(), 15}))
            .abs()
            .max()
            .item<float>() < 1e-6f);
  flow = zero.clone();
  flow.select(1, 1).fill_(-0.5f);  // half a pixel up: the mean of a row and the one above
  auto half = wm::warp(frame, flow);
  const auto mean = (frame.index({Slice(), Slice(), Slice(0, 7)}) +
                     frame.index({Slice(), Slice(), Slice(1, 8)})) /
                    2;
  CHECK((half.index({Slice(), Slice(), Slice(1, 8)}) - mean).abs().max().item<float>() < 1e-6f);
}

TEST_CASE("unet: anchored samples the observed frame once by the accumulated flow",
          "[worldmodel][unet]") {
  // Closed form: a network whose flow is half a pixel to the right everywhere and whose residual
  // is zero. Two steps of "anchored" sample the observed frame 1 px to the right: exactly its
  // columns shifted (bilinear at a whole pixel); two steps of "warp" average three columns
  // instead (the blur of resampling twice). After an observed frame the next step starts again
  // from it.
  torch::manual_seed(7);
  using torch::indexing::Slice;
  auto make = [](const std::string& output) {
    wm::UNetConfig c;
    c.height = 16;
    c.width = 16;
    c.context_frames = 1;
    c.channels = {8, 16};
    c.output = output;
    wm::UNet net(c);
    torch::NoGradGuard no_grad;
    for (auto& p : net->named_parameters()) {
      if (p.key().rfind("flow.", 0) == 0 || p.key().rfind("out.", 0) == 0) p.value().zero_();
    }
    net->named_parameters()["flow.bias"][0].fill_(0.5f);
    return wm::make_unet_world_model(net);
  };
  const auto frame = torch::rand({1, 1, 3, 16, 16});
  const wm::StepContext ctx{};
  const auto act = torch::zeros({1, 2});
  auto two_steps = [&](const std::shared_ptr<wm::WorldModel>& m) {
    auto s = m->encode_context(frame, torch::zeros({1, 1, 2}), ctx);
    return m->decode(m->step(m->step(s, act, ctx), act, ctx));
  };
  const auto anchored = make("anchored");
  const auto shift1 = frame.select(1, 0).index({Slice(), Slice(), Slice(), Slice(1, 16)});
  auto cols = [](const torch::Tensor& x) {
    return x.index({Slice(), Slice(), Slice(), Slice(0, 15)});
  };
  CHECK((cols(two_steps(anchored)) - shift1).abs().max().item<float>() < 1e-6f);
  // "warp" on the same weights: no longer the image shifted (not vacuous), but the 1/4, 1/2, 1/4
  // mean of three columns (away from the right border).
  const auto warped = two_steps(make("warp"));
  CHECK((cols(warped) - shift1).abs().max().item<float>() > 0.05f);
  const auto f = frame.select(1, 0);
  const auto blur = 0.25 * f.index({Slice(), Slice(), Slice(), Slice(0, 14)}) +
                    0.5 * f.index({Slice(), Slice(), Slice(), Slice(1, 15)}) +
                    0.25 * f.index({Slice(), Slice(), Slice(), Slice(2, 16)});
  CHECK((warped.index({Slice(), Slice(), Slice(), Slice(0, 14)}) - blur).abs().max().item<float>() <
        1e-5f);
  // Observing a new frame anchors it: one step later, half a pixel from it (the mean of two
  // neighbouring columns), the accumulated 1 px forgotten.
  auto s = anchored->encode_context(frame, torch::zeros({1, 1, 2}), ctx);
  s = anchored->step(anchored->step(s, act, ctx), act, ctx);
  const auto seen = torch::rand({1, 3, 16, 16});
  s = anchored->step(anchored->observe(s, seen, ctx), act, ctx);
  const auto half = (seen.index({Slice(), Slice(), Slice(), Slice(0, 15)}) +
                     seen.index({Slice(), Slice(), Slice(), Slice(1, 16)})) /
                    2;
  CHECK((cols(anchored->decode(s)) - half).abs().max().item<float>() < 1e-6f);
}

TEST_CASE("unet: DreamBatch fork then step equals slots reset separately to the bit",
          "[worldmodel][unet]") {
  torch::set_num_threads(1);
  // Also output "anchored", whose slots carry an anchor, a flow and a residual.
  const fs::path dir = GENERATE(as<fs::path>{}, "", "anchored");
  INFO("reference " << (reference_dir() / dir).string());
  auto model = wm::load_world_model((reference_dir() / dir / "model.pt").string()).model;
  torch::manual_seed(3);
  auto ctx = (torch::rand({3, 3, 32, 32}) * 255).to(torch::kUInt8);
  auto ctx_actions = torch::zeros({3, 2});
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
  // Different actions per slot gave different futures (the check above is not vacuous).
  auto f = forked.frames();
  CHECK_FALSE(torch::equal(f[0], f[1]));
}

TEST_CASE("unet: a short context is padded and observe replaces the predicted frame",
          "[worldmodel][unet]") {
  auto model = wm::load_world_model((reference_dir() / "model.pt").string()).model;
  auto one = (torch::rand({1, 3, 32, 32}) * 255).to(torch::kUInt8);
  wm::DreamBatch dream(model, 2, torch::kCPU);
  dream.reset(0, one, torch::zeros({1, 2}));
  dream.reset(1, one.expand({3, 3, 32, 32}).contiguous(), torch::zeros({3, 2}));
  CHECK(torch::equal(dream.state()[0][0], dream.state()[0][1]));  // padded = repeated frame
  CHECK(torch::equal(dream.frames()[0], one[0]));                 // decode = last frame
  dream.tick(torch::ones({2, 2}));
  auto truth = (torch::rand({2, 3, 32, 32}) * 255).to(torch::kUInt8);
  dream.observe(truth, torch::tensor({true, false}));
  CHECK(torch::equal(dream.frames()[0], truth[0]));
  CHECK_FALSE(torch::equal(dream.frames()[1], truth[1]));
}

TEST_CASE("unet: DreamBatch at bf16 precision follows PyTorch's bf16 autocast",
          "[worldmodel][unet]") {
  torch::set_num_threads(1);
  // Also the warp output, whose sampling stays in f32 under autocast in both twins.
  const fs::path dir = GENERATE(as<fs::path>{}, "", "warp", "anchored");
  INFO("reference " << (reference_dir() / dir).string());
  auto model = wm::load_world_model((reference_dir() / dir / "model.pt").string()).model;
  auto io = read_dict(reference_dir() / dir / "io.pt");
  const auto frames = get(io, "frames_u8");  // [4, 3, 3, 32, 32] u8
  const auto to_u8 = [](const torch::Tensor& x) { return (x * 255).round(); };
  const auto ref_f32 = to_u8(get(io, "next_u8_f32")), ref_bf16 = to_u8(get(io, "next_u8_bf16"));
  wm::DreamBatch dream(model, 4, torch::kCPU);
  dream.set_precision(wm::Precision::kBF16);
  CHECK(dream.precision() == wm::Precision::kBF16);
  for (int i = 0; i < 4; ++i) dream.reset(i, frames[i], torch::zeros({3, 2}));
  dream.tick(get(io, "action"));
  CHECK(dream.state()[0].scalar_type() == torch::kFloat);  // states stay f32
  const auto got = dream.frames().to(torch::kFloat);
  // PyTorch's bf16 autocast on the same weights and inputs, to the 8-bit level (rounding).
  CHECK((got - ref_bf16).abs().max().item<float>() <= 1.0f);
  // Not vacuous: bf16 moved pixels away from f32, and the C++ frames are nearer PyTorch's bf16
  // frames than its f32 ones.
  CHECK((ref_bf16 - ref_f32).abs().max().item<float>() >= 1.0f);
  CHECK((got - ref_bf16).abs().mean().item<float>() < (got - ref_f32).abs().mean().item<float>());
  // Back at f32 (weights now channels-last): f32's frames to the rounding of the last bits.
  dream.set_precision(wm::Precision::kF32);
  for (int i = 0; i < 4; ++i) dream.reset(i, frames[i], torch::zeros({3, 2}));
  dream.tick(get(io, "action"));
  CHECK((dream.frames().to(torch::kFloat) - ref_f32).abs().max().item<float>() <= 1.0f);
  CHECK_THROWS_WITH(wm::precision_from_string("fp8"), "precision 'fp8': expected f32 or bf16");
}

TEST_CASE("sha256 matches the FIPS 180-2 test vectors", "[worldmodel]") {
  CHECK(wm::sha256_hex("") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(wm::sha256_hex("abc") ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(wm::sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq") ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(wm::sha256_hex(std::string(1000000, 'a')) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
