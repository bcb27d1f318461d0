// RSSM world model in the style of DreamerV3 (LibTorch C++ frontend).
//
// Time convention: actions[:, t] is the action taken BEFORE frame t (zero at an episode start):
//   h_t = GRU(h_{t-1}, z_{t-1}, a_t);  prior z_t ~ p(z | h_t);  posterior z_t ~ q(z | h_t, e(o_t))
// The reward and continue heads at step t predict the reward received on arriving at frame t
// and whether the episode goes on after it, from the features [h_t, z_t].
// Reference: docs/worldmodel.md.
#pragma once

#include <torch/torch.h>

#include <optional>

#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::worldmodel {

// Latent state of a batch at one time step.
struct State {
  torch::Tensor deter;  // [B, D] f32, GRU state h
  torch::Tensor stoch;  // [B, G*K] f32, one-hot sample z (straight-through gradient)
};

// Latent states of a batch over time.
struct States {
  torch::Tensor deter;         // [B, T, D] f32
  torch::Tensor stoch;         // [B, T, G*K] f32
  torch::Tensor prior_logits;  // [B, T, G, K] f32 log-probabilities (after unimix)
  torch::Tensor post_logits;   // [B, T, G, K] f32 log-probabilities; undefined after imagine()

  State at(int64_t t) const;       // one step, [B, ...]
  State last() const;              // the last step
  torch::Tensor features() const;  // [B, T, D + G*K] f32
};

// A training batch of sequences (all on one device).
struct Batch {
  torch::Tensor frames;   // [B, T, 3, H, W] u8
  torch::Tensor actions;  // [B, T, A] f32, actions[:, t] taken before frame t
  torch::Tensor rewards;  // [B, T] f32, reward received on arriving at frame t
  torch::Tensor conts;    // [B, T] f32, 1 = the episode goes on after frame t, 0 = terminated
};

// Loss terms, each a scalar f32 tensor (mean over batch and time).
struct LossTerms {
  torch::Tensor total;   // recon + reward + cont + kl_dyn_scale*dyn + kl_rep_scale*rep
  torch::Tensor recon;   // squared error summed over pixels, frames in [0,1]
  torch::Tensor reward;  // squared error on symlog(reward)
  torch::Tensor cont;    // binary cross-entropy of the continue head
  torch::Tensor kl_dyn;  // max(free_nats, KL(sg(post) || prior)), unscaled
  torch::Tensor kl_rep;  // max(free_nats, KL(post || sg(prior))), unscaled
  torch::Tensor kl;      // raw KL(post || prior) [nats per step], for logging
};

torch::Tensor symlog(const torch::Tensor& x);
torch::Tensor symexp(const torch::Tensor& x);

class RSSMImpl : public torch::nn::Module {
 public:
  explicit RSSMImpl(const ModelConfig& config);

  const ModelConfig& config() const { return config_; }

  // All-zero state for `batch` sequences on `device`.
  State initial(int64_t batch, torch::Device device) const;

  // Encodes frames [B, T, 3, H, W] (u8 in [0,255] or f32 in [0,1]) -> [B, T, E] f32.
  torch::Tensor embed(const torch::Tensor& frames);

  // Posterior states for frames [B, T, 3, H, W] and actions [B, T, A], starting from `start`
  // (the zero state when absent).
  States observe(const torch::Tensor& frames, const torch::Tensor& actions,
                 Sampling sampling = Sampling::kSample, const std::optional<State>& start = {},
                 std::optional<at::Generator> generator = {});

  // Prior states for actions [B, T, A] after `start` (open loop, no frames).
  States imagine(const State& start, const torch::Tensor& actions,
                 Sampling sampling = Sampling::kSample,
                 std::optional<at::Generator> generator = {});

  // One prior step: h_t = GRU(prev, a_t), z_t ~ p(h_t). actions [B, A]. prior_logits: [B, G, K].
  State img_step(const State& prev, const torch::Tensor& actions, Sampling sampling,
                 std::optional<at::Generator> generator = {},
                 torch::Tensor* prior_logits = nullptr);

  // Posterior of one step: z_t ~ q(h_t, embed_t) keeping deter h_t. embed [B, E].
  State obs_step(const State& prior, const torch::Tensor& embed, Sampling sampling,
                 std::optional<at::Generator> generator = {}, torch::Tensor* post_logits = nullptr);

  torch::Tensor decode(const States& states);  // [B, T, 3, H, W] f32 in [0,1]
  torch::Tensor reward(const States& states);  // [B, T] f32 (symexp of the symlog head)
  torch::Tensor cont(const States& states);    // [B, T] f32 probability the episode goes on

  // Heads on flat features [N, D + G*K]. decode_features: [N, 3, H, W] in the x - 0.5 space,
  // unclamped (bf16 under autocast).
  torch::Tensor decode_features(const torch::Tensor& features);
  torch::Tensor reward_features(const torch::Tensor& features);  // [N] f32 symlog space
  torch::Tensor cont_features(const torch::Tensor& features);    // [N] f32 logits

  // All loss terms on a batch (posterior samples drawn with the default generator).
  LossTerms loss(const Batch& batch);

 private:
  torch::Tensor sample_stoch(const torch::Tensor& logits, Sampling sampling,
                             std::optional<at::Generator>& generator) const;  // [B,G,K] -> [B,G*K]

  ModelConfig config_;
  torch::nn::Sequential encoder_{nullptr};
  torch::nn::Sequential img_in_{nullptr};  // [z, a] -> hidden
  torch::nn::Linear gru_linear_{nullptr};  // [x, h] -> 3 D
  torch::nn::LayerNorm gru_norm_{nullptr};
  torch::nn::Sequential prior_{nullptr};        // h -> G*K logits
  torch::nn::Sequential posterior_{nullptr};    // [h, e] -> G*K logits
  torch::nn::Linear decoder_in_{nullptr};       // features -> C*h*w
  torch::nn::Sequential decoder_{nullptr};      // conv transpose stages -> [3, H, W]
  torch::nn::Sequential reward_head_{nullptr};  // features -> 1 (symlog)
  torch::nn::Sequential cont_head_{nullptr};    // features -> 1 (logit)
};
TORCH_MODULE(RSSM);

// The RSSM behind the world-model interface. State: {deter [B, D], stoch [B, G*K]}.
std::shared_ptr<WorldModel> make_rssm_world_model(RSSM model);

}  // namespace parallax::worldmodel
