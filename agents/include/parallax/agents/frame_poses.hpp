// Where bodies stand on the table, read from a frame: the poses a frame model (no pose head)
// implies, so that the scene's reward can be evaluated on its imagined frames (PoseReward).
//
// Method: each body is found by colour (BodyFinder: its centroid in pixels), and the centroid is
// mapped to the body's x, y in metres by a plane homography fitted per body at construction.
// Calibration renders the scene with only that body in view, at `samples` poses drawn uniformly
// over x, y in the calibration box and yaw in [-180, 180) deg (its z, orientation about x and y
// and size as at the scene's reset with seed 0), and fits x, y = H(u, v) by linear least squares
// to the centroids of its ids (the direct linear transform, with coordinates normalised). A
// homography is exact for a point at a fixed height under a pinhole camera; what it absorbs on
// top is the mean offset between a solid body's visible pixels and its centre. Renders whose body
// touches the frame's border or shows fewer than half its reference pixels (at the scene's
// nominal pose) are not used. The colour finder is calibrated on the scene's reset frame with ids
// (seed 0): scenes that randomise the colour of a body to find are refused.
//
// A body the frame's border cuts shows only its inner part, so its visible centroid lies inward of
// where the homography needs it (by up to a body's radius). With cut reading on
// (set_cut_reading), such a body is read by a second fit per border side: calibration renders the
// body with its virtual centroid (the pixel the homography maps to its x, y) drawn uniformly in a
// band from two body radii inside the border to one radius outside it (and along the whole
// border), at random yaw, keeps the renders whose body touches that border with at least
// kMinCutPixels pixels, and fits the virtual centroid's two coordinates by least squares on the
// visible centroid's distance to the border a (in body radii), its position along the border c,
// and the visible fraction n of the reference pixels: [1, a, a^2, c, c^2, a c, n]. The body is
// found while it shows kMinCutPixels; the side is the border holding most of its pixels; a body
// whose centroid lies farther from the border than the renders' reached is read as usual.
// Reference: docs/agents.md, "Reward from predicted poses".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "parallax/agents/body_finder.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::agents {

struct FramePosesOptions {
  int samples = 400;                    // calibration renders per body
  float box_min[2] = {-0.45f, -0.45f};  // calibration box, x and y [m]
  float box_max[2] = {0.45f, 0.45f};
  std::uint64_t seed = 0;  // the calibration poses' draw
  int cut_samples = 200;   // calibration renders per body and border side for cut reading
};

class FramePoses {
 public:
  // `bodies`: scene body names to find (not planes). Throws std::invalid_argument naming the
  // scene and body for an unknown body, a plane, a randomised colour, or a body that fewer than
  // 16 calibration renders show.
  FramePoses(std::shared_ptr<const sim::SceneModel> scene, std::vector<std::string> bodies,
             FramePosesOptions options = {});

  const std::vector<std::string>& bodies() const { return names_; }
  int height() const { return h_; }
  int width() const { return w_; }
  // Bodies' x, y [P, 2] m in `rgb` [H, W, 3] u8. A body with fewer than a quarter of its
  // reference pixels (kMinCutPixels for a body the border cuts, with cut reading on) is not
  // found: found[p] = 0 and xy keeps what it held. `border` (optional, [P]): whether some pixel of
  // the body lies on the frame's border (without cut reading such a body is read inward of where
  // it is).
  void find(const std::uint8_t* rgb, std::span<float> xy, std::span<std::uint8_t> found,
            std::span<std::uint8_t> border = {}) const;
  // Root-mean-square error [m] of body p's fit on its calibration renders.
  double fit_rms_m(int p) const { return fits_[p].rms; }
  int fit_samples(int p) const { return fits_[p].samples; }
  // Reads a body the border cuts by the cut fits (off by default).
  void set_cut_reading(bool enable) { cut_reading_ = enable; }
  bool cut_reading() const { return cut_reading_; }
  // Root-mean-square error [m] of body p's cut fits on their calibration renders, all sides, and
  // how many renders they used (0: the border never cuts it within reach).
  double cut_rms_m(int p) const { return fits_[p].cut_rms; }
  int cut_samples(int p) const { return fits_[p].cut_used; }
  static constexpr int kMinCutPixels = 3;
  // The fitted map of body p: pixel centroid (u, v) -> x, y [m].
  void map(int p, double u, double v, float out[2]) const;
  // The colour finder, calibrated on the scene's reset frame (seed 0).
  const BodyFinder& finder() const { return *finder_; }

 private:
  static constexpr int kCutFeatures = 7;
  struct Cut {         // one border side's fit (cut reading)
    bool ok = false;   // enough renders
    double a_max = 0;  // the largest centroid distance to the border its renders reached
    double coef[2][kCutFeatures] = {};  // virtual centroid (along, across) from the features
  };
  struct Fit {
    double h[9] = {0};  // normalised pixel -> metres, row-major, h[8] = 1
    double rms = 0;
    int samples = 0;
    int reference_pixels = 0;
    double radius = 1;  // [px] sqrt(reference_pixels / pi)
    Cut cut[4];         // left, right, top, bottom border
    double cut_rms = 0;
    int cut_used = 0;
  };
  // The virtual centroid (u, v) [px] that body p's cut fit of border `side` predicts for a visible
  // centroid `c`; false when `c` lies out of that fit's reach.
  bool cut_centroid(int p, int side, const Centroid& c, double uv[2]) const;
  std::vector<std::string> names_;
  std::vector<int> index_;  // [P] scene body index
  std::vector<Fit> fits_;
  std::unique_ptr<BodyFinder> finder_;
  int h_ = 0, w_ = 0;
  bool cut_reading_ = false;
};

}  // namespace parallax::agents
