#include "parallax/agents/plot.hpp"

#include <algorithm>
#include <cmath>

#include "parallax/sim/image_io.hpp"

namespace parallax::agents {

namespace {

constexpr int kMargin = 24;

struct Canvas {
  int w, h;
  std::vector<std::uint8_t> rgb;
  void put(int x, int y, std::array<std::uint8_t, 3> c) {
    if (x < 0 || y < 0 || x >= w || y >= h) return;
    std::copy(c.begin(), c.end(), rgb.begin() + (static_cast<std::size_t>(y) * w + x) * 3);
  }
  void line(double x0, double y0, double x1, double y1, std::array<std::uint8_t, 3> c, int thick) {
    const int n = static_cast<int>(std::max(std::abs(x1 - x0), std::abs(y1 - y0))) + 1;
    for (int i = 0; i <= n; ++i) {
      const double t = static_cast<double>(i) / n;
      const int x = static_cast<int>(std::lround(x0 + (x1 - x0) * t));
      const int y = static_cast<int>(std::lround(y0 + (y1 - y0) * t));
      for (int dy = -(thick / 2); dy <= thick / 2; ++dy)
        for (int dx = -(thick / 2); dx <= thick / 2; ++dx) put(x + dx, y + dy, c);
    }
  }
};

// A round step (1, 2 or 5 times a power of ten) giving about 5 grid lines over `span`.
double nice_step(double span) {
  if (!(span > 0)) return 1;
  const double raw = span / 5, p = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (raw <= m * p) return m * p;
  return 10 * p;
}

}  // namespace

void Chart::fit() {
  bool any = false;
  for (const auto& s : series)
    for (std::size_t i = 0; i < s.x.size() && i < s.y.size(); ++i) {
      if (!std::isfinite(s.y[i])) continue;
      if (!any) x_min = x_max = s.x[i], y_min = y_max = s.y[i], any = true;
      x_min = std::min(x_min, s.x[i]), x_max = std::max(x_max, s.x[i]);
      y_min = std::min(y_min, s.y[i]), y_max = std::max(y_max, s.y[i]);
      if (s.bars) y_min = std::min(y_min, 0.0);
    }
  if (!any) return;
  const double pad = 0.05 * std::max(y_max - y_min, 1e-9);
  y_min -= pad, y_max += pad;
  if (x_max == x_min) x_max = x_min + 1;
}

std::vector<std::uint8_t> Chart::render() const {
  Canvas c{width, height,
           std::vector<std::uint8_t>(static_cast<std::size_t>(width) * height * 3, 255)};
  const double pw = width - 2 * kMargin, ph = height - 2 * kMargin;
  auto px = [&](double x) { return kMargin + (x - x_min) / (x_max - x_min) * pw; };
  auto py = [&](double y) { return height - kMargin - (y - y_min) / (y_max - y_min) * ph; };
  // Grid at round values, then the axes.
  const double sy = nice_step(y_max - y_min), sx = nice_step(x_max - x_min);
  for (double y = std::ceil(y_min / sy) * sy; y <= y_max; y += sy)
    c.line(kMargin, py(y), width - kMargin, py(y), {225, 225, 225}, 1);
  for (double x = std::ceil(x_min / sx) * sx; x <= x_max; x += sx)
    c.line(px(x), kMargin, px(x), height - kMargin, {225, 225, 225}, 1);
  c.line(kMargin, height - kMargin, width - kMargin, height - kMargin, {0, 0, 0}, 1);
  c.line(kMargin, kMargin, kMargin, height - kMargin, {0, 0, 0}, 1);
  for (const auto& s : series) {
    const std::size_t n = std::min(s.x.size(), s.y.size());
    if (s.bars) {
      const double bw = std::max(2.0, pw / std::max<std::size_t>(n, 1) * 0.8);
      for (std::size_t i = 0; i < n; ++i) {
        if (!std::isfinite(s.y[i])) continue;
        for (double d = -bw / 2; d <= bw / 2; d += 1)
          c.line(px(s.x[i]) + d, py(std::max(0.0, y_min)), px(s.x[i]) + d, py(s.y[i]), s.color, 1);
      }
      continue;
    }
    for (std::size_t i = 0; i + 1 < n; ++i)
      if (std::isfinite(s.y[i]) && std::isfinite(s.y[i + 1]))
        c.line(px(s.x[i]), py(s.y[i]), px(s.x[i + 1]), py(s.y[i + 1]), s.color, 2);
    for (std::size_t i = 0; i < n; ++i)
      if (std::isfinite(s.y[i]))
        for (int d = -2; d <= 2; ++d)
          c.line(px(s.x[i]) - 2, py(s.y[i]) + d, px(s.x[i]) + 2, py(s.y[i]) + d, s.color, 1);
  }
  return c.rgb;
}

void Chart::write_png(const std::filesystem::path& file) const {
  const auto rgb = render();
  sim::write_png(file, width, height, 3, rgb.data());
}

}  // namespace parallax::agents
