// The `unet` world-model family: an action-conditioned, frame-conditioned U-Net that predicts
// the next frame as a residual added to the last one (optionally warped by a predicted flow),
// plus reward and continue heads.
// Trained by worldmodel/python/train_unet.py (its PyTorch twin, parallax_unet.py, defines the
// same parameter names); architecture and checkpoint format in docs/worldmodel.md.
//
// State of a slot: the last C frames [B, C, 3, H, W] f32 in [0, 1] (oldest first), the reward
// received on arriving at the last one [B] f32 (symlog space) and its continue logit [B] f32;
// output "anchored" adds the anchor (the last observed frame) [B, 3, H, W], the accumulated flow
// [B, 2, H, W] and the accumulated residual [B, 3, H, W] (f32; the last two zero after an observed
// frame).
// There is no latent step: every step() draws the frame (planners pay a full forward per step).
#pragma once

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

#include "parallax/worldmodel/world_model.hpp"

namespace parallax::worldmodel {

struct UNetConfig {
  int height = 64;
  int width = 64;
  int action_size = 2;
  int context_frames = 2;                      // C
  std::vector<int> channels{16, 32, 64, 128};  // per resolution level, full resolution first
  int groups = 8;                              // GroupNorm groups (min with channels)
  int action_hidden = 64;                      // FiLM MLP width
  int head_channels = 16;                      // 1x1 conv before the reward / continue MLP
  int head_hidden = 128;
  // What the reward / continue heads read: "bottleneck" (the U-Net's features), "frame" (the
  // predicted frame itself, through a small strided CNN) or "keypoints" (the predicted frame
  // through K spatial-softmax keypoints; docs/worldmodel.md).
  std::string reward_input = "bottleneck";
  int keypoints = 16;  // K, reward_input "keypoints" only
  // How the next frame is drawn: "residual" (last frame + residual), "warp" (the last frame
  // sampled bilinearly at each pixel plus a predicted flow in pixels, + residual) or "anchored"
  // (warp's weights; in a rollout the last observed frame is sampled once by the accumulated
  // flow, plus the accumulated residual: the moving bodies are not resampled every step).
  std::string output = "residual";
  bool has_flow() const { return output == "warp" || output == "anchored"; }
  std::string scene;  // the scene it was trained on ("" = unknown)

  // Parses and validates; throws std::runtime_error naming `source`, the field and the value.
  static UNetConfig from_json_string(const std::string& text, const std::string& source);
  std::string to_json_string() const;
};

class UNetImpl : public torch::nn::Module {
 public:
  explicit UNetImpl(const UNetConfig& config);
  const UNetConfig& config() const { return config_; }

  // What output "anchored" carries from step to step: the anchor [B, 3, H, W], the accumulated
  // flow [B, 2, H, W] and residual [B, 3, H, W], all f32. Undefined tensors: the last frame was
  // observed (the step anchors it and starts from nothing accumulated).
  struct Carry {
    torch::Tensor anchor, flow, residual;
  };
  struct Output {
    torch::Tensor next;    // [B, 3, H, W] f32, unclamped (last frame + residual)
    torch::Tensor reward;  // [B] f32, symlog space
    torch::Tensor cont;    // [B] f32 logit
    Carry carry;           // output "anchored" only: the carry after this step
  };
  // frames [B, C, 3, H, W] f32 in [0, 1] (oldest first), action [B, A] f32; `carry` is read by
  // output "anchored" only (default: the last frame is an observed one).
  Output forward(const torch::Tensor& frames, const torch::Tensor& action, const Carry& carry = {});

 private:
  UNetConfig config_;
  torch::nn::Conv2d stem1_{nullptr}, stem2_{nullptr}, mid_{nullptr}, out_{nullptr}, flow_{nullptr},
      head_conv_{nullptr};
  torch::nn::Linear film1_{nullptr}, film2_{nullptr}, head1_{nullptr}, head2_{nullptr};
  torch::nn::ModuleList downs_{nullptr}, ups_{nullptr};  // downs.i.*, ups.i.* (Python names)
  torch::nn::AnyModule frame_head_;  // reward_input "frame" or "keypoints": frame_head.*
};
TORCH_MODULE(UNet);

// frame [B, 3, H, W] sampled bilinearly at each pixel's centre plus flow [B, 2, H, W] (x, y in
// pixels), borders repeated (grid_sample, align_corners false): outputs "warp" and "anchored".
torch::Tensor warp(const torch::Tensor& frame, const torch::Tensor& flow);

// The U-Net behind the world-model interface.
std::shared_ptr<WorldModel> make_unet_world_model(UNet model);

}  // namespace parallax::worldmodel
