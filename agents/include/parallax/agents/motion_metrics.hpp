// Physics-IQ's motion metrics (Motamed et al. 2025, "Do generative video models understand
// physical principles?"), as pinned in docs/fidelity.md, for one pair of frame sequences.
// Checked against an independent NumPy implementation (tests/python/physics_iq_reference.py).
#pragma once

#include <cstdint>
#include <vector>

namespace parallax::agents {

struct MotionScores {
  bool defined = false;             // false when no pixel moved in either sequence
  double spatial_iou = 0;           // IoU of the "moved at some step" maps
  double spatiotemporal_iou = 0;    // IoU of the moving-pixel volumes over (step, pixel)
  double weighted_spatial_iou = 0;  // sum min(a, b) / sum max(a, b), a, b = steps moved per pixel
  double masked_mse = 0;            // MSE over (step, pixel) that moved in either sequence
};

// `truth` and `pred`: T + 1 frames [H, W, 3] u8 each (index 0 shared: the last context frame).
// A pixel moves at step t when a channel changes by more than `threshold` (of 255) from t - 1.
MotionScores motion_scores(const std::vector<const std::uint8_t*>& truth,
                           const std::vector<const std::uint8_t*>& pred, int pixels, int threshold);

}  // namespace parallax::agents
