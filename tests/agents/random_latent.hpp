// A small `latent` world model for a scene with every weight drawn at random (N(0, 0.3^2)): its
// rewards, continue probabilities, values and positions all vary with the plan, so that tests of
// how planners combine them are not vacuous. Include after <torch/torch.h> (and its
// `#undef CHECK`).
#pragma once

#include <functional>
#include <memory>

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/latent.hpp"

namespace parallax::testing {

// `configure` sets the optional heads (value_gamma, pose_bodies) before the net is built.
inline std::shared_ptr<worldmodel::WorldModel> random_latent(
    const sim::SceneModel& scene, std::uint64_t seed,
    const std::function<void(worldmodel::LatentConfig&)>& configure = {}) {
  torch::manual_seed(seed);
  worldmodel::LatentConfig c;
  c.height = scene.camera.height, c.width = scene.camera.width;
  c.action_size = scene.action_size(), c.latent = 8, c.hidden = 16;
  c.enc_channels = {4, 4, 4, 4};
  c.dec_channels = {4, 4, 4, 4};
  if (configure) configure(c);
  worldmodel::LatentNet net(c);
  {
    torch::NoGradGuard no_grad;
    for (auto& p : net->parameters()) p.copy_(torch::randn_like(p) * 0.3);
  }
  net->eval();
  return worldmodel::make_latent_world_model(net);
}

}  // namespace parallax::testing
