// report.md: the tables of a fidelity report that a person reads.
#include <cmath>
#include <cstdio>
#include <sstream>

#include "parallax/agents/fidelity.hpp"

namespace parallax::agents {

namespace {

using nlohmann::json;

std::string fmt(const json& v, const char* f = "%.2f") {
  if (v.is_null()) return "inf";
  if (!v.is_number()) return "—";
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v.get<double>());
  return buf;
}

const json& at_or_null(const json& j, const std::string& key) {
  static const json null;
  return j.is_object() && j.contains(key) ? j.at(key) : null;
}

}  // namespace

std::string fidelity_markdown(const json& r) {
  std::ostringstream md;
  const json& ol = r.at("open_loop");
  const json& e = r.at("eval");
  md << "# Fidelity: " << r.at("model").value("description", std::string("model")) << " on `"
     << r.at("scene").get<std::string>() << "`\n\n";
  md << "Family `" << r.at("model").at("family").get<std::string>() << "`, context "
     << r.at("model").at("context_frames") << " frame(s), sha256 `"
     << r.at("model").value("sha256", std::string()) << "`. Evaluation: " << e.at("episodes");
  if (e.contains("data") && e.at("data").is_string())
    md << " recorded episodes of `" << e.at("data").get<std::string>() << "` from step "
       << e.value("data_start", 0) << " (";
  else
    md << " held-out episodes (" << e.at("episodes_per_policy") << " per policy: ";
  bool first = true;
  for (const auto& [p, s] : e.at("seeds").items()) {
    md << (first ? "" : ", ") << p << " seeds " << s[0] << "-" << s[1];
    first = false;
  }
  md << "), open loop for " << e.at("horizon") << " steps with the true actions.\n\n";

  md << "## Open loop: PSNR of the mean MSE [dB] (higher is better)\n\n";
  md << "| horizon | model | nothing moves | physical variance | model SSIM | nothing-moves SSIM "
        "|\n";
  md << "|---|---|---|---|---|---|\n";
  for (const auto& h : r.at("horizons")) {
    const std::string t = "t+" + std::to_string(h.get<int>());
    md << "| " << t << " | " << fmt(at_or_null(ol["model"]["psnr_db"], t)) << " | "
       << fmt(at_or_null(ol["nothing-moves"]["psnr_db"], t)) << " | "
       << fmt(at_or_null(ol["physical-variance"]["psnr_db"], t)) << " | "
       << fmt(at_or_null(ol["model"]["ssim"], t), "%.3f") << " | "
       << fmt(at_or_null(ol["nothing-moves"]["ssim"], t), "%.3f") << " |\n";
  }
  md << "\n## Open loop: body position error [px] (missing rate)\n\n";
  // Constant velocity (positions only) where the model has two or more context frames.
  const bool cv = at_or_null(ol, "constant-velocity").is_object();
  std::vector<const char*> preds = {"model", "nothing-moves"};
  if (cv) preds.push_back("constant-velocity");
  preds.push_back("physical-variance");
  md << "| horizon |";
  for (const auto& [b, _] : ol["model"]["bodies"].items()) {
    md << " " << b << ": model | " << b << ": nothing moves |";
    if (cv) md << " " << b << ": constant velocity |";
    md << " " << b << ": physical variance |";
  }
  md << "\n|---|";
  for (std::size_t i = 0; i < ol["model"]["bodies"].size() * preds.size(); ++i) md << "---|";
  md << "\n";
  for (const auto& h : r.at("horizons")) {
    const std::string t = "t+" + std::to_string(h.get<int>());
    md << "| " << t << " |";
    for (const auto& [b, _] : ol["model"]["bodies"].items()) {
      for (const char* p : preds) {
        const json& bj = ol[p]["bodies"][b];
        md << " " << fmt(at_or_null(bj["error_px"], t)) << " ("
           << fmt(at_or_null(bj["missing_rate"], t), "%.2f") << ") |";
      }
    }
    md << "\n";
  }
  const json& tf = r.at("teacher_forced");
  md << "\n## Teacher forced, one step\n\n| predictor | PSNR [dB] | SSIM |";
  for (const auto& [b, _] : tf["model"]["bodies"].items()) md << " " << b << " error [px] |";
  md << "\n|---|---|---|";
  for (std::size_t i = 0; i < tf["model"]["bodies"].size(); ++i) md << "---|";
  md << "\n";
  for (const char* p : {"model", "persistence"}) {
    md << "| " << p << " | " << fmt(at_or_null(tf[p]["psnr_db"], "t+1")) << " | "
       << fmt(at_or_null(tf[p]["ssim"], "t+1"), "%.3f") << " |";
    for (const auto& [b, _] : tf["model"]["bodies"].items())
      md << " " << fmt(at_or_null(tf[p]["bodies"][b]["error_px"], "t+1")) << " |";
    md << "\n";
  }
  if (at_or_null(tf, "constant-velocity").is_object()) {  // positions only
    md << "| constant velocity | — | — |";
    for (const auto& [b, _] : tf["model"]["bodies"].items())
      md << " " << fmt(at_or_null(tf["constant-velocity"]["bodies"][b]["error_px"], "t+1")) << " |";
    md << "\n";
  }
  const json& mo = r.at("motion");
  md << "\n## Motion (Physics-IQ metrics, open loop)\n\n"
     << "| predictor | spatial IoU | spatiotemporal IoU | weighted spatial IoU | masked MSE |\n"
     << "|---|---|---|---|---|\n";
  for (const char* p : {"model", "nothing-moves", "physical-variance"})
    md << "| " << p << " | " << fmt(mo[p]["spatial_iou"], "%.3f") << " | "
       << fmt(mo[p]["spatiotemporal_iou"], "%.3f") << " | "
       << fmt(mo[p]["weighted_spatial_iou"], "%.3f") << " | " << fmt(mo[p]["masked_mse"], "%.4f")
       << " |\n";
  const json& nm = mo["model_over_physical_variance"];
  md << "| model / physical variance | " << fmt(nm["spatial_iou"], "%.3f") << " | "
     << fmt(nm["spatiotemporal_iou"], "%.3f") << " | " << fmt(nm["weighted_spatial_iou"], "%.3f")
     << " | " << fmt(nm["masked_mse"], "%.3f") << " (physical variance / model) |\n";
  const json& rt = r.at("returns");
  md << "\n## Reward and returns over the horizon\n\n"
     << "Reward MAE at t+1: " << fmt(at_or_null(ol["model"]["reward_mae"], "t+1"), "%.4f")
     << "; return error (mean abs) " << fmt(rt["mean_abs_error"], "%.3f") << "; Pearson "
     << fmt(rt["pearson"], "%.3f") << ", Spearman " << fmt(rt["spearman"], "%.3f")
     << "; policy ranking preserved: "
     << (rt["policy_ranking_preserved"].get<bool>() ? "yes" : "no")
     << ".\n\n| policy | return in Bullet | return predicted |\n|---|---|---|\n";
  for (const auto& [p, v] : rt["per_policy"].items())
    md << "| " << p << " | " << fmt(v["return_bullet"], "%.3f") << " | "
       << fmt(v["return_model"], "%.3f") << " |\n";
  if (!r.at("termination").is_null()) {
    const json& te = r.at("termination");
    md << "\nTermination prediction: accuracy " << fmt(te["accuracy"], "%.4f") << " over "
       << te["steps"] << " steps; " << te["terminations_predicted"] << " of " << te["terminations"]
       << " true terminations predicted.\n";
  }
  const json& d = r.at("decisions");
  if (d.is_object() && d.contains("decision_points")) {
    md << "\n## Decisions\n\n"
       << d["decision_points"] << " decision points, " << d["candidates"] << " candidate plans of "
       << d["plan_steps"]
       << " steps each, run in Bullet (exact restore) and imagined (forked): top-1 agreement "
       << fmt(d["top1_agreement"], "%.3f") << " (chance " << fmt(d["chance_top1"], "%.3f")
       << "), normalised regret " << fmt(d["normalised_regret"], "%.3f") << " (regret of stakes "
       << fmt(d.value("regret_of_stakes", json()), "%.3f") << "), Spearman "
       << fmt(d["spearman"], "%.3f") << ".\n";
  }
  md << "\n## Body finder on true frames (validation against the renderer's ids)\n\n";
  for (const auto& [b, v] : r.at("body_finder_validation").items())
    md << "- " << b << ": error " << fmt(v["error_px_overall"], "%.3f") << " px, missing "
       << fmt(v["missing_rate_overall"], "%.4f") << "\n";
  return md.str();
}

}  // namespace parallax::agents
