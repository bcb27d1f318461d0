// Painting the agent's own bodies into imagined frames: where proprioception says they stand
// (DreamPlanModel::set_own_body_frames), not where a frame model drew them.
//
// Method: a frame's pixels that the colour finder (BodyFinder) gives to one of the own bodies
// are replaced by the empty scene's (the table and the markers, no body: rendered once per root
// for the episode's markers). Then each own body is rendered alone on the empty scene at its
// x, y (its z, orientation, colour and size as at the scene's reset with seed 0, like
// FramePoses' calibration), and every pixel where that render differs from the empty scene (the
// body and the shadow it casts) is copied in. What the model drew around them (the cube, its
// shadow, a shadow it drew for the body) is kept; a body of the model drawn over an own body's
// pixels is overdrawn (no depth test between the two).
// Reference: docs/agents.md, "Proprioception".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parallax/agents/body_finder.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::agents {

class OwnBodyPainter {
 public:
  // `bodies`: scene body names (not planes). `finder` classifies the frames' pixels (classes:
  // 0 = background, k + 1 = body k); it must outlive the painter. Throws std::invalid_argument
  // naming the scene and body for an unknown body or a plane.
  OwnBodyPainter(std::shared_ptr<const sim::SceneModel> scene, std::vector<std::string> bodies,
                 const BodyFinder& finder);

  const std::vector<std::string>& bodies() const { return names_; }
  // The markers [M, 3] m of the episode: renders the empty scene the painting starts from.
  // Throws std::invalid_argument for a wrong size.
  void set_markers(std::span<const float> markers_xyz);
  // Paints `n` frames [n, H, W, 3] u8 in place, own bodies at `xy` [n, D, 2] m (D = bodies()).
  void paint(std::uint8_t* frames, int n, std::span<const float> xy);
  // The empty scene [H, W, 3] u8 (after set_markers(); the scene's nominal markers before).
  const std::vector<std::uint8_t>& empty_scene() const { return empty_; }

 private:
  std::shared_ptr<const sim::SceneModel> scene_;
  std::vector<std::string> names_;
  std::vector<int> index_;  // [D] scene body index
  const BodyFinder& finder_;
  std::unique_ptr<sim::Renderer> renderer_;
  int h_ = 0, w_ = 0;
  std::vector<float> reference_, hidden_, colors_, scales_, markers_;  // reset poses, ...
  std::vector<std::uint8_t> empty_;                                    // [H, W, 3]
  std::vector<std::uint8_t> own_rgb_;                                  // [n, H, W, 3] scratch
  std::vector<float> poses_, colors_n_, scales_n_, markers_n_;         // [n, ...] scratch
  std::vector<std::int16_t> classes_;                                  // [H, W] scratch
};

}  // namespace parallax::agents
