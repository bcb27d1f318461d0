// The fidelity gate: baselines (values + tolerances per metric) and the comparison with a report.
#include <cmath>
#include <stdexcept>

#include "parallax/agents/fidelity.hpp"

namespace parallax::agents {

namespace {

using nlohmann::json;

// What makes two reports comparable: the same scene and the same evaluation episodes.
std::string identity(const json& report) {
  const json& e = report.at("eval");
  std::string policies;
  for (const auto& p : e.at("policies")) {
    if (!policies.empty()) policies += ',';
    policies += p.get<std::string>();
  }
  // Decisions scored on poses are another measurement than by the reward head (the default,
  // which the identity does not name, so that older baselines stay valid).
  const json::json_pointer reward("/decisions/reward");
  const bool poses = report.contains(reward) && report.at(reward) == "poses";
  return "scene=" + report.at("scene").get<std::string>() + " policies=" + policies +
         " episodes_per_policy=" + std::to_string(e.at("episodes_per_policy").get<int>()) +
         " horizon=" + std::to_string(e.at("horizon").get<int>()) +
         " seed=" + std::to_string(e.at("seed").get<std::uint64_t>()) +
         (poses ? " decision_reward=poses" : "");
}

struct Gated {
  std::string pointer;
  bool higher_is_better;
  double abs_tol, rel_tol;  // tolerance = max(abs_tol, rel_tol * |baseline|)
};

// Spearman's rho over n episodes moves by 12 / (n (n^2 - 1)) for each swap of two adjacent
// ranks. The gate allows three such swaps or 0.1, whichever is larger: on the quick set's 6
// episodes one pair of episodes whose predicted returns are 0.02 apart swapped under bf16
// inference and moved it by 0.11 (push.pt, round 14), which says nothing about the model.
double spearman_tolerance(const json& report) {
  const json::json_pointer p("/episodes");
  const double n = report.contains(p) && report.at(p).is_array()
                       ? static_cast<double>(report.at(p).size())
                       : 0.0;
  return n >= 2 ? std::max(0.1, 36.0 / (n * (n * n - 1))) : 0.1;
}

std::vector<Gated> gated_metrics(const json& report) {
  std::vector<Gated> out;
  for (const auto& h : report.at("horizons")) {
    const std::string t = "t+" + std::to_string(h.get<int>());
    out.push_back({"/open_loop/model/psnr_db/" + t, true, 0.5, 0.0});
    out.push_back({"/open_loop/model/ssim/" + t, true, 0.01, 0.0});
    for (const auto& [body, _] : report.at("open_loop").at("model").at("bodies").items())
      out.push_back({"/open_loop/model/bodies/" + body + "/error_px/" + t, false, 0.5, 0.25});
  }
  for (const auto& [body, _] : report.at("open_loop").at("model").at("bodies").items())
    out.push_back({"/open_loop/model/bodies/" + body + "/missing_rate_overall", false, 0.02, 0.0});
  out.push_back({"/teacher_forced/model/psnr_db/t+1", true, 0.5, 0.0});
  out.push_back({"/motion/model/spatiotemporal_iou", true, 0.05, 0.0});
  out.push_back({"/returns/spearman", true, spearman_tolerance(report), 0.0});
  out.push_back({"/returns/mean_abs_error", false, 0.1, 0.25});
  out.push_back({"/decisions/top1_agreement", true, 0.15, 0.0});
  out.push_back({"/decisions/normalised_regret", false, 0.1, 0.0});
  return out;
}

// A metric's value; +inf for a null PSNR (MSE 0); NaN when absent.
double value_at(const json& report, const std::string& pointer) {
  const json::json_pointer p(pointer);
  if (!report.contains(p)) return std::nan("");
  const json& v = report.at(p);
  if (v.is_null()) return pointer.find("psnr") != std::string::npos ? INFINITY : std::nan("");
  return v.is_number() ? v.get<double>() : std::nan("");
}

}  // namespace

json make_baseline(const json& report) {
  json metrics = json::array();
  for (const auto& g : gated_metrics(report)) {
    const double v = value_at(report, g.pointer);
    if (std::isnan(v)) continue;
    metrics.push_back(
        {{"metric", g.pointer},
         {"value", std::isfinite(v) ? json(v) : json(nullptr)},
         {"tolerance", std::max(g.abs_tol, g.rel_tol * (std::isfinite(v) ? std::abs(v) : 0))},
         {"higher_is_better", g.higher_is_better}});
  }
  return {{"identity", identity(report)},
          {"model_sha256", report.at("model").at("sha256")},
          {"model_family", report.at("model").at("family")},
          {"metrics", metrics}};
}

json merge_baseline(const json& existing, const json& set) {
  json out = {{"parallax_baseline", 1}, {"sets", json::array()}};
  if (existing.is_object() && existing.contains("sets") && existing["sets"].is_array())
    for (const auto& s : existing["sets"])
      if (s.is_object() && s.value("identity", json()) != set.at("identity"))
        out["sets"].push_back(s);
  out["sets"].push_back(set);
  return out;
}

std::vector<GateFinding> compare_with_baseline(const json& report, const json& baseline,
                                               const std::string& path) {
  const std::string id = identity(report);
  if (!baseline.is_object() || !baseline.contains("sets") || !baseline["sets"].is_array())
    throw std::runtime_error("baseline '" + path + "': field 'sets' is missing or not a list");
  const json* set = nullptr;
  std::string known;
  for (const auto& s : baseline["sets"]) {
    if (!s.is_object() || !s.contains("identity") || !s["identity"].is_string() ||
        !s.contains("metrics") || !s["metrics"].is_array())
      throw std::runtime_error("baseline '" + path + "': a set lacks 'identity' or 'metrics'");
    if (s["identity"] == id) set = &s;
    if (!known.empty()) known += "; ";
    known += s["identity"].get<std::string>();
  }
  if (!set)
    throw std::runtime_error("baseline '" + path + "' has no set for this evaluation (" + id +
                             "); it holds: " + known);
  std::vector<GateFinding> out;
  for (const auto& m : (*set)["metrics"]) {
    if (!m.contains("metric") || !m["metric"].is_string() || !m.contains("tolerance") ||
        !m["tolerance"].is_number() || !m.contains("higher_is_better") ||
        !m["higher_is_better"].is_boolean() || !m.contains("value"))
      throw std::runtime_error("baseline '" + path +
                               "': a metric lacks metric/value/tolerance/"
                               "higher_is_better");
    const std::string name = m["metric"].get<std::string>();
    const double base = m["value"].is_null() ? INFINITY : m["value"].get<double>();
    const double tol = m["tolerance"].get<double>();
    const bool higher = m["higher_is_better"].get<bool>();
    const double now = value_at(report, name);
    bool bad;
    if (std::isnan(now)) {
      bad = true;  // the metric disappeared
    } else if (higher) {
      bad = std::isfinite(base) ? now < base - tol : std::isfinite(now);
    } else {
      bad = now > base + tol;
    }
    if (bad) out.push_back({name, base, now, tol, higher});
  }
  return out;
}

std::vector<int> horizons_not_beating(const json& report, const std::string& predictor) {
  const json& ol = report.at("open_loop");
  if (!ol.contains(predictor) || !ol.at(predictor).is_object() ||
      !ol.at(predictor).contains("psnr_db"))  // constant-velocity predicts positions, no frames
    throw std::invalid_argument("--require-beats: unknown predictor '" + predictor +
                                "' (nothing-moves or physical-variance: the predictors of frames)");
  std::vector<int> out;
  for (const auto& h : report.at("horizons")) {
    const std::string t = "t+" + std::to_string(h.get<int>());
    const double m = value_at(report, "/open_loop/model/psnr_db/" + t);
    const double p = value_at(report, "/open_loop/" + predictor + "/psnr_db/" + t);
    if (std::isnan(m) || std::isnan(p)) continue;
    if (!(m > p)) out.push_back(h.get<int>());
  }
  return out;
}

}  // namespace parallax::agents
