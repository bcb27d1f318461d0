#include "parallax/media/side_by_side.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "parallax/media/error_map.hpp"

namespace parallax::media {
namespace {

constexpr std::uint8_t kBackground = 24;  // dark grey between and around the panels

void require(bool ok, const std::string& what) {
  if (!ok) throw std::invalid_argument("side-by-side: " + what);
}

}  // namespace

SideBySide::SideBySide(SideBySideOptions options) : o_(options) {
  require(o_.frame_height >= 1 && o_.frame_height <= 4096,
          "frame_height must be in [1, 4096], got " + std::to_string(o_.frame_height));
  require(o_.frame_width >= 1 && o_.frame_width <= 4096,
          "frame_width must be in [1, 4096], got " + std::to_string(o_.frame_width));
  require(o_.scale >= 1 && o_.scale <= 16,
          "scale must be in [1, 16], got " + std::to_string(o_.scale));
  require(o_.gap >= 0 && o_.gap <= 256, "gap must be in [0, 256], got " + std::to_string(o_.gap));
  require(o_.error_scale > 0 && o_.error_scale <= 1,
          "error_scale must be in (0, 1], got " + std::to_string(o_.error_scale));
  bar_h_ = std::max(4, 2 * o_.scale);
  const int pw = o_.frame_width * o_.scale, ph = o_.frame_height * o_.scale;
  width_ = 3 * pw + 2 * o_.gap;
  height_ = ph + o_.gap / 2 + bar_h_;
  width_ += width_ % 2;
  height_ += height_ % 2;
  const std::size_t px = static_cast<std::size_t>(o_.frame_height) * o_.frame_width;
  err_.assign(px, 0.0f);
  err_rgb_.assign(px * 3, 0);
  out_.assign(static_cast<std::size_t>(width_) * height_ * 3, kBackground);
  // The colour bar never changes: drawn once, under the error panel.
  std::vector<std::uint8_t> bar(static_cast<std::size_t>(bar_h_) * pw * 3);  // [bar_h, pw, 3]
  color_bar(bar_h_, pw, bar);
  const int bx = 2 * (pw + o_.gap), by = ph + o_.gap / 2;
  for (int y = 0; y < bar_h_; ++y)
    std::copy_n(bar.data() + static_cast<std::size_t>(y) * pw * 3, pw * 3,
                out_.data() + (static_cast<std::size_t>(by + y) * width_ + bx) * 3);
}

void SideBySide::blit(std::span<const std::uint8_t> src, int x0, int y0) {
  const int s = o_.scale, w = o_.frame_width;
  for (int y = 0; y < o_.frame_height * s; ++y) {
    std::uint8_t* row = out_.data() + (static_cast<std::size_t>(y0 + y) * width_ + x0) * 3;
    const std::uint8_t* srow = src.data() + static_cast<std::size_t>(y / s) * w * 3;
    for (int x = 0; x < w * s; ++x) std::copy_n(srow + (x / s) * 3, 3, row + x * 3);
  }
}

std::span<const std::uint8_t> SideBySide::compose(std::span<const std::uint8_t> true_rgb,
                                                  std::span<const std::uint8_t> pred_rgb,
                                                  float* peak) {
  const int h = o_.frame_height, w = o_.frame_width;
  const float p = abs_error(true_rgb, pred_rgb, h, w, err_);
  if (peak) *peak = p;
  color_error(err_, h, w, o_.error_scale, err_rgb_);
  const int pw = w * o_.scale;
  blit(true_rgb, 0, 0);
  blit(pred_rgb, pw + o_.gap, 0);
  blit(err_rgb_, 2 * (pw + o_.gap), 0);
  return out_;
}

}  // namespace parallax::media
