#include "parallax/media/error_map.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <stdexcept>
#include <string>

namespace parallax::media {
namespace {

// Five stops of matplotlib's "inferno" at t = 0, 0.25, 0.5, 0.75, 1 (its published table).
constexpr std::array<std::array<float, 3>, 5> kStops{{{0.001f, 0.000f, 0.014f},
                                                      {0.341f, 0.062f, 0.429f},
                                                      {0.735f, 0.216f, 0.330f},
                                                      {0.978f, 0.557f, 0.035f},
                                                      {0.988f, 0.998f, 0.645f}}};

void check_size(std::size_t got, std::size_t want, const char* what) {
  if (got != want)
    throw std::invalid_argument(std::string("error map: ") + what + " has " + std::to_string(got) +
                                " values, expected " + std::to_string(want));
}

}  // namespace

std::array<std::uint8_t, 3> error_color(float t) {
  t = std::isfinite(t) ? std::clamp(t, 0.0f, 1.0f) : 1.0f;
  const float x = t * 4.0f;
  const int i = std::min(3, static_cast<int>(x));
  const float f = x - static_cast<float>(i);
  std::array<std::uint8_t, 3> c{};
  for (int ch = 0; ch < 3; ++ch) {
    const float v = kStops[i][ch] + f * (kStops[i + 1][ch] - kStops[i][ch]);
    c[ch] = static_cast<std::uint8_t>(std::lround(v * 255.0f));
  }
  return c;
}

float abs_error(std::span<const std::uint8_t> a, std::span<const std::uint8_t> b, int h, int w,
                std::span<float> out) {
  const std::size_t px = static_cast<std::size_t>(h) * w;
  check_size(a.size(), px * 3, "frame a");
  check_size(b.size(), px * 3, "frame b");
  check_size(out.size(), px, "error image");
  float peak = 0;
  for (std::size_t i = 0; i < px; ++i) {
    int sum = 0;
    for (int ch = 0; ch < 3; ++ch) sum += std::abs(int{a[i * 3 + ch]} - int{b[i * 3 + ch]});
    out[i] = static_cast<float>(sum) / (3.0f * 255.0f);
    peak = std::max(peak, out[i]);
  }
  return peak;
}

void color_error(std::span<const float> err, int h, int w, float scale,
                 std::span<std::uint8_t> out) {
  const std::size_t px = static_cast<std::size_t>(h) * w;
  check_size(err.size(), px, "error image");
  check_size(out.size(), px * 3, "coloured image");
  if (!(scale > 0)) throw std::invalid_argument("error map: scale must be > 0");
  for (std::size_t i = 0; i < px; ++i) {
    const auto c = error_color(err[i] / scale);
    std::copy(c.begin(), c.end(), out.begin() + static_cast<std::ptrdiff_t>(i * 3));
  }
}

void color_bar(int h, int w, std::span<std::uint8_t> out) {
  check_size(out.size(), static_cast<std::size_t>(h) * w * 3, "colour bar");
  for (int x = 0; x < w; ++x) {
    const auto c = error_color(w > 1 ? static_cast<float>(x) / static_cast<float>(w - 1) : 0.0f);
    for (int y = 0; y < h; ++y)
      std::copy(c.begin(), c.end(), out.begin() + (static_cast<std::ptrdiff_t>(y) * w + x) * 3);
  }
}

}  // namespace parallax::media
