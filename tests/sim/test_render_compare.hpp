// Image comparison with the renderer's tolerance (issue 4): images agree when at most 0.5% of the
// pixels differ by more than 2 in any channel (ids: differ at all).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <sstream>
#include <string>

namespace parallax::test {

struct ImageDiff {
  std::size_t pixels = 0;  // compared
  std::size_t over = 0;    // pixels whose largest channel difference exceeds `tolerance`
  int max_abs = 0;         // largest channel difference seen
  bool ok(double max_fraction = 0.005) const { return over <= max_fraction * pixels; }
  std::string str() const {
    std::ostringstream s;
    s << over << " of " << pixels << " pixels differ by more than the tolerance (max abs diff "
      << max_abs << ")";
    return s.str();
  }
};

// a, b: [pixels, channels] u8.
inline ImageDiff diff_images(const std::uint8_t* a, const std::uint8_t* b, std::size_t pixels,
                             int channels, int tolerance) {
  ImageDiff d;
  d.pixels = pixels;
  for (std::size_t i = 0; i < pixels; ++i) {
    int worst = 0;
    for (int c = 0; c < channels; ++c) {
      worst = std::max(worst, std::abs(int(a[i * channels + c]) - int(b[i * channels + c])));
    }
    d.max_abs = std::max(d.max_abs, worst);
    d.over += worst > tolerance;
  }
  return d;
}

}  // namespace parallax::test
