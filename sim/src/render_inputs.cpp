// One World's render inputs (render_inputs.hpp).
#include "parallax/sim/render_inputs.hpp"

#include "parallax/sim/world.hpp"

namespace parallax::sim {

WorldRenderInputs::WorldRenderInputs(const SceneModel& scene) {
  const std::size_t k = scene.bodies.size(), m = scene.markers.size();
  poses_.resize(k * 7);
  markers_.resize(m * 3);
  colors_.resize(k * 3);
  scales_.resize(k);
}

RenderInputs WorldRenderInputs::gather(const World& world) {
  world.poses(poses_);
  world.marker_positions(markers_);
  world.body_colors(colors_);
  world.body_size_scales(scales_);
  return RenderInputs{.n = 1,
                      .poses = poses_.data(),
                      .markers = markers_.data(),
                      .colors = colors_.data(),
                      .scales = scales_.data()};
}

}  // namespace parallax::sim
