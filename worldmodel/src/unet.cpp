// The `unet` family: network (the C++ twin of worldmodel/python/parallax_unet.py), config and
// its world-model interface.
#include "parallax/worldmodel/unet.hpp"

#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>

#include <stdexcept>

namespace parallax::worldmodel {

namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d conv3(int cin, int cout, int stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, cout, 3).stride(stride).padding(1));
}
torch::nn::GroupNorm group_norm(int groups, int channels) {
  return torch::nn::GroupNorm(torch::nn::GroupNormOptions(std::min(groups, channels), channels));
}

// conv3x3/2 -> GroupNorm -> SiLU -> conv3x3 -> GroupNorm -> SiLU
struct DownImpl : torch::nn::Module {
  DownImpl(int cin, int cout, int groups)
      : conv1(register_module("conv1", conv3(cin, cout, 2))),
        norm1(register_module("norm1", group_norm(groups, cout))),
        conv2(register_module("conv2", conv3(cout, cout))),
        norm2(register_module("norm2", group_norm(groups, cout))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto y = torch::silu(norm1(conv1(x)));
    return torch::silu(norm2(conv2(y)));
  }
  torch::nn::Conv2d conv1;
  torch::nn::GroupNorm norm1;
  torch::nn::Conv2d conv2;
  torch::nn::GroupNorm norm2;
};
TORCH_MODULE(Down);

// nearest x2 -> concat skip -> conv3x3 -> GroupNorm -> SiLU -> conv3x3 -> SiLU
struct UpImpl : torch::nn::Module {
  UpImpl(int cin, int cskip, int cout, int groups)
      : conv1(register_module("conv1", conv3(cin + cskip, cout))),
        norm1(register_module("norm1", group_norm(groups, cout))),
        conv2(register_module("conv2", conv3(cout, cout))) {}
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& skip) {
    auto y = F::interpolate(x, F::InterpolateFuncOptions()
                                   .scale_factor(std::vector<double>{2.0, 2.0})
                                   .mode(torch::kNearest));
    y = torch::silu(norm1(conv1(torch::cat({y, skip}, 1))));
    return torch::silu(conv2(y));
  }
  torch::nn::Conv2d conv1;
  torch::nn::GroupNorm norm1;
  torch::nn::Conv2d conv2;
};
TORCH_MODULE(Up);

// [clamp(frame, 0, 1) - 0.5, x, y] with x and y in [-1, 1]: [B, 5, H, W].
torch::Tensor coordinate_planes(const torch::Tensor& frame) {
  const int64_t b = frame.size(0), h = frame.size(2), w = frame.size(3);
  const auto opts = torch::TensorOptions().dtype(frame.dtype()).device(frame.device());
  auto yy = torch::linspace(-1, 1, h, opts).view({1, 1, h, 1}).expand({b, 1, h, w});
  auto xx = torch::linspace(-1, 1, w, opts).view({1, 1, 1, w}).expand({b, 1, h, w});
  return torch::cat({frame.clamp(0, 1) - 0.5f, xx, yy}, 1);
}

// reward_input "frame": [clamp(frame) - 0.5, x, y coordinate planes] -> 4 x (conv3x3/2 -> SiLU)
// -> flatten ++ action -> Linear -> SiLU -> Linear -> [symlog reward, continue logit].
constexpr int kFrameHeadChannels[] = {16, 32, 64, 64};
struct FrameHeadImpl : torch::nn::Module {
  FrameHeadImpl(int height, int width, int action_size, int hidden) {
    convs = register_module("convs", torch::nn::ModuleList());
    int cin = 5;
    for (int c : kFrameHeadChannels) {
      convs->push_back(conv3(cin, c, 2));
      cin = c;
    }
    fc1 = register_module(
        "fc1", torch::nn::Linear(cin * (height / 16) * (width / 16) + action_size, hidden));
    fc2 = register_module("fc2", torch::nn::Linear(hidden, 2));
  }
  torch::Tensor forward(const torch::Tensor& frame, const torch::Tensor& action) {
    auto y = coordinate_planes(frame);
    for (const auto& m : *convs) y = torch::silu(m->as<torch::nn::Conv2dImpl>()->forward(y));
    return fc2(torch::silu(fc1(torch::cat({y.flatten(1), action.to(y.dtype())}, 1))));
  }
  torch::nn::ModuleList convs{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};
TORCH_MODULE(FrameHead);

// reward_input "keypoints": [clamp(frame) - 0.5, x, y] -> conv3x3/2 (16) -> SiLU -> conv3x3 (32)
// -> SiLU -> conv3x3 (K) -> per channel a softmax over the H/2 x W/2 positions -> expected x, y in
// [-1, 1] and the logsumexp of the logits -> 3K ++ action -> Linear -> SiLU -> Linear -> SiLU
// -> Linear -> [symlog reward, continue logit]. Always in f32, also under bf16 autocast: bf16's
// 8-bit mantissa on the softmax's logits (tens) would move the keypoints by fractions of a cell,
// the precision the head exists for; it costs about 4 % of a step.
constexpr int kKeypointChannels[] = {16, 32};

// Turns autocast off for one device type while alive (restores the previous state).
class AutocastOff {
 public:
  explicit AutocastOff(c10::DeviceType type)
      : type_(type), previous_(at::autocast::is_autocast_enabled(type)) {
    at::autocast::set_autocast_enabled(type_, false);
  }
  ~AutocastOff() { at::autocast::set_autocast_enabled(type_, previous_); }
  AutocastOff(const AutocastOff&) = delete;
  AutocastOff& operator=(const AutocastOff&) = delete;

 private:
  c10::DeviceType type_;
  bool previous_;
};

struct KeypointHeadImpl : torch::nn::Module {
  KeypointHeadImpl(int keypoints, int action_size, int hidden)
      : conv1(register_module("conv1", conv3(5, kKeypointChannels[0], 2))),
        conv2(register_module("conv2", conv3(kKeypointChannels[0], kKeypointChannels[1]))),
        conv3_(register_module("conv3", conv3(kKeypointChannels[1], keypoints))),
        fc1(register_module("fc1", torch::nn::Linear(3 * keypoints + action_size, hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, hidden))),
        fc3(register_module("fc3", torch::nn::Linear(hidden, 2))) {}
  torch::Tensor forward(const torch::Tensor& frame, const torch::Tensor& action) {
    const AutocastOff f32(frame.device().type());
    auto y = torch::silu(conv2(torch::silu(conv1(coordinate_planes(frame.to(torch::kFloat))))));
    auto logits = conv3_(y);
    const int64_t b = logits.size(0), k = logits.size(1), h = logits.size(2), w = logits.size(3);
    logits = logits.flatten(2);
    auto p = torch::softmax(logits, -1).view({b, k, h, w});
    const auto opts = p.options();
    auto ex = (p.sum(2) * torch::linspace(-1, 1, w, opts)).sum(-1);
    auto ey = (p.sum(3) * torch::linspace(-1, 1, h, opts)).sum(-1);
    auto feats = torch::cat({ex, ey, torch::logsumexp(logits, -1), action.to(torch::kFloat)}, 1);
    return fc3(torch::silu(fc2(torch::silu(fc1(feats)))));
  }
  torch::nn::Conv2d conv1, conv2, conv3_;
  torch::nn::Linear fc1, fc2, fc3;
};
TORCH_MODULE(KeypointHead);

}  // namespace

// ---- warp ------------------------------------------------------------------------------------

torch::Tensor warp(const torch::Tensor& frame, const torch::Tensor& flow) {
  // Always in f32, also under bf16 autocast: bf16's 8-bit mantissa would put the sample points
  // up to a quarter of a pixel off, the precision the flow exists for.
  const AutocastOff f32_only(frame.device().type());
  const int64_t h = frame.size(2), w = frame.size(3);
  const auto f32 = flow.options().dtype(torch::kFloat);
  // Pixel j's centre is (2j + 1) / W - 1 in grid_sample's coordinates (align_corners false).
  const auto xs = (torch::arange(w, f32) * 2 + 1) / static_cast<double>(w) - 1;
  const auto ys = (torch::arange(h, f32) * 2 + 1) / static_cast<double>(h) - 1;
  const auto fl = flow.to(torch::kFloat);
  const auto gx = xs.view({1, 1, w}) + fl.select(1, 0) * (2.0 / static_cast<double>(w));
  const auto gy = ys.view({1, h, 1}) + fl.select(1, 1) * (2.0 / static_cast<double>(h));
  return F::grid_sample(frame.to(torch::kFloat), torch::stack({gx, gy}, -1),
                        F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kBorder)
                            .align_corners(false));
}

// ---- config ----------------------------------------------------------------------------------

UNetConfig UNetConfig::from_json_string(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(source + ": config is not JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw std::runtime_error(source + ": config is not a JSON object");
  UNetConfig c;
  auto get_int = [&](const char* key, int lo, int hi, int& out) {
    if (!j.contains(key))
      throw std::runtime_error(source + ": config field '" + key + "' is missing");
    const auto& v = j[key];
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      throw std::runtime_error(source + ": config field '" + key + "' is " + v.dump() +
                               ", expected an integer in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "]");
    out = v.get<int>();
  };
  if (j.value("family", std::string()) != "unet")
    throw std::runtime_error(source + ": config field 'family' is not \"unet\"");
  get_int("height", 16, 1024, c.height);
  get_int("width", 16, 1024, c.width);
  get_int("action_size", 1, 64, c.action_size);
  get_int("context_frames", 1, 8, c.context_frames);
  get_int("groups", 1, 64, c.groups);
  get_int("action_hidden", 1, 4096, c.action_hidden);
  get_int("head_channels", 1, 1024, c.head_channels);
  get_int("head_hidden", 1, 4096, c.head_hidden);
  const auto& ch = j.value("channels", nlohmann::json());
  if (!ch.is_array() || ch.size() < 2 || ch.size() > 6)
    throw std::runtime_error(source + ": config field 'channels' is " + ch.dump() +
                             ", expected a list of 2 to 6 positive integers");
  c.channels.clear();
  for (const auto& v : ch) {
    if (!v.is_number_integer() || v.get<long long>() < 1 || v.get<long long>() > 4096)
      throw std::runtime_error(source + ": config field 'channels' holds " + v.dump() +
                               ", expected integers in [1, 4096]");
    c.channels.push_back(v.get<int>());
  }
  const int levels = static_cast<int>(c.channels.size()) - 1;
  if (c.height % (1 << levels) != 0 || c.width % (1 << levels) != 0)
    throw std::runtime_error(source + ": frames " + std::to_string(c.height) + "x" +
                             std::to_string(c.width) + " are not divisible by 2^" +
                             std::to_string(levels) + " (one halving per channel level)");
  if (j.contains("reward_input")) {  // absent in checkpoints made before the frame head
    const auto& v = j["reward_input"];
    if (!v.is_string() || (v != "bottleneck" && v != "frame" && v != "keypoints"))
      throw std::runtime_error(source + ": config field 'reward_input' is " + v.dump() +
                               ", expected \"bottleneck\", \"frame\" or \"keypoints\"");
    c.reward_input = v.get<std::string>();
    if (c.reward_input == "frame" && (c.height % 16 != 0 || c.width % 16 != 0))
      throw std::runtime_error(source + ": frames " + std::to_string(c.height) + "x" +
                               std::to_string(c.width) +
                               " are not multiples of 16 (config field 'reward_input' is "
                               "\"frame\")");
    if (c.reward_input == "keypoints") {
      get_int("keypoints", 1, 64, c.keypoints);
      if (c.height % 2 != 0 || c.width % 2 != 0)
        throw std::runtime_error(source + ": frames " + std::to_string(c.height) + "x" +
                                 std::to_string(c.width) +
                                 " are not even (config field 'reward_input' is \"keypoints\")");
    }
  }
  if (j.contains("output")) {  // absent in checkpoints made before the warp output
    const auto& v = j["output"];
    if (!v.is_string() || (v != "residual" && v != "warp" && v != "anchored"))
      throw std::runtime_error(source + ": config field 'output' is " + v.dump() +
                               ", expected \"residual\", \"warp\" or \"anchored\"");
    c.output = v.get<std::string>();
  }
  if (j.contains("scene") && j["scene"].is_string()) c.scene = j["scene"].get<std::string>();
  return c;
}

std::string UNetConfig::to_json_string() const {
  nlohmann::json j = {{"family", "unet"},
                      {"height", height},
                      {"width", width},
                      {"action_size", action_size},
                      {"context_frames", context_frames},
                      {"channels", channels},
                      {"groups", groups},
                      {"action_hidden", action_hidden},
                      {"head_channels", head_channels},
                      {"head_hidden", head_hidden},
                      {"reward_input", reward_input},
                      {"scene", scene}};
  if (reward_input == "keypoints") j["keypoints"] = keypoints;
  if (output != "residual") j["output"] = output;  // older models' identity stays as it was
  return j.dump();
}

// ---- network ---------------------------------------------------------------------------------

UNetImpl::UNetImpl(const UNetConfig& config) : config_(config) {
  const auto& ch = config_.channels;
  const int c = config_.context_frames, a = config_.action_size, g = config_.groups;
  const int levels = static_cast<int>(ch.size());
  // Registration order matches the Python module (parameter names are the contract).
  stem1_ = register_module("stem1", conv3(3 * c + a, ch[0]));
  stem2_ = register_module("stem2", conv3(ch[0], ch[0]));
  downs_ = register_module("downs", torch::nn::ModuleList());
  for (int i = 1; i < levels; ++i) downs_->push_back(Down(ch[i - 1], ch[i], g));
  film1_ = register_module("film1", torch::nn::Linear(a, config_.action_hidden));
  film2_ = register_module("film2", torch::nn::Linear(config_.action_hidden, 2 * ch.back()));
  mid_ = register_module("mid", conv3(ch.back(), ch.back()));
  ups_ = register_module("ups", torch::nn::ModuleList());
  for (int i = levels - 1; i >= 1; --i) ups_->push_back(Up(ch[i], ch[i - 1], ch[i - 1], g));
  out_ = register_module("out", conv3(ch[0], 3));
  if (config_.has_flow()) flow_ = register_module("flow", conv3(ch[0], 2));
  const int fh = config_.height >> (levels - 1), fw = config_.width >> (levels - 1);
  if (config_.reward_input == "frame") {
    frame_head_ = torch::nn::AnyModule(register_module(
        "frame_head",
        FrameHead(config_.height, config_.width, config_.action_size, config_.head_hidden)));
  } else if (config_.reward_input == "keypoints") {
    frame_head_ = torch::nn::AnyModule(register_module(
        "frame_head", KeypointHead(config_.keypoints, config_.action_size, config_.head_hidden)));
  } else {
    head_conv_ = register_module("head_conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(
                                                  ch.back(), config_.head_channels, 1)));
    head1_ = register_module(
        "head1", torch::nn::Linear(config_.head_channels * fh * fw, config_.head_hidden));
    head2_ = register_module("head2", torch::nn::Linear(config_.head_hidden, 2));
  }
  // As in Python: the residual and the FiLM start at zero (the untrained model holds the frame).
  torch::NoGradGuard no_grad;
  out_->weight.zero_();
  out_->bias.zero_();
  if (flow_) {
    flow_->weight.zero_();
    flow_->bias.zero_();
  }
  film2_->weight.zero_();
  film2_->bias.zero_();
}

UNetImpl::Output UNetImpl::forward(const torch::Tensor& frames, const torch::Tensor& action,
                                   const Carry& carry) {
  const int64_t b = frames.size(0), c = frames.size(1), h = frames.size(3), w = frames.size(4);
  const auto last = frames.select(1, c - 1);  // [B, 3, H, W]
  auto x = (frames - 0.5f).reshape({b, 3 * c, h, w});
  auto planes = action.to(x.dtype()).view({b, -1, 1, 1}).expand({b, action.size(1), h, w});
  x = torch::cat({x, planes}, 1);
  x = torch::silu(stem1_(x));
  x = torch::silu(stem2_(x));
  std::vector<torch::Tensor> skips{x};
  for (const auto& m : *downs_) {
    x = m->as<DownImpl>()->forward(x);
    skips.push_back(x);
  }
  auto gb = film2_(torch::silu(film1_(action.to(x.dtype())))).chunk(2, 1);
  x = x * (1 + gb[0].view({b, -1, 1, 1})) + gb[1].view({b, -1, 1, 1});
  x = torch::silu(mid_(x));
  torch::Tensor heads;  // [B, 2]
  if (head_conv_) heads = head2_(torch::silu(head1_(head_conv_(x).flatten(1))));
  skips.pop_back();
  for (const auto& m : *ups_) {
    x = m->as<UpImpl>()->forward(x, skips.back());
    skips.pop_back();
  }
  Carry after;
  torch::Tensor next;
  if (config_.output == "anchored") {
    // G' = flow + warp(G, flow), D' = warp(D, flow) + delta, next = warp(A, G') + D'; after an
    // observed frame G = D = 0 and A is that frame, which makes this step "warp"'s exactly.
    const auto flow = flow_(x);
    const auto delta = out_(x).to(torch::kFloat);
    if (carry.anchor.defined()) {
      after = {carry.anchor, flow.to(torch::kFloat) + warp(carry.flow, flow),
               warp(carry.residual, flow) + delta};
    } else {
      after = {last.to(torch::kFloat), flow.to(torch::kFloat), delta};
    }
    next = warp(after.anchor, after.flow) + after.residual;
  } else {
    next = (flow_ ? warp(last, flow_(x)) : last) + out_(x);
  }
  if (!head_conv_) heads = frame_head_.forward(next, action);
  return {next, heads.select(1, 0), heads.select(1, 1), after};
}

// ---- world-model interface -------------------------------------------------------------------

namespace {

torch::Tensor symlog_inv(const torch::Tensor& x) {
  return torch::sign(x) * torch::expm1(torch::abs(x));
}

class UNetWorldModel final : public WorldModel {
 public:
  explicit UNetWorldModel(UNet model) : model_(std::move(model)) {
    const auto& c = model_->config();
    info_.family = "unet";
    info_.height = c.height;
    info_.width = c.width;
    info_.action_size = c.action_size;
    info_.context_frames = c.context_frames;
    info_.latent_step = false;
    info_.config_json = c.to_json_string();
    for (const auto& p : model_->parameters()) info_.parameters += p.numel();
    anchored_ = c.output == "anchored";
  }
  const ModelInfo& info() const override { return info_; }
  torch::nn::Module& module() override { return *model_; }

  SlotState initial_state(int64_t batch, torch::Device device) override {
    const auto& c = model_->config();
    auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device);
    return with_carry({torch::zeros({batch, c.context_frames, 3, c.height, c.width}, f32),
                       torch::zeros({batch}, f32), torch::full({batch}, 20.0f, f32)});
  }

  SlotState encode_context(const torch::Tensor& frames, const torch::Tensor& /*actions*/,
                           const StepContext& /*ctx*/) override {
    // Keep the last C frames; pad a shorter context by repeating its oldest frame (as training
    // does at an episode start). The U-Net reads frames only: context actions are not needed.
    const int64_t c = model_->config().context_frames, have = frames.size(1);
    auto f = to_unit(frames);  // [B, C', 3, H, W]
    if (have >= c) {
      f = f.narrow(1, have - c, c);
    } else {
      auto pad = f.narrow(1, 0, 1).expand({-1, c - have, -1, -1, -1});
      f = torch::cat({pad, f}, 1);
    }
    const auto b = frames.size(0);
    auto opts = f.options();
    return with_carry({f.contiguous(), torch::zeros({b}, opts), torch::full({b}, 20.0f, opts)});
  }

  SlotState step(const SlotState& state, const torch::Tensor& actions,
                 const StepContext& /*ctx*/) override {
    UNetImpl::Carry carry;
    if (anchored_) carry = {state[3], state[4], state[5]};
    auto out = model_->forward(state[0], actions, carry);
    auto next = out.next.to(torch::kFloat).clamp(0.0f, 1.0f).unsqueeze(1);
    auto window = torch::cat({state[0].narrow(1, 1, state[0].size(1) - 1), next}, 1);
    SlotState s{window, out.reward.to(torch::kFloat), out.cont.to(torch::kFloat)};
    if (anchored_) s.insert(s.end(), {out.carry.anchor, out.carry.flow, out.carry.residual});
    return s;
  }

  SlotState observe(const SlotState& state, const torch::Tensor& frames,
                    const StepContext& /*ctx*/) override {
    auto window = state[0].clone();
    window.select(1, window.size(1) - 1).copy_(to_unit(frames));
    return with_carry({window, state[1], state[2]});
  }

  torch::Tensor decode(const SlotState& state) override {
    return state[0].select(1, state[0].size(1) - 1);
  }
  torch::Tensor reward(const SlotState& state) override { return symlog_inv(state[1]); }
  torch::Tensor cont(const SlotState& state) override { return torch::sigmoid(state[2]); }

 private:
  static torch::Tensor to_unit(const torch::Tensor& x) {
    return x.scalar_type() == torch::kByte ? x.to(torch::kFloat) / 255.0f : x.to(torch::kFloat);
  }
  // Output "anchored": the window's last frame was observed, so it becomes the anchor and the
  // accumulated flow and residual start at zero (the next step equals "warp"'s).
  SlotState with_carry(SlotState s) const {
    if (!anchored_) return s;
    const auto last = s[0].select(1, s[0].size(1) - 1);
    const auto b = last.size(0), h = last.size(2), w = last.size(3);
    s.push_back(last.contiguous());
    s.push_back(torch::zeros({b, 2, h, w}, last.options()));
    s.push_back(torch::zeros_like(last));
    return s;
  }
  UNet model_;
  ModelInfo info_;
  bool anchored_ = false;
};

}  // namespace

std::shared_ptr<WorldModel> make_unet_world_model(UNet model) {
  return std::make_shared<UNetWorldModel>(std::move(model));
}

}  // namespace parallax::worldmodel
