// Bodies' and markers' x, y read from a frame to a fraction of a millimetre, by rendering and
// comparing (analysis by synthesis): the perception of the pose-world family
// (pose_world_model.hpp).
//
// Method: a first guess of each target (a body resting at its reset height, or a marker on the
// table) is the colour finder's centroid (BodyFinder, calibrated on the scene's reset frame with
// ids) cast from the camera onto the plane at the target's height. Each target is then refined by
// a coarse-to-fine search: the scene is rendered with the target moved to the 3 x 3 grid of
// offsets of the current step around its estimate (every other target at its own estimate, bodies
// not found hidden), the candidate whose pixels in a window around the target differ least from
// the frame's (sum of squared differences of the u8 colours) is kept, the step is halved when the
// centre wins, from `start_step_m` down to `final_step_m`. Markers are refined first, then the
// bodies, twice over (a second pass sees its neighbours' refined estimates). The search stops at
// once where the window already matches to the bit. The renderer is the scene's own, so a frame
// that Parallax rendered is matched exactly at the true pose: on billiards the balls' error is
// 0.016 mm (0.001 px) on average, the worst 0.1 mm; a flat marker (the pocket) only to 1-3 mm,
// where every position renders the same frame (tests/agents/test_pose_world.cpp).
//
// Scope: bodies whose appearance does not depend on their orientation (spheres of one colour)
// resting at their reset height, and markers; colours and sizes as the scene sets them (scenes
// that randomise either for a body to read are refused).
// Reference: docs/worldmodel.md, "The pose-world family".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parallax/sim/scene.hpp"

namespace parallax::agents {

struct BodyLocatorOptions {
  double start_step_m = 0.002;    // the first search step from the colour finder's guess
  double guess_step_m = 0.0005;   // the first step from a caller's guess (locate(..., guess))
  double final_step_m = 0.00003;  // the last step
  int passes = 2;                 // refinement passes over all targets
  int max_moves = 6;              // moves per step size before it is halved anyway
};

class BodyLocator {
 public:
  // `bodies`: scene body names to read. Throws std::invalid_argument naming the scene and the body
  // for an unknown body, a plane, a body that is not a sphere, or a randomised colour or size.
  BodyLocator(std::shared_ptr<const sim::SceneModel> scene, std::vector<std::string> bodies,
              BodyLocatorOptions options = {});
  ~BodyLocator();

  const std::vector<std::string>& bodies() const { return names_; }
  int num_markers() const { return nm_; }

  // Reads `rgb` [H, W, 3] u8. `xy` [P, 2] (m) and `markers` [M, 2] (m) receive the estimates;
  // `found` [P]: whether the frame shows the body (4 pixels or more of its colour; a body not
  // found keeps what `xy` held). With `guess` true, `xy` and `markers` hold a guess on entry
  // (where a model predicted them) and the search starts there with the smaller step; bodies
  // the colour finder does not see are still not found.
  void locate(const std::uint8_t* rgb, std::span<float> xy, std::span<std::uint8_t> found,
              std::span<float> markers, bool guess = false) const;

  // The scene's poses [K, 7] and marker positions [M, 3] with the read bodies and markers at
  // `xy` and `markers` (bodies with visible[p] = 0 hidden below the table): what the renderer
  // draws for them.
  void scene_at(std::span<const float> xy, std::span<const std::uint8_t> visible,
                std::span<const float> markers, float* poses, float* marker_xyz) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::vector<std::string> names_;
  int nm_ = 0;
};

}  // namespace parallax::agents
