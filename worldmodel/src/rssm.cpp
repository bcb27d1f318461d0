// RSSM world model: conv encoder, layer-normalised GRU, categorical latents with unimix and
// straight-through gradients, conv-transpose decoder, symlog reward head and continue head.
#include "parallax/worldmodel/rssm.hpp"

#include <cassert>

namespace parallax::worldmodel {

namespace nn = torch::nn;

torch::Tensor symlog(const torch::Tensor& x) {
  return torch::sign(x) * torch::log1p(x.abs());
}
torch::Tensor symexp(const torch::Tensor& x) {
  return torch::sign(x) * torch::expm1(x.abs());
}

State States::at(int64_t t) const {
  return {deter.select(1, t), stoch.select(1, t)};
}

State States::last() const {
  return at(deter.size(1) - 1);
}

torch::Tensor States::features() const {
  return torch::cat({deter, stoch}, -1);
}

namespace {

// Linear (no bias) + LayerNorm + SiLU: the MLP block of DreamerV3.
void add_block(nn::Sequential& seq, int64_t in, int64_t out) {
  seq->push_back(nn::Linear(nn::LinearOptions(in, out).bias(false)));
  seq->push_back(nn::LayerNorm(nn::LayerNormOptions({out})));
  seq->push_back(nn::SiLU());
}

// Channels of conv stage i: depth * 2^i, capped at 8 * depth.
int64_t stage_channels(const ModelConfig& c, int i) {
  return int64_t{c.cnn_depth} * std::min(1 << i, 8);
}

// Log-probabilities of a categorical with a uniform mixture: [.., K] logits -> [.., K].
torch::Tensor unimix_log_probs(const torch::Tensor& logits, float unimix) {
  auto probs = torch::softmax(logits.to(torch::kFloat), -1);
  if (unimix > 0.0f) probs = (1.0f - unimix) * probs + unimix / static_cast<float>(logits.size(-1));
  return torch::log(probs);
}

}  // namespace

RSSMImpl::RSSMImpl(const ModelConfig& config) : config_(config) {
  const auto& c = config_;
  assert(c.cnn_stages >= 2 && "RSSM: ModelConfig not built by make_preset/from_json_string");
  const int64_t stoch = c.stoch_size();
  const int64_t feat = c.feature_size();

  // Encoder: [N, 3, H, W] -> [N, E].
  encoder_ = nn::Sequential();
  int64_t in_ch = c.channels;
  for (int i = 0; i < c.cnn_stages; ++i) {
    const int64_t out_ch = stage_channels(c, i);
    encoder_->push_back(nn::Conv2d(nn::Conv2dOptions(in_ch, out_ch, 4).stride(2).padding(1)));
    encoder_->push_back(nn::SiLU());
    in_ch = out_ch;
  }
  encoder_->push_back(nn::Flatten());
  register_module("encoder", encoder_);

  // Sequence model.
  img_in_ = nn::Sequential();
  add_block(img_in_, stoch + c.action_size, c.hidden);
  register_module("img_in", img_in_);
  gru_linear_ = register_module(
      "gru_linear", nn::Linear(nn::LinearOptions(c.hidden + c.deter, 3 * c.deter).bias(false)));
  gru_norm_ = register_module("gru_norm", nn::LayerNorm(nn::LayerNormOptions({3 * c.deter})));

  prior_ = nn::Sequential();
  add_block(prior_, c.deter, c.hidden);
  prior_->push_back(nn::Linear(c.hidden, stoch));
  register_module("prior", prior_);

  posterior_ = nn::Sequential();
  add_block(posterior_, c.deter + c.embed_size(), c.hidden);
  posterior_->push_back(nn::Linear(c.hidden, stoch));
  register_module("posterior", posterior_);

  // Decoder: features -> [N, C, h, w] -> transpose convs -> [N, 3, H, W].
  decoder_in_ = register_module("decoder_in", nn::Linear(feat, c.embed_size()));
  decoder_ = nn::Sequential();
  decoder_->push_back(nn::SiLU());
  decoder_->push_back(nn::Unflatten(nn::UnflattenOptions(
      1, {c.final_channels(), int64_t{c.final_height()}, int64_t{c.final_width()}})));
  for (int i = c.cnn_stages - 1; i >= 0; --i) {
    const int64_t out_ch = i > 0 ? stage_channels(c, i - 1) : c.channels;
    decoder_->push_back(nn::ConvTranspose2d(
        nn::ConvTranspose2dOptions(stage_channels(c, i), out_ch, 4).stride(2).padding(1)));
    if (i > 0) decoder_->push_back(nn::SiLU());
  }
  register_module("decoder", decoder_);

  // Heads. The reward output starts at zero (DreamerV3): no spurious early reward.
  reward_head_ = nn::Sequential();
  add_block(reward_head_, feat, c.hidden);
  nn::Linear reward_out(c.hidden, 1);
  {
    torch::NoGradGuard no_grad;
    reward_out->weight.zero_();
    reward_out->bias.zero_();
  }
  reward_head_->push_back(reward_out);
  register_module("reward_head", reward_head_);

  cont_head_ = nn::Sequential();
  add_block(cont_head_, feat, c.hidden);
  cont_head_->push_back(nn::Linear(c.hidden, 1));
  register_module("cont_head", cont_head_);
}

State RSSMImpl::initial(int64_t batch, torch::Device device) const {
  auto opts = torch::TensorOptions().dtype(torch::kFloat).device(device);
  return {torch::zeros({batch, config_.deter}, opts),
          torch::zeros({batch, config_.stoch_size()}, opts)};
}

torch::Tensor RSSMImpl::embed(const torch::Tensor& frames) {
  assert(frames.dim() == 5 && frames.size(2) == config_.channels &&
         frames.size(3) == config_.height && frames.size(4) == config_.width &&
         "RSSM::embed: frames must be [B, T, 3, H, W] with the model's frame size");
  const int64_t b = frames.size(0), t = frames.size(1);
  auto x = frames.flatten(0, 1);  // [B*T, 3, H, W]
  x = x.scalar_type() == torch::kByte ? x.to(torch::kFloat) / 255.0f : x.to(torch::kFloat);
  return encoder_->forward(x - 0.5f).view({b, t, -1});
}

torch::Tensor RSSMImpl::sample_stoch(const torch::Tensor& logits, Sampling sampling,
                                     std::optional<at::Generator>& generator) const {
  // logits: [B, G, K] log-probabilities (after unimix).
  torch::Tensor index;
  if (sampling == Sampling::kMode) {
    index = logits.argmax(-1);
  } else {
    // Gumbel-max: argmax(log p + g), g = -log(-log(u)).
    auto u = torch::rand(logits.sizes(), generator, logits.options().dtype(torch::kFloat));
    auto gumbel = -torch::log(-torch::log(u.clamp(1e-10, 1.0 - 1e-7)));
    index = (logits + gumbel).argmax(-1);
  }
  // One-hot by scatter: no host sync (safe inside a CUDA graph capture).
  auto one_hot = torch::zeros_like(logits).scatter_(-1, index.unsqueeze(-1), 1.0);
  auto probs = logits.exp();
  // Straight-through: the value is the one-hot sample, the gradient that of the probabilities.
  return (one_hot + probs - probs.detach()).flatten(1);
}

State RSSMImpl::img_step(const State& prev, const torch::Tensor& actions, Sampling sampling,
                         std::optional<at::Generator> generator, torch::Tensor* prior_logits) {
  assert(actions.dim() == 2 && actions.size(1) == config_.action_size &&
         "RSSM::img_step: actions must be [B, A] with the model's action size");
  auto x = img_in_->forward(torch::cat({prev.stoch, actions.to(prev.stoch.dtype())}, -1));
  auto parts = gru_norm_(gru_linear_(torch::cat({x, prev.deter.to(x.dtype())}, -1)))
                   .to(torch::kFloat)
                   .chunk(3, -1);
  auto reset = torch::sigmoid(parts[0]);
  auto cand = torch::tanh(reset * parts[1]);
  auto update = torch::sigmoid(parts[2] - 1.0f);
  auto deter = update * cand + (1.0f - update) * prev.deter.to(torch::kFloat);  // [B, D]

  auto logits = unimix_log_probs(
      prior_->forward(deter).view({-1, config_.stoch_groups, config_.stoch_classes}),
      config_.unimix);
  if (prior_logits) *prior_logits = logits;
  return {deter, sample_stoch(logits, sampling, generator)};
}

State RSSMImpl::obs_step(const State& prior, const torch::Tensor& embed, Sampling sampling,
                         std::optional<at::Generator> generator, torch::Tensor* post_logits) {
  auto logits = unimix_log_probs(
      posterior_->forward(torch::cat({prior.deter, embed.to(prior.deter.dtype())}, -1))
          .view({-1, config_.stoch_groups, config_.stoch_classes}),
      config_.unimix);
  if (post_logits) *post_logits = logits;
  return {prior.deter, sample_stoch(logits, sampling, generator)};
}

States RSSMImpl::observe(const torch::Tensor& frames, const torch::Tensor& actions,
                         Sampling sampling, const std::optional<State>& start,
                         std::optional<at::Generator> generator) {
  assert(actions.dim() == 3 && frames.dim() == 5 && actions.size(0) == frames.size(0) &&
         actions.size(1) == frames.size(1) &&
         "RSSM::observe: frames [B, T, 3, H, W] and actions [B, T, A] must agree on B and T");
  const int64_t b = frames.size(0), t_len = frames.size(1);
  auto embeds = embed(frames);  // [B, T, E]
  State state = start ? *start : initial(b, frames.device());
  std::vector<torch::Tensor> deters, stochs, priors, posts;
  for (int64_t t = 0; t < t_len; ++t) {
    torch::Tensor prior_logits, post_logits;
    State prior = img_step(state, actions.select(1, t), sampling, generator, &prior_logits);
    state = obs_step(prior, embeds.select(1, t), sampling, generator, &post_logits);
    deters.push_back(state.deter);
    stochs.push_back(state.stoch);
    priors.push_back(prior_logits);
    posts.push_back(post_logits);
  }
  return {torch::stack(deters, 1), torch::stack(stochs, 1), torch::stack(priors, 1),
          torch::stack(posts, 1)};
}

States RSSMImpl::imagine(const State& start, const torch::Tensor& actions, Sampling sampling,
                         std::optional<at::Generator> generator) {
  assert(actions.dim() == 3 && actions.size(0) == start.deter.size(0) &&
         "RSSM::imagine: actions must be [B, T, A] with the start state's batch B");
  State state = start;
  std::vector<torch::Tensor> deters, stochs, priors;
  for (int64_t t = 0; t < actions.size(1); ++t) {
    torch::Tensor prior_logits;
    state = img_step(state, actions.select(1, t), sampling, generator, &prior_logits);
    deters.push_back(state.deter);
    stochs.push_back(state.stoch);
    priors.push_back(prior_logits);
  }
  return {torch::stack(deters, 1), torch::stack(stochs, 1), torch::stack(priors, 1), {}};
}

torch::Tensor RSSMImpl::decode_features(const torch::Tensor& features) {
  return decoder_->forward(decoder_in_(features));
}

torch::Tensor RSSMImpl::reward_features(const torch::Tensor& features) {
  return reward_head_->forward(features).squeeze(-1);
}

torch::Tensor RSSMImpl::cont_features(const torch::Tensor& features) {
  return cont_head_->forward(features).squeeze(-1);
}

torch::Tensor RSSMImpl::decode(const States& states) {
  auto feat = states.features();  // [B, T, F]
  auto out = decode_features(feat.flatten(0, 1)).to(torch::kFloat);
  return (out + 0.5f)
      .clamp(0.0f, 1.0f)
      .view({feat.size(0), feat.size(1), config_.channels, config_.height, config_.width});
}

torch::Tensor RSSMImpl::reward(const States& states) {
  return symexp(reward_features(states.features()).to(torch::kFloat));
}

torch::Tensor RSSMImpl::cont(const States& states) {
  return torch::sigmoid(cont_features(states.features()).to(torch::kFloat));
}

LossTerms RSSMImpl::loss(const Batch& batch) {
  const auto& c = config_;
  States states = observe(batch.frames, batch.actions, Sampling::kSample);
  auto feat = states.features().flatten(0, 1);  // [B*T, F]

  // Reconstruction: squared error summed over pixels, in the x - 0.5 space.
  auto target = batch.frames.flatten(0, 1).to(torch::kFloat) / 255.0f - 0.5f;  // [BT, 3, H, W]
  auto recon_pred = decode_features(feat).to(torch::kFloat);
  auto recon = (recon_pred - target).square().sum({1, 2, 3}).mean();

  auto reward_pred = reward_features(feat).to(torch::kFloat);  // [BT]
  auto reward = (reward_pred - symlog(batch.rewards.flatten().to(torch::kFloat))).square().mean();

  auto cont_logit = cont_features(feat).to(torch::kFloat);
  auto cont =
      torch::binary_cross_entropy_with_logits(cont_logit, batch.conts.flatten().to(torch::kFloat));

  // KL balancing with free bits (DreamerV3): KL summed over groups, clipped per step.
  auto kl_of = [](const torch::Tensor& lp, const torch::Tensor& lq) {
    return (lp.exp() * (lp - lq)).sum({-2, -1});  // [B, T]
  };
  const auto& post = states.post_logits;
  const auto& prior = states.prior_logits;
  auto dyn = kl_of(post.detach(), prior);
  auto rep = kl_of(post, prior.detach());
  auto kl_dyn = dyn.clamp_min(c.free_nats).mean();
  auto kl_rep = rep.clamp_min(c.free_nats).mean();

  LossTerms out;
  out.recon = recon;
  out.reward = reward;
  out.cont = cont;
  out.kl_dyn = kl_dyn;
  out.kl_rep = kl_rep;
  out.kl = rep.detach().mean();
  out.total = recon + reward + cont + c.kl_dyn_scale * kl_dyn + c.kl_rep_scale * kl_rep;
  return out;
}

}  // namespace parallax::worldmodel
