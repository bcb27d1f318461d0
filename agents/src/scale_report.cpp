// The scale report: JSON, markdown and the plot of the three curves (scale.hpp).
#include "parallax/agents/scale.hpp"

#include <cmath>
#include <cstdio>
#include <sstream>

namespace parallax::agents {

namespace {

using nlohmann::json;

json interval_json(double rate, const Interval& ci) {
  return {{"rate", rate}, {"ci95", {ci.lo, ci.hi}}};
}

std::string pct(double v) {
  char b[32];
  std::snprintf(b, sizeof b, "%.1f", 100.0 * v);
  return b;
}

std::string with_ci(double v, const Interval& ci) {
  return pct(v) + " [" + pct(ci.lo) + ", " + pct(ci.hi) + "]";
}

}  // namespace

json ScaleReport::to_json(const ScaleOptions& o, const std::string& scene,
                          const std::string& model_description) const {
  json pts = json::array();
  for (const auto& p : curve)
    pts.push_back({{"k", p.k},
                   {"a_dream_picks", interval_json(p.a, p.a_ci)},
                   {"b_pass_at_k", interval_json(p.b, p.b_ci)},
                   {"c_bullet_picks", interval_json(p.c, p.c_ci)},
                   {"dream_pick_imagined_return", p.dream_pick_imagined},
                   {"dream_pick_true_return", p.dream_pick_true}});
  json decs = json::array();
  for (const auto& d : decisions)
    decs.push_back({{"seed", d.seed},
                    {"tick", d.tick},
                    {"solved_candidates", d.solved},
                    {"a", d.a},
                    {"b", d.b},
                    {"c", d.c}});
  const double dream_sps = dream_seconds > 0 ? static_cast<double>(dream_steps) / dream_seconds : 0;
  const double bullet_sps =
      bullet_seconds > 0 ? static_cast<double>(bullet_steps) / bullet_seconds : 0;
  return {{"scene", scene},
          {"model", model_description},
          {"ks", o.ks},
          {"candidates", candidates},
          {"decisions", static_cast<int>(decisions.size())},
          {"horizon", o.horizon},
          {"lead", o.lead},
          {"seed", o.seed},
          {"init_std", o.init_std},
          {"noise_correlation", o.noise_correlation},
          {"gamma", o.gamma},
          {"reward", o.pose_reward ? "poses" : "head"},
          {"ci", "95 % percentile bootstrap over decisions, " + std::to_string(o.resamples) +
                     " resamples"},
          {"curve", pts},
          {"k_peak_a", k_peak_a},
          {"per_decision", decs},
          {"timing",
           {{"dream_seconds", dream_seconds},
            {"bullet_seconds", bullet_seconds},
            {"imagined_steps_per_s", dream_sps},
            {"bullet_steps_per_s", bullet_sps},
            {"batch", o.batch},
            {"device", o.device},
            {"precision", worldmodel::to_string(o.precision)}}}};
}

std::string ScaleReport::markdown(const ScaleOptions& o, const std::string& scene,
                                  const std::string& model_description) const {
  std::ostringstream md;
  md << "# Search scaling on `" << scene << "`\n\n"
     << "Model: " << model_description << ". " << decisions.size() << " decisions (expert states "
     << o.lead << " ticks before its success, seeds from " << o.seed << "), " << candidates
     << " candidate plans of " << o.horizon << " ticks each (random shooting, std " << o.init_std
     << ", AR(1) " << o.noise_correlation
     << "); every rate is the expectation over random K-subsets of them, with a 95 % bootstrap "
        "interval over decisions (docs/agents.md, \"parallax scale\").\n\n"
     << "| K | (a) dream picks, Bullet judges [%] | (b) pass@K in Bullet [%] | (c) Bullet picks "
        "[%] | dream pick: imagined / true return |\n|---|---|---|---|---|\n";
  for (const auto& p : curve) {
    char r[64];
    std::snprintf(r, sizeof r, "%.2f / %.2f", p.dream_pick_imagined, p.dream_pick_true);
    md << "| " << p.k << " | " << with_ci(p.a, p.a_ci) << " | " << with_ci(p.b, p.b_ci) << " | "
       << with_ci(p.c, p.c_ci) << " | " << r << " |\n";
  }
  const auto& last = curve.back();
  double at_peak = 0;
  for (const auto& p : curve)
    if (p.k == k_peak_a) at_peak = p.a;
  md << "\n(a) is highest at K = " << k_peak_a << " (" << pct(at_peak) << " %)";
  if (k_peak_a == last.k)
    md << ", the largest K measured: it has not stopped improving within this grid.";
  else
    md << "; beyond it more candidates do not help the learned verifier (K = " << last.k << ": "
       << pct(last.a) << " %; the physics verifier: " << pct(last.c)
       << " %). Compare the dream pick's imagined and true returns above: imagined above true "
          "and growing with K means the planner exploits the model's errors.";
  md << " The price of dreaming at K = " << last.k << ": (c) - (a) = " << pct(last.c - last.a)
     << " percentage points.\n\n"
     << "Plot (`scale.png`): x = log2 K from " << curve.front().k << " to " << last.k
     << ", y = success rate; red (a), green (b), blue (c); thin paler lines of the same hue are "
        "the 95 % intervals; grid lines at round values.\n";
  return md.str();
}

Chart ScaleReport::chart() const {
  Chart ch;
  ch.width = 640, ch.height = 400;
  const std::array<std::array<std::uint8_t, 3>, 3> strong{
      {{220, 40, 40}, {30, 160, 60}, {40, 80, 220}}};
  const std::array<std::array<std::uint8_t, 3>, 3> pale{
      {{245, 170, 170}, {160, 220, 175}, {170, 190, 245}}};
  for (int s = 0; s < 3; ++s) {
    Series mid, lo, hi;
    for (const auto& p : curve) {
      const double x = std::log2(static_cast<double>(p.k));
      const double v = s == 0 ? p.a : s == 1 ? p.b : p.c;
      const Interval& ci = s == 0 ? p.a_ci : s == 1 ? p.b_ci : p.c_ci;
      mid.x.push_back(x), lo.x.push_back(x), hi.x.push_back(x);
      mid.y.push_back(v), lo.y.push_back(ci.lo), hi.y.push_back(ci.hi);
    }
    mid.color = strong[s], lo.color = hi.color = pale[s];
    // Intervals first, so that no pale line covers a curve.
    ch.series.insert(ch.series.begin(), {lo, hi});
    ch.series.push_back(mid);
  }
  ch.fit();
  ch.y_min = 0, ch.y_max = 1.02;  // success rates: the full range
  return ch;
}

}  // namespace parallax::agents
