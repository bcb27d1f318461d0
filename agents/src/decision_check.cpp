// One decision point, model against Bullet (decision_check.hpp).
#include "parallax/agents/decision_check.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "parallax/agents/stats.hpp"

namespace parallax::agents {

DecisionCheck check_decision(std::span<const double> model, std::span<const double> bullet) {
  if (model.empty() || model.size() != bullet.size())
    throw std::invalid_argument("check_decision: " + std::to_string(model.size()) +
                                " model returns and " + std::to_string(bullet.size()) +
                                " Bullet returns (need the same K >= 1)");
  const std::size_t k = model.size();
  std::vector<double> m(model.begin(), model.end()), b(bullet.begin(), bullet.end());
  for (auto& v : m)
    if (std::isnan(v)) v = -std::numeric_limits<double>::infinity();
  const double best_m = *std::max_element(m.begin(), m.end());
  const double best = *std::max_element(b.begin(), b.end());
  const double worst = *std::min_element(b.begin(), b.end());
  DecisionCheck c;
  c.stakes = best - worst;
  int tied = 0;
  for (std::size_t i = 0; i < k; ++i) {
    if (m[i] < best_m) continue;
    ++tied;
    c.top1 += b[i] >= best - 1e-9;
    c.regret += best > worst ? (best - b[i]) / (best - worst) : 0.0;
  }
  c.top1 /= tied;
  c.regret /= tied;
  c.chance_top1 = static_cast<double>(std::count_if(b.begin(), b.end(),
                                                    [&](double v) { return v >= best - 1e-9; })) /
                  static_cast<double>(k);
  c.spearman = spearman(b, m);
  return c;
}

}  // namespace parallax::agents
