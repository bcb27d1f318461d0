// The `latent` family: network (the C++ twin of worldmodel/python/parallax_latent.py), config
// and its world-model interface.
#include "parallax/worldmodel/latent.hpp"

#include <nlohmann/json.hpp>

#include <stdexcept>

namespace parallax::worldmodel {

namespace F = torch::nn::functional;

namespace {

torch::nn::Conv2d conv3(int cin, int cout, int stride = 1) {
  return torch::nn::Conv2d(torch::nn::Conv2dOptions(cin, cout, 3).stride(stride).padding(1));
}
torch::Tensor layer_norm(const torch::Tensor& x) {  // no affine, eps as PyTorch's default
  return F::layer_norm(x, F::LayerNormFuncOptions({x.size(-1)}).eps(1e-5));
}
torch::Tensor up2(const torch::Tensor& x) {
  return F::interpolate(x, F::InterpolateFuncOptions()
                               .scale_factor(std::vector<double>{2.0, 2.0})
                               .mode(torch::kNearest));
}
torch::Tensor coord_planes(int h, int w) {  // [1, 2, H, W]: x then y in [-1, 1]
  auto ys = torch::linspace(-1.0, 1.0, h).view({h, 1}).expand({h, w});
  auto xs = torch::linspace(-1.0, 1.0, w).view({1, w}).expand({h, w});
  return torch::stack({xs, ys}).unsqueeze(0).contiguous();
}

}  // namespace

// frame ++ coordinates -> 4 x (conv3x3/2 -> SiLU) -> Linear -> SiLU -> Linear -> LayerNorm
struct LatentEncoderImpl : torch::nn::Module {
  explicit LatentEncoderImpl(const LatentConfig& c) {
    convs = register_module("convs", torch::nn::ModuleList());
    int cin = 5;
    for (int co : c.enc_channels) {
      convs->push_back(conv3(cin, co, 2));
      cin = co;
    }
    fc1 =
        register_module("fc1", torch::nn::Linear(cin * (c.height / 16) * (c.width / 16), c.hidden));
    fc2 = register_module("fc2", torch::nn::Linear(c.hidden, c.latent));
  }
  torch::Tensor forward(const torch::Tensor& frame, const torch::Tensor& coords) {
    const int64_t b = frame.size(0);
    auto x = torch::cat({frame - 0.5f, coords.to(frame.options()).expand({b, -1, -1, -1})}, 1);
    for (const auto& m : *convs) x = torch::silu(m->as<torch::nn::Conv2dImpl>()->forward(x));
    return layer_norm(fc2(torch::silu(fc1(x.flatten(1)))));
  }
  torch::nn::ModuleList convs{nullptr};
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};

// z' = LayerNorm(z + MLP([z, z - z_prev, a]))
struct LatentDynamicsImpl : torch::nn::Module {
  explicit LatentDynamicsImpl(const LatentConfig& c)
      : fc1(register_module("fc1", torch::nn::Linear(2 * c.latent + c.action_size, c.hidden))),
        ln1(register_module("ln1", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})))),
        fc2(register_module("fc2", torch::nn::Linear(c.hidden, c.hidden))),
        ln2(register_module("ln2", torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden})))),
        fc3(register_module("fc3", torch::nn::Linear(c.hidden, c.latent))) {}
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& z_prev,
                        const torch::Tensor& a) {
    auto x = torch::cat({z, z - z_prev, a.to(z.dtype())}, 1);
    x = torch::silu(ln1(fc1(x)));
    x = torch::silu(ln2(fc2(x)));
    return layer_norm(z + fc3(x));
  }
  torch::nn::Linear fc1;
  torch::nn::LayerNorm ln1;
  torch::nn::Linear fc2;
  torch::nn::LayerNorm ln2;
  torch::nn::Linear fc3;
};

struct LatentHeadsImpl : torch::nn::Module {
  explicit LatentHeadsImpl(const LatentConfig& c)
      : fc1(register_module("fc1", torch::nn::Linear(c.latent, c.hidden))),
        fc2(register_module("fc2", torch::nn::Linear(c.hidden, 2))) {}
  torch::Tensor forward(const torch::Tensor& z) { return fc2(torch::silu(fc1(z))); }
  torch::nn::Linear fc1, fc2;
};

// The value head: symlog V(z) (a separate module so that checkpoints without it load unchanged).
struct LatentValueImpl : torch::nn::Module {
  explicit LatentValueImpl(const LatentConfig& c)
      : fc1(register_module("fc1", torch::nn::Linear(c.latent, c.hidden))),
        fc2(register_module("fc2", torch::nn::Linear(c.hidden, 1))) {}
  torch::Tensor forward(const torch::Tensor& z) { return fc2(torch::silu(fc1(z))).select(1, 0); }
  torch::nn::Linear fc1, fc2;
};

// The pose head: x, y (dm) per pose body (optional, as the value head).
struct LatentPosesImpl : torch::nn::Module {
  explicit LatentPosesImpl(const LatentConfig& c)
      : fc1(register_module("fc1", torch::nn::Linear(c.latent, c.hidden))),
        fc2(register_module(
            "fc2", torch::nn::Linear(c.hidden, 2 * static_cast<int64_t>(c.pose_bodies.size())))) {}
  torch::Tensor forward(const torch::Tensor& z) { return fc2(torch::silu(fc1(z))); }
  torch::nn::Linear fc1, fc2;
};

// Frame features of the observed frame at H/2, H/4, H/8; the latent mapped to H/8; up to H with
// the features concatenated at each level; a zero-initialised residual over the observed frame.
struct LatentDecoderImpl : torch::nn::Module {
  explicit LatentDecoderImpl(const LatentConfig& c)
      : h8(c.height / 8), w8(c.width / 8), c0(c.dec_channels[0]) {
    const auto& d = c.dec_channels;
    fe1 = register_module("fe1", conv3(3, d[2], 2));
    fe2 = register_module("fe2", conv3(d[2], d[1], 2));
    fe3 = register_module("fe3", conv3(d[1], d[0], 2));
    zmap = register_module("zmap", torch::nn::Linear(c.latent, d[0] * h8 * w8));
    conv0 = register_module("conv0", conv3(2 * d[0], d[0]));
    conv1 = register_module("conv1", conv3(d[0] + d[1], d[1]));
    conv2 = register_module("conv2", conv3(d[1] + d[2], d[2]));
    conv3_ = register_module("conv3", conv3(d[2] + 3, d[3]));
    out = register_module("out", conv3(d[3], 3));
    torch::NoGradGuard no_grad;  // as in Python: the untrained decoder draws the observed frame
    out->weight.zero_();
    out->bias.zero_();
  }
  torch::Tensor forward(const torch::Tensor& z, const torch::Tensor& obs) {
    const auto o = obs - 0.5f;
    const auto f1 = torch::silu(fe1(o));
    const auto f2 = torch::silu(fe2(f1));
    const auto f3 = torch::silu(fe3(f2));
    auto x = torch::silu(zmap(z)).view({-1, c0, h8, w8});
    x = up2(torch::silu(conv0(torch::cat({x, f3}, 1))));
    x = up2(torch::silu(conv1(torch::cat({x, f2}, 1))));
    x = up2(torch::silu(conv2(torch::cat({x, f1}, 1))));
    x = torch::silu(conv3_(torch::cat({x, o}, 1)));
    return obs + out(x);
  }
  int64_t h8, w8, c0;
  torch::nn::Conv2d fe1{nullptr}, fe2{nullptr}, fe3{nullptr};
  torch::nn::Linear zmap{nullptr};
  torch::nn::Conv2d conv0{nullptr}, conv1{nullptr}, conv2{nullptr}, conv3_{nullptr}, out{nullptr};
};

// ---- config ----------------------------------------------------------------------------------

LatentConfig LatentConfig::from_json_string(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(source + ": config is not JSON (" + std::string(e.what()) + ")");
  }
  if (!j.is_object()) throw std::runtime_error(source + ": config is not a JSON object");
  if (j.value("family", std::string()) != "latent")
    throw std::runtime_error(source + ": config field 'family' is not \"latent\"");
  LatentConfig c;
  auto get_int = [&](const char* key, const nlohmann::json& v, int lo, int hi) {
    if (!v.is_number_integer() || v.get<long long>() < lo || v.get<long long>() > hi)
      throw std::runtime_error(source + ": config field '" + key + "' holds " + v.dump() +
                               ", expected an integer in [" + std::to_string(lo) + ", " +
                               std::to_string(hi) + "]");
    return v.get<int>();
  };
  auto field = [&](const char* key) -> const nlohmann::json& {
    if (!j.contains(key))
      throw std::runtime_error(source + ": config field '" + key + "' is missing");
    return j[key];
  };
  c.height = get_int("height", field("height"), 16, 1024);
  c.width = get_int("width", field("width"), 16, 1024);
  if (c.height % 16 != 0 || c.width % 16 != 0)
    throw std::runtime_error(source + ": frames " + std::to_string(c.height) + "x" +
                             std::to_string(c.width) + " are not multiples of 16");
  c.action_size = get_int("action_size", field("action_size"), 1, 64);
  c.context_frames = get_int("context_frames", field("context_frames"), 1, 8);
  c.latent = get_int("latent", field("latent"), 2, 4096);
  c.hidden = get_int("hidden", field("hidden"), 2, 8192);
  for (const char* key : {"enc_channels", "dec_channels"}) {
    const auto& v = field(key);
    if (!v.is_array() || v.size() != 4)
      throw std::runtime_error(source + ": config field '" + std::string(key) + "' is " + v.dump() +
                               ", expected a list of 4 integers");
    auto& dst = std::string(key) == "enc_channels" ? c.enc_channels : c.dec_channels;
    for (std::size_t i = 0; i < 4; ++i) dst[i] = get_int(key, v[i], 1, 512);
  }
  if (j.contains("scene") && j["scene"].is_string()) c.scene = j["scene"].get<std::string>();
  if (j.contains("value_gamma")) {
    const auto& v = j["value_gamma"];
    if (!v.is_number() || !(v.get<double>() > 0.0 && v.get<double>() < 1.0))
      throw std::runtime_error(source + ": config field 'value_gamma' holds " + v.dump() +
                               ", expected a number in (0, 1)");
    c.value_gamma = v.get<double>();
  }
  if (j.contains("pose_bodies")) {
    const auto& v = j["pose_bodies"];
    bool ok = v.is_array() && !v.empty() && v.size() <= 16;
    for (std::size_t i = 0; ok && i < v.size(); ++i)
      ok = v[i].is_string() && !v[i].get<std::string>().empty();
    if (!ok)
      throw std::runtime_error(source + ": config field 'pose_bodies' holds " +
                               v.dump(-1, ' ', true) + ", expected a list of 1 to 16 body names");
    for (const auto& n : v) c.pose_bodies.push_back(n.get<std::string>());
  }
  return c;
}

std::string LatentConfig::to_json_string() const {
  nlohmann::json j = {{"family", "latent"},
                      {"height", height},
                      {"width", width},
                      {"action_size", action_size},
                      {"context_frames", context_frames},
                      {"latent", latent},
                      {"hidden", hidden},
                      {"enc_channels", enc_channels},
                      {"dec_channels", dec_channels},
                      {"scene", scene}};
  if (value_gamma > 0.0) j["value_gamma"] = value_gamma;
  if (!pose_bodies.empty()) j["pose_bodies"] = pose_bodies;
  return j.dump();
}

// ---- network ---------------------------------------------------------------------------------

LatentNetImpl::LatentNetImpl(const LatentConfig& config) : config_(config) {
  encoder_ = register_module("encoder", std::make_shared<LatentEncoderImpl>(config_));
  dynamics_ = register_module("dynamics", std::make_shared<LatentDynamicsImpl>(config_));
  heads_ = register_module("heads", std::make_shared<LatentHeadsImpl>(config_));
  decoder_ = register_module("decoder", std::make_shared<LatentDecoderImpl>(config_));
  if (config_.value_gamma > 0.0)
    value_ = register_module("value", std::make_shared<LatentValueImpl>(config_));
  if (!config_.pose_bodies.empty())
    poses_ = register_module("poses", std::make_shared<LatentPosesImpl>(config_));
  coords_ = coord_planes(config_.height, config_.width);
}

torch::Tensor LatentNetImpl::encode(const torch::Tensor& frame) {
  if (coords_.device() != frame.device()) coords_ = coords_.to(frame.device());
  return encoder_->forward(frame, coords_);
}
torch::Tensor LatentNetImpl::dynamics(const torch::Tensor& z, const torch::Tensor& z_prev,
                                      const torch::Tensor& action) {
  return dynamics_->forward(z, z_prev, action);
}
torch::Tensor LatentNetImpl::heads(const torch::Tensor& z) {
  return heads_->forward(z);
}
torch::Tensor LatentNetImpl::value(const torch::Tensor& z) {
  if (!value_) throw std::logic_error("latent model: the checkpoint has no value head");
  return value_->forward(z);
}
torch::Tensor LatentNetImpl::poses(const torch::Tensor& z) {
  if (!poses_) throw std::logic_error("latent model: the checkpoint has no pose head");
  return poses_->forward(z);
}
torch::Tensor LatentNetImpl::decode(const torch::Tensor& z, const torch::Tensor& obs) {
  return decoder_->forward(z, obs);
}

// ---- world-model interface -------------------------------------------------------------------

namespace {

class LatentWorldModel final : public WorldModel {
 public:
  explicit LatentWorldModel(LatentNet net) : net_(std::move(net)) {
    const auto& c = net_->config();
    info_.family = "latent";
    info_.height = c.height;
    info_.width = c.width;
    info_.action_size = c.action_size;
    info_.context_frames = c.context_frames;
    info_.latent_step = true;
    info_.config_json = c.to_json_string();
    info_.value_gamma = c.value_gamma;
    info_.pose_bodies = c.pose_bodies;
    for (const auto& p : net_->parameters()) info_.parameters += p.numel();
  }
  const ModelInfo& info() const override { return info_; }
  torch::nn::Module& module() override { return *net_; }

  SlotState initial_state(int64_t batch, torch::Device device) override {
    const auto& c = net_->config();
    auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device);
    return {torch::zeros({batch, c.latent}, f32), torch::zeros({batch, c.latent}, f32),
            torch::zeros({batch, 3, c.height, c.width}, f32.dtype(torch::kByte)),
            torch::zeros({batch, 2}, f32)};
  }

  // The last frame gives z_t, the one before it z_{t-1} (a single frame: both; the model reads
  // velocity as their difference, so a lone frame means "at rest"). Context actions are unused.
  SlotState encode_context(const torch::Tensor& frames, const torch::Tensor& /*actions*/,
                           const StepContext& /*ctx*/) override {
    const int64_t have = frames.size(1);
    const auto last = frames.select(1, have - 1);
    auto z = encode_u8(last);
    auto z_prev = have >= 2 ? encode_u8(frames.select(1, have - 2)) : z;
    auto heads = net_->heads(z).to(torch::kFloat);
    return {z, z_prev, to_u8(last), heads};
  }

  // Only the latents and heads change; the observed frame is passed through as the same tensor
  // (DreamBatch then does not rewrite it).
  SlotState step(const SlotState& state, const torch::Tensor& actions,
                 const StepContext& /*ctx*/) override {
    auto z = net_->dynamics(state[0], state[1], actions).to(torch::kFloat);
    return {z, state[0], state[2], net_->heads(z).to(torch::kFloat)};
  }

  // Re-observing the true frame replaces the belief about now; the belief about t - 1 stays.
  SlotState observe(const SlotState& state, const torch::Tensor& frames,
                    const StepContext& /*ctx*/) override {
    auto z = encode_u8(frames);
    return {z, state[1], to_u8(frames), state[3]};
  }

  torch::Tensor decode(const SlotState& state) override {
    return net_->decode(state[0], state[2].to(torch::kFloat) / 255.0f).to(torch::kFloat);
  }
  torch::Tensor reward(const SlotState& state) override {
    const auto x = state[3].select(1, 0);
    return torch::sign(x) * torch::expm1(torch::abs(x));  // symexp
  }
  torch::Tensor cont(const SlotState& state) override {
    return torch::sigmoid(state[3].select(1, 1));
  }
  torch::Tensor value(const SlotState& state) override {
    const auto x = net_->value(state[0]).to(torch::kFloat);
    return torch::sign(x) * torch::expm1(torch::abs(x));  // symexp
  }
  torch::Tensor poses(const SlotState& state) override {
    const auto p = net_->poses(state[0]).to(torch::kFloat);  // [B, 2P] in dm
    return p.view({p.size(0), -1, 2}) / 10.0f;
  }

 private:
  torch::Tensor encode_u8(const torch::Tensor& frames) {
    const auto f = frames.scalar_type() == torch::kByte ? frames.to(torch::kFloat) / 255.0f
                                                        : frames.to(torch::kFloat);
    return net_->encode(f).to(torch::kFloat);
  }
  static torch::Tensor to_u8(const torch::Tensor& frames) {
    if (frames.scalar_type() == torch::kByte) return frames.contiguous();
    return (frames.to(torch::kFloat).clamp(0.0f, 1.0f) * 255.0f).round().to(torch::kByte);
  }
  LatentNet net_;
  ModelInfo info_;
};

}  // namespace

std::shared_ptr<WorldModel> make_latent_world_model(LatentNet net) {
  return std::make_shared<LatentWorldModel>(std::move(net));
}

}  // namespace parallax::worldmodel
