// What the CPU and CUDA renderers prepare once per scene: static primitives and the frame
// parameters (camera, light, size). Shared by render_cpu.cpp and render_cuda.cu.
#pragma once

#include <vector>

#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "render_kernel.hpp"

namespace parallax::sim {

class RenderSetup {
 public:
  rk::Frame frame{};                   // camera, light, size, counts
  std::vector<rk::StaticPrim> prims;   // [K + M]: bodies in file order, then markers
  std::vector<float> nominal_markers;  // [M, 3] f32, used when render() gets markers == nullptr
  // CPU only: perspective ray directions [H, W, spp] (camera_ray's, computed once), or empty
  // (orthographic cameras, or frames too large to be worth the memory).
  std::vector<rk::F3> rays;
};

// Validates the options against the scene and prepares the setup. Throws std::invalid_argument
// naming the option or scene field that is out of range.
RenderSetup make_render_setup(const SceneModel& scene, const RenderOptions& options);

}  // namespace parallax::sim
