// What one render call reads: the state of N environments, as pointers into caller-owned
// buffers (layouts in renderer.hpp). sim::WorldBatch::render_inputs() gives a batch's;
// WorldRenderInputs gathers one sim::World's.
// Reference: docs/render.md.
#pragma once

#include <vector>

#include "parallax/sim/scene.hpp"

namespace parallax::sim {

class World;

struct RenderInputs {
  int n = 0;                       // N environments
  const float* poses = nullptr;    // [N, K, 7] f32 (may be null only when K = 0)
  const float* markers = nullptr;  // [N, M, 3] f32, or null: the scene's nominal positions
  const float* colors = nullptr;   // [N, K, 3] f32 RGB in [0, 1], or null: the scene's colours
  const float* scales = nullptr;   // [N, K] f32 size scales, or null: 1 (nominal sizes)
};

// One World's render inputs (n = 1), gathered into buffers this object owns.
class WorldRenderInputs {
 public:
  explicit WorldRenderInputs(const SceneModel& scene);
  // Copies the world's poses, marker positions, body colours and size scales; the returned
  // inputs point into this object and stay valid until the next gather().
  RenderInputs gather(const World& world);

 private:
  std::vector<float> poses_, markers_, colors_, scales_;
};

}  // namespace parallax::sim
