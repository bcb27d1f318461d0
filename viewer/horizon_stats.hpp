// PSNR and position error against the prediction horizon (ticks since the dream last observed
// a true frame: the env's reset, a resync), averaged since the last reset of the viewer.
#pragma once

#include <cmath>
#include <vector>

namespace parallax::viewer {

struct HorizonStats {
  static constexpr int kMax = 120;  // horizons 1..kMax; longer ones count in the last bin
  std::vector<double> psnr_sum = std::vector<double>(kMax, 0.0);
  std::vector<int> psnr_n = std::vector<int>(kMax, 0);
  std::vector<double> pos_sum = std::vector<double>(kMax, 0.0);  // pixels
  std::vector<int> pos_n = std::vector<int>(kMax, 0);

  void clear() { *this = HorizonStats{}; }
  static int bin(int horizon) { return std::min(std::max(horizon, 1), kMax) - 1; }
  void add_psnr(int horizon, double psnr) {
    psnr_sum[bin(horizon)] += std::isfinite(psnr) ? std::min(psnr, 60.0) : 60.0;
    ++psnr_n[bin(horizon)];
  }
  void add_position_error(int horizon, double px) {
    pos_sum[bin(horizon)] += px;
    ++pos_n[bin(horizon)];
  }
  // Means per horizon up to the longest seen ([h], NaN where nothing was seen).
  std::vector<float> psnr_mean() const { return mean(psnr_sum, psnr_n); }
  std::vector<float> position_mean() const { return mean(pos_sum, pos_n); }

 private:
  static std::vector<float> mean(const std::vector<double>& s, const std::vector<int>& n) {
    int last = 0;
    for (int i = 0; i < kMax; ++i)
      if (n[i] > 0) last = i + 1;
    std::vector<float> out(last);
    for (int i = 0; i < last; ++i)
      out[i] = n[i] > 0 ? static_cast<float>(s[i] / n[i]) : std::nanf("");
    return out;
  }
};

}  // namespace parallax::viewer
