// A small `unet` world model for a scene (channels 8, 16; two context frames), its weights drawn
// by torch's initialisation under `seed`: cheap enough for planner tests that step it many times.
// Include after <torch/torch.h> (and its `#undef CHECK`).
#pragma once

#include <memory>

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/unet.hpp"

namespace parallax::testing {

inline std::shared_ptr<worldmodel::WorldModel> small_unet(const sim::SceneModel& scene,
                                                          std::uint64_t seed = 5) {
  torch::manual_seed(seed);
  worldmodel::UNetConfig c;
  c.height = scene.camera.height, c.width = scene.camera.width;
  c.action_size = scene.action_size();
  c.channels = {8, 16};
  worldmodel::UNet m(c);
  m->eval();
  return worldmodel::make_unet_world_model(m);
}

}  // namespace parallax::testing
