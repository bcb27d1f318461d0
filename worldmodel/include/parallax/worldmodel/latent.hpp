// The `latent` world-model family: a latent that rolls forward without pixels (one small MLP per
// imagined step: what planners need) and a decoder that draws the frame from the latent with
// skip connections from the last observed frame (the static scene comes from that frame, the
// latent carries what moved). Trained by worldmodel/python/train_latent.py (its PyTorch twin,
// parallax_latent.py, defines the same parameter names).
// Reference: docs/worldmodel.md
//
// State of a slot: z_t [B, D] f32, z_{t-1} [B, D] f32 (the velocity is their difference), the last
// observed frame [B, 3, H, W] u8 and the heads on z_t [B, 2] f32 (symlog reward, continue logit).
// step() touches only the latents and the heads (latent_step = true); decode() is the separate
// cost of drawing. An optional value head reads z_t on demand (value(), the planners' terminal
// value).
#pragma once

#include <torch/torch.h>

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "parallax/worldmodel/world_model.hpp"

namespace parallax::worldmodel {

struct LatentConfig {
  int height = 64;
  int width = 64;
  int action_size = 2;
  int context_frames = 2;                           // frames encode_context uses (the last two)
  int latent = 64;                                  // D
  int hidden = 256;                                 // MLP width (encoder, dynamics, heads)
  std::array<int, 4> enc_channels{16, 32, 64, 64};  // the encoder's 4 stride-2 levels
  std::array<int, 4> dec_channels{32, 32, 16, 8};   // the decoder at H/8, H/4, H/2, H
  std::string scene;                                // the scene it was trained on ("" = unknown)
  // > 0: a value head ("value": Linear -> SiLU -> Linear to symlog V) trained for this discount
  // (worldmodel/python/train_value.py); 0: none.
  double value_gamma = 0.0;
  // Non-empty: a pose head ("poses": Linear -> SiLU -> Linear to x, y in dm per named body, in
  // this order), the auxiliary target of train_latent.py --pose-bodies.
  std::vector<std::string> pose_bodies;

  // Parses and validates; throws std::runtime_error naming `source`, the field and the value.
  static LatentConfig from_json_string(const std::string& text, const std::string& source);
  std::string to_json_string() const;
};

struct LatentEncoderImpl;
struct LatentDynamicsImpl;
struct LatentHeadsImpl;
struct LatentDecoderImpl;
struct LatentValueImpl;
struct LatentPosesImpl;

class LatentNetImpl : public torch::nn::Module {
 public:
  explicit LatentNetImpl(const LatentConfig& config);
  const LatentConfig& config() const { return config_; }

  // frame [B, 3, H, W] f32 in [0, 1] -> z [B, D] (layer-normalised).
  torch::Tensor encode(const torch::Tensor& frame);
  // z_{t+1} from z_t, z_{t-1} [B, D] and the action [B, A].
  torch::Tensor dynamics(const torch::Tensor& z, const torch::Tensor& z_prev,
                         const torch::Tensor& action);
  // [B, 2]: symlog reward received on arriving in z, continue logit.
  torch::Tensor heads(const torch::Tensor& z);
  // [B]: symlog of the value of z (the value head; throws std::logic_error without one).
  torch::Tensor value(const torch::Tensor& z);
  // [B, 2 x pose_bodies]: x, y (dm) of each pose body (throws std::logic_error without a head).
  torch::Tensor poses(const torch::Tensor& z);
  // The frame of z [B, D] drawn over the observed frame obs [B, 3, H, W] f32 in [0, 1]; unclamped.
  torch::Tensor decode(const torch::Tensor& z, const torch::Tensor& obs);

 private:
  LatentConfig config_;
  // Submodules "encoder", "dynamics", "heads", "decoder": the names of parallax_latent.py (the
  // contract with the checkpoint); defined in latent.cpp.
  std::shared_ptr<LatentEncoderImpl> encoder_;
  std::shared_ptr<LatentDynamicsImpl> dynamics_;
  std::shared_ptr<LatentHeadsImpl> heads_;
  std::shared_ptr<LatentDecoderImpl> decoder_;
  std::shared_ptr<LatentValueImpl> value_;  // "value", only when config.value_gamma > 0
  std::shared_ptr<LatentPosesImpl> poses_;  // "poses", only when config.pose_bodies is set
  torch::Tensor coords_;                    // [1, 2, H, W] x, y planes (not a parameter)
};
TORCH_MODULE(LatentNet);

// The latent family behind the world-model interface.
std::shared_ptr<WorldModel> make_latent_world_model(LatentNet model);

}  // namespace parallax::worldmodel
