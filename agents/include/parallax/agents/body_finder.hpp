// Finding bodies in a frame that has no ids (a predicted frame), model-agnostically, by colour.
//
// Method: Lambert shading scales a surface's RGB, so its chromaticity (r, g) / (r + g + b) stays
// that of its albedo. Each class (every body and marker, and the background) gets a reference
// chromaticity, measured on a TRUE frame of the same episode where its id is visible (the scene
// file's colour otherwise). A pixel of the frame to search is given the class of the nearest
// reference (pixels darker than 4 % of full scale are ignored). Chromaticity alone cannot tell a
// white body from a black one (billiards' cue ball and pocket), so calibration also records each
// class's brightness range (r + g + b) on the true frame, and a pixel whose brightness lies more
// than a factor kBrightnessSlack outside a class's range pays a penalty that grows with the log
// of the ratio (classes not seen in calibration have no range). A body's centroid is the mean
// pixel position of its class; it is missing when it holds fewer than `min_fraction` of the pixels
// its true id mask has (bodies with fewer than 4 true pixels are not scored).
// Validated on true frames against the renderer's ids by parallax fidelity (report field
// "body_finder_validation") and tests/agents/test_fidelity.cpp.
// Reference: docs/fidelity.md.
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "parallax/sim/scene.hpp"

namespace parallax::agents {

struct Centroid {
  double x = 0, y = 0;  // pixels (column, row), pixel centres at +0.5
  int pixels = 0;
  bool border = false;         // some pixel of it lies on the frame's border
  int edge[4] = {0, 0, 0, 0};  // its pixels on the left, right, top and bottom border rows
};

class BodyFinder {
 public:
  // Classes: 0 = background, k + 1 = body k, K + 1 + m = marker m (the renderer's ids).
  // `colors` [K, 3] are this episode's body colours (as the renderer drew them).
  BodyFinder(const sim::SceneModel& scene, const float* colors);
  // Measures each class's chromaticity on a true frame [H, W, 3] u8 with its ids [H, W] u8.
  void calibrate(const std::uint8_t* rgb, const std::uint8_t* ids, int height, int width);
  // Centroid of each class in `rgb` [H, W, 3] u8: [num_classes].
  std::vector<Centroid> find(const std::uint8_t* rgb, int height, int width) const;
  // The class of every pixel of `rgb` [H, W, 3] u8 into `classes` [H, W] (-1: too dark to
  // tell), as find() counts them.
  void classify(const std::uint8_t* rgb, int height, int width, std::int16_t* classes) const;
  int num_classes() const { return static_cast<int>(ref_.size()); }

 private:
  int classify(float r, float g, float b) const;  // one pixel: the nearest class, -1 too dark
  std::vector<std::array<float, 2>> ref_;         // [classes] chromaticity (r, g)
  std::vector<std::array<float, 2>> range_;  // [classes] log brightness range (lo, hi), widened
};

// Centroids of each id in an id frame [H, W] u8: [num_classes].
std::vector<Centroid> id_centroids(const std::uint8_t* ids, int height, int width, int num_classes);

}  // namespace parallax::agents
