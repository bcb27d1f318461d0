#include "parallax/agents/metrics.hpp"

#include <array>
#include <cassert>
#include <cmath>
#include <vector>

namespace parallax::agents {

double frame_mse(const std::uint8_t* a, const std::uint8_t* b, int height, int width) {
  const std::int64_t n = std::int64_t{height} * width * 3;
  // Integer sum of squared differences is exact; scale once at the end.
  std::int64_t sum = 0;
  for (std::int64_t i = 0; i < n; ++i) {
    const int d = int{a[i]} - int{b[i]};
    sum += d * d;
  }
  return static_cast<double>(sum) / (255.0 * 255.0) / static_cast<double>(n);
}

double psnr_from_mse(double mse) {
  if (mse <= 0.0) return std::numeric_limits<double>::infinity();
  return 10.0 * std::log10(1.0 / mse);
}

namespace {

constexpr int kRadius = 5;  // int(3.5 * 1.5 + 0.5): scipy's truncate=3.5 at sigma=1.5
constexpr int kWin = 2 * kRadius + 1;

std::array<double, kWin> gaussian_kernel() {
  std::array<double, kWin> k{};
  double total = 0;
  for (int i = -kRadius; i <= kRadius; ++i) {
    k[i + kRadius] = std::exp(-0.5 * i * i / (1.5 * 1.5));
    total += k[i + kRadius];
  }
  for (double& v : k) v /= total;
  return k;
}

}  // namespace

double frame_ssim(const std::uint8_t* a, const std::uint8_t* b, int height, int width) {
  assert(height >= kWin && width >= kWin && "frame_ssim: frames must be at least 11x11");
  static const std::array<double, kWin> k = gaussian_kernel();
  constexpr double kC1 = (0.01 * 1.0) * (0.01 * 1.0);
  constexpr double kC2 = (0.03 * 1.0) * (0.03 * 1.0);
  // Only the interior is averaged (skimage crops (win-1)/2 on each side), so a "valid"
  // separable filter is exact: the reflect padding never reaches a kept pixel.
  const int oh = height - 2 * kRadius, ow = width - 2 * kRadius;
  std::vector<double> rows(static_cast<std::size_t>(height) * ow *
                           5);  // [H, ow, 5] horizontal pass
  double total = 0;
  for (int c = 0; c < 3; ++c) {
    for (int y = 0; y < height; ++y) {
      for (int x = 0; x < ow; ++x) {
        double m[5] = {0, 0, 0, 0, 0};  // x, y, xx, yy, xy
        for (int t = 0; t < kWin; ++t) {
          const std::size_t idx = (static_cast<std::size_t>(y) * width + x + t) * 3 + c;
          const double va = a[idx] / 255.0, vb = b[idx] / 255.0;
          m[0] += k[t] * va;
          m[1] += k[t] * vb;
          m[2] += k[t] * va * va;
          m[3] += k[t] * vb * vb;
          m[4] += k[t] * va * vb;
        }
        for (int j = 0; j < 5; ++j) rows[(static_cast<std::size_t>(y) * ow + x) * 5 + j] = m[j];
      }
    }
    double sum = 0;
    for (int y = 0; y < oh; ++y) {
      for (int x = 0; x < ow; ++x) {
        double m[5] = {0, 0, 0, 0, 0};
        for (int t = 0; t < kWin; ++t)
          for (int j = 0; j < 5; ++j)
            m[j] += k[t] * rows[(static_cast<std::size_t>(y + t) * ow + x) * 5 + j];
        const double vx = m[2] - m[0] * m[0], vy = m[3] - m[1] * m[1], cxy = m[4] - m[0] * m[1];
        sum += ((2 * m[0] * m[1] + kC1) * (2 * cxy + kC2)) /
               ((m[0] * m[0] + m[1] * m[1] + kC1) * (vx + vy + kC2));
      }
    }
    total += sum / (static_cast<double>(oh) * ow);
  }
  return total / 3.0;
}

}  // namespace parallax::agents
