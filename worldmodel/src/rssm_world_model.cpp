// The RSSM behind the world-model interface: state {deter [B, D], stoch [B, G*K]}.
#include <memory>

#include "parallax/worldmodel/rssm.hpp"

namespace parallax::worldmodel {
namespace {

class RssmWorldModel final : public WorldModel {
 public:
  explicit RssmWorldModel(RSSM model) : model_(std::move(model)) {
    const auto& c = model_->config();
    info_.family = "rssm";
    info_.height = c.height;
    info_.width = c.width;
    info_.action_size = c.action_size;
    info_.context_frames = 1;  // the posterior filters any number of frames; one is enough
    info_.latent_step = true;
    info_.config_json = c.to_json_string();
    for (const auto& p : model_->parameters()) info_.parameters += p.numel();
  }

  const ModelInfo& info() const override { return info_; }
  torch::nn::Module& module() override { return *model_; }

  SlotState initial_state(int64_t batch, torch::Device device) override {
    const auto& c = model_->config();
    auto f32 = torch::TensorOptions().dtype(torch::kFloat).device(device);
    return {torch::zeros({batch, c.deter}, f32), torch::zeros({batch, c.stoch_size()}, f32)};
  }

  SlotState encode_context(const torch::Tensor& frames, const torch::Tensor& actions,
                           const StepContext& ctx) override {
    States s = model_->observe(frames, actions.to(torch::kFloat), ctx.sampling, std::nullopt,
                               generator(ctx));
    State last = s.last();
    return {last.deter, last.stoch};
  }

  SlotState step(const SlotState& state, const torch::Tensor& actions,
                 const StepContext& ctx) override {
    State next = model_->img_step({state[0], state[1]}, actions, ctx.sampling, generator(ctx));
    return {next.deter, next.stoch};
  }

  SlotState observe(const SlotState& state, const torch::Tensor& frames,
                    const StepContext& ctx) override {
    auto embed = model_->embed(frames.unsqueeze(1)).squeeze(1);  // [B, E]
    State post = model_->obs_step({state[0], state[1]}, embed, ctx.sampling, generator(ctx));
    return {post.deter, post.stoch};
  }

  torch::Tensor decode(const SlotState& state) override {
    auto x = model_->decode_features(features(state)).to(torch::kFloat);
    return (x + 0.5f).clamp(0.0f, 1.0f);
  }
  torch::Tensor reward(const SlotState& state) override {
    return symexp(model_->reward_features(features(state)).to(torch::kFloat));
  }
  torch::Tensor cont(const SlotState& state) override {
    return torch::sigmoid(model_->cont_features(features(state)).to(torch::kFloat));
  }

 private:
  static torch::Tensor features(const SlotState& s) { return torch::cat({s[0], s[1]}, -1); }
  static std::optional<at::Generator> generator(const StepContext& ctx) {
    return ctx.generator ? *ctx.generator : std::optional<at::Generator>{};
  }

  RSSM model_;
  ModelInfo info_;
};

}  // namespace

std::shared_ptr<WorldModel> make_rssm_world_model(RSSM model) {
  return std::make_shared<RssmWorldModel>(std::move(model));
}

}  // namespace parallax::worldmodel
