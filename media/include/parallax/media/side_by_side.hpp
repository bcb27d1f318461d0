// The side-by-side view of one env: true | predicted | error heat map, each frame enlarged by
// an integer factor (nearest neighbour), with the error map's colour bar under the error panel.
// This is the picture the viewer records and `parallax demo --mp4` writes.
//
//   +-------+ +-------+ +-------+
//   | true  | | pred  | | error |    panels [H*s, W*s] each, `gap` px apart
//   +-------+ +-------+ +-------+
//                       [=bar===]    colour bar: error 0 (left) .. error_scale (right)
//
// Sizes are rounded up to even numbers (H.264's 4:2:0 chroma needs them).
// Reference: docs/viewer.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace parallax::media {

struct SideBySideOptions {
  int frame_height = 64, frame_width = 64;  // H, W of one input frame [pixels]
  int scale = 4;                            // integer enlargement, 1..16
  int gap = 8;                              // pixels between panels
  float error_scale = 0.25f;  // mean absolute channel difference shown as the top colour, (0, 1]
};

class SideBySide {
 public:
  // Throws std::invalid_argument naming the option out of range.
  explicit SideBySide(SideBySideOptions options);
  int width() const { return width_; }    // output [pixels], even
  int height() const { return height_; }  // output [pixels], even
  int bar_height() const { return bar_h_; }
  const SideBySideOptions& options() const { return o_; }
  // true_rgb, pred_rgb [H, W, 3] u8 -> the composed view [height, width, 3] u8 (held inside,
  // valid until the next call). Returns the view; `peak` (if given) gets the largest error.
  std::span<const std::uint8_t> compose(std::span<const std::uint8_t> true_rgb,
                                        std::span<const std::uint8_t> pred_rgb,
                                        float* peak = nullptr);
  // The error heat map alone, [H, W, 3] u8, of the last compose().
  std::span<const std::uint8_t> error_rgb() const { return err_rgb_; }

 private:
  void blit(std::span<const std::uint8_t> src, int x0, int y0);
  SideBySideOptions o_;
  int width_ = 0, height_ = 0, bar_h_ = 0;
  std::vector<float> err_;             // [H, W] f32
  std::vector<std::uint8_t> err_rgb_;  // [H, W, 3] u8
  std::vector<std::uint8_t> out_;      // [height, width, 3] u8
};

}  // namespace parallax::media
