// Small statistics for reports: correlation coefficients and ranking agreement.
// Reference: docs/fidelity.md.
#pragma once

#include <vector>

namespace parallax::agents {

// Pearson's r of paired samples; NaN when fewer than 2 pairs or a sample has zero variance.
double pearson(const std::vector<double>& x, const std::vector<double>& y);
// Spearman's rho: Pearson's r of the ranks (ties get their average rank, as scipy.stats).
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// Ranks (1-based, ties averaged) of `x`.
std::vector<double> average_ranks(const std::vector<double>& x);
// Whether sorting by `x` and by `y` gives the same order (strict, ties must tie in both).
bool same_ranking(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace parallax::agents
