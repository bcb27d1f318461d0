// Estimators of the search-scaling curves (scale.hpp): from n scored candidates of one decision,
// the exact expectation over every K-subset of the n drawn uniformly at random, as the unbiased
// pass@k estimator of Chen et al. 2021 ("Evaluating Large Language Models Trained on Code").
// Reference: docs/agents.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace parallax::agents {

// pass@K: the probability that a uniformly random K-subset of the n candidates holds at least one
// success, 1 - C(n - c, K) / C(n, K) with c = the successes. Non-decreasing in K. Needs
// 1 <= K <= n (std::invalid_argument otherwise).
double pass_at_k(std::span<const std::uint8_t> success, int k);

// Best-of-K: the expected `value` of the candidate with the highest `score` in a uniformly random
// K-subset; ties in score are broken uniformly at random. Exact: sorting by score, a group of g
// tied candidates with `above` candidates scored higher holds the subset's best with probability
// (C(n - above, K) - C(n - above - g, K)) / C(n, K), and then each of its members is the pick with
// equal chance (the group's mean value).
double best_of_k(std::span<const double> score, std::span<const double> value, int k);

// A percentile bootstrap interval of the mean of `values` (per-decision figures): `resamples`
// resamples with replacement from a generator seeded with `seed`; returns {lo, hi} at `level`
// (0.95: the 2.5th and 97.5th percentiles of the resampled means, nearest rank). Empty input: {NaN,
// NaN}.
struct Interval {
  double lo = 0, hi = 0;
};
Interval bootstrap_mean_ci(std::span<const double> values, double level, int resamples,
                           std::uint64_t seed);

}  // namespace parallax::agents
