// Helpers of the tests that read poses from frames (test_frame_poses.cpp,
// test_proprioception.cpp): push's frames rendered, as a planner's context, and rolled as the
// drifting StillWorldModel imagines them. Include after <torch/torch.h> (and its `#undef CHECK`).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::testing {

inline std::shared_ptr<const sim::SceneModel> scene_named(const char* name) {
  return std::make_shared<const sim::SceneModel>(sim::resolve_scene(name));
}

inline std::vector<std::uint8_t> render(const sim::Renderer& r, const sim::SceneModel& scene,
                                        const sim::World& world) {
  sim::WorldRenderInputs in(scene);
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(r.height()) * r.width() * 3);
  r.render(in.gather(world), rgb.data());
  return rgb;
}

// One frame [H, W, 3] u8 as a context of one [1, 3, H, W] u8 (DreamPlanModel::set_root).
inline torch::Tensor as_context(const std::vector<std::uint8_t>& rgb,
                                const sim::SceneModel& scene) {
  const int h = scene.camera.height, w = scene.camera.width;
  return torch::from_blob(const_cast<std::uint8_t*>(rgb.data()), {1, h, w, 3}, torch::kUInt8)
      .permute({0, 3, 1, 2})
      .contiguous();
}

// The frame rolled `s` pixels to the right, as StillWorldModel(scene, 1) imagines it s steps on.
inline std::vector<std::uint8_t> rolled(const std::vector<std::uint8_t>& rgb, int s, int h, int w) {
  std::vector<std::uint8_t> out(rgb.size());
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c)
        out[(static_cast<std::size_t>(y) * w + (x + s) % w) * 3 + c] =
            rgb[(static_cast<std::size_t>(y) * w + x) * 3 + c];
  return out;
}

// `rgb` with body `name`'s pixels painted in the table's colour: the frame of a world where the
// body is out of view (the ids of the same render say which pixels are whose). Returns the
// number of pixels painted.
inline std::size_t paint_out(std::vector<std::uint8_t>& rgb, const sim::Renderer& renderer,
                             const sim::SceneModel& scene, const sim::World& world,
                             const char* name) {
  sim::WorldRenderInputs inputs(scene);
  std::vector<std::uint8_t> again(rgb.size()),
      ids(static_cast<std::size_t>(renderer.height()) * renderer.width());
  renderer.render(inputs.gather(world), again.data(), ids.data());
  const auto table = static_cast<std::uint8_t>(scene.body_index("table") + 1);
  const auto body = static_cast<std::uint8_t>(scene.body_index(name) + 1);
  std::size_t table_px = 0, painted = 0;
  for (std::size_t p = 0; p < ids.size(); ++p)
    if (ids[p] == table) table_px = p;
  for (std::size_t p = 0; p < ids.size(); ++p)
    if (ids[p] == body) {
      std::copy_n(again.data() + table_px * 3, 3, rgb.data() + p * 3);
      ++painted;
    }
  return painted;
}

}  // namespace parallax::testing
