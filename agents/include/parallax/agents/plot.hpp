// A small line-chart rasteriser for report PNGs (no text: axes, grid lines at round values and
// coloured series; the report's markdown names the colours and the axis ranges).
// Reference: docs/fidelity.md.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace parallax::agents {

struct Series {
  std::vector<double> x, y;  // non-finite y values are skipped
  std::array<std::uint8_t, 3> color{0, 0, 0};
  bool bars = false;  // draw as bars from y = 0 (histograms)
};

struct Chart {
  int width = 480, height = 320;
  double x_min = 0, x_max = 1, y_min = 0, y_max = 1;  // data range (set_range fits the series)
  std::vector<Series> series;
  // Fits the ranges to every finite point, with 5 % headroom.
  void fit();
  // Renders to RGB u8 [height, width, 3].
  std::vector<std::uint8_t> render() const;
  void write_png(const std::filesystem::path& file) const;
};

}  // namespace parallax::agents
