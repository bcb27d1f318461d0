// pass@K, best-of-K over random K-subsets, bootstrap intervals (scale_estimators.hpp).
#include "parallax/agents/scale_estimators.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>
#include <string>

namespace parallax::agents {

namespace {

void check_k(std::size_t n, int k) {
  if (k < 1 || static_cast<std::size_t>(k) > n)
    throw std::invalid_argument("scale: K must be in [1, " + std::to_string(n) + "], got " +
                                std::to_string(k));
}

// C(m, k) / C(n, k) for m <= n (0 when m < k), in log space: lgamma keeps n = 65536 finite.
double binom_ratio(std::size_t m, std::size_t n, int k) {
  if (m < static_cast<std::size_t>(k)) return 0.0;
  auto lc = [k](std::size_t x) {
    return std::lgamma(static_cast<double>(x) + 1) - std::lgamma(static_cast<double>(k) + 1) -
           std::lgamma(static_cast<double>(x - k) + 1);
  };
  return std::exp(lc(m) - lc(n));
}

}  // namespace

double pass_at_k(std::span<const std::uint8_t> success, int k) {
  check_k(success.size(), k);
  const auto c = static_cast<std::size_t>(
      std::count_if(success.begin(), success.end(), [](std::uint8_t s) { return s != 0; }));
  return 1.0 - binom_ratio(success.size() - c, success.size(), k);
}

double best_of_k(std::span<const double> score, std::span<const double> value, int k) {
  const std::size_t n = score.size();
  if (value.size() != n) throw std::invalid_argument("scale: score and value sizes differ");
  check_k(n, k);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t x, std::size_t y) { return score[x] > score[y]; });
  double expected = 0;
  std::size_t above = 0;
  while (above < n) {
    std::size_t g = 1;
    while (above + g < n && score[order[above + g]] == score[order[above]]) ++g;
    double mean = 0;
    for (std::size_t i = above; i < above + g; ++i) mean += value[order[i]];
    mean /= static_cast<double>(g);
    const double p = binom_ratio(n - above, n, k) - binom_ratio(n - above - g, n, k);
    expected += p * mean;
    above += g;
  }
  return expected;
}

Interval bootstrap_mean_ci(std::span<const double> values, double level, int resamples,
                           std::uint64_t seed) {
  const std::size_t n = values.size();
  if (n == 0) return {std::nan(""), std::nan("")};
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<double> means(std::max(1, resamples));
  for (auto& m : means) {
    double s = 0;
    for (std::size_t i = 0; i < n; ++i) s += values[pick(rng)];
    m = s / static_cast<double>(n);
  }
  // Nearest-rank percentiles of the sorted resampled means.
  std::sort(means.begin(), means.end());
  const double tail = (1.0 - level) / 2, last = static_cast<double>(means.size() - 1);
  return {means[static_cast<std::size_t>(std::lround(tail * last))],
          means[static_cast<std::size_t>(std::lround((1.0 - tail) * last))]};
}

}  // namespace parallax::agents
