// A world model that holds the last frame it observed (context or resync): predicts no motion,
// reward 0, the episode goes on. A cheap, exactly known dream for tests of the arena and the
// rollout engine. With `drift_px` each step instead moves the whole image that many pixels to the
// right (torch::roll; what leaves on the right comes back on the left): every body seems to move.
// Include after <torch/torch.h> (and its `#undef CHECK`).
#pragma once

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::testing {

class StillWorldModel final : public worldmodel::WorldModel {
 public:
  explicit StillWorldModel(const sim::SceneModel& scene, int drift_px = 0) : drift_px_(drift_px) {
    info_.family = "still";
    info_.height = scene.camera.height;
    info_.width = scene.camera.width;
    info_.action_size = scene.action_size();
    info_.config_json = "{}";
  }
  const worldmodel::ModelInfo& info() const override { return info_; }
  torch::nn::Module& module() override { return module_; }
  worldmodel::SlotState initial_state(int64_t b, torch::Device) override {
    return {torch::zeros({b, 3, info_.height, info_.width})};
  }
  worldmodel::SlotState encode_context(const torch::Tensor& f, const torch::Tensor&,
                                       const worldmodel::StepContext&) override {
    return {f.select(1, f.size(1) - 1).to(torch::kFloat) / 255.0};
  }
  worldmodel::SlotState step(const worldmodel::SlotState& s, const torch::Tensor&,
                             const worldmodel::StepContext&) override {
    return {drift_px_ == 0 ? s[0].clone() : torch::roll(s[0], {drift_px_}, {3})};
  }
  worldmodel::SlotState observe(const worldmodel::SlotState&, const torch::Tensor& frames,
                                const worldmodel::StepContext&) override {
    return {frames.to(torch::kFloat) / 255.0};
  }
  torch::Tensor decode(const worldmodel::SlotState& s) override { return s[0]; }
  torch::Tensor reward(const worldmodel::SlotState& s) override {
    return torch::zeros({s[0].size(0)});
  }
  torch::Tensor cont(const worldmodel::SlotState& s) override {
    return torch::ones({s[0].size(0)});
  }

 private:
  worldmodel::ModelInfo info_;
  torch::nn::Module module_;
  int drift_px_ = 0;
};

}  // namespace parallax::testing
