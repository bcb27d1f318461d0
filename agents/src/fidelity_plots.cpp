#include "parallax/agents/fidelity_plots.hpp"

#include <cmath>

#include "parallax/agents/plot.hpp"

namespace parallax::agents {

void write_fidelity_plots(const nlohmann::json& r, const std::filesystem::path& dir) {
  const std::array<std::uint8_t, 3> colors[] = {
      {40, 90, 220}, {140, 140, 140}, {40, 170, 70}, {230, 140, 30}};
  // The fourth, constant velocity, predicts positions only (and needs two context frames).
  const char* predictors[] = {"model", "nothing-moves", "physical-variance", "constant-velocity"};
  Chart psnr, pos;
  for (int p = 0; p < 4; ++p) {
    const auto& pj = r["open_loop"].value(predictors[p], nlohmann::json());
    if (!pj.is_object()) continue;
    Series sp, se;
    sp.color = se.color = colors[p];
    for (const auto& h : r["horizons"]) {
      const std::string t = "t+" + std::to_string(h.get<int>());
      if (pj.contains("psnr_db") && pj["psnr_db"].contains(t)) {
        sp.x.push_back(h.get<int>());
        sp.y.push_back(pj["psnr_db"][t].is_number() ? pj["psnr_db"][t].get<double>() : NAN);
      }
      double sum = 0;
      int n = 0;
      for (const auto& [b, bj] : pj["bodies"].items())
        if (bj["error_px"].contains(t)) sum += bj["error_px"][t].get<double>(), ++n;
      if (n == 0) continue;
      se.x.push_back(h.get<int>());
      se.y.push_back(sum / n);
    }
    if (!sp.x.empty()) psnr.series.push_back(sp);
    pos.series.push_back(se);
  }
  psnr.fit();
  pos.fit();
  psnr.write_png(dir / "psnr_horizon.png");
  pos.write_png(dir / "position_error.png");
  Chart hist;
  Series bars;
  bars.color = colors[0];
  bars.bars = true;
  std::vector<double> counts(10, 0);
  if (r["decisions"].contains("regrets"))
    for (const auto& v : r["decisions"]["regrets"])
      counts[std::min(9, static_cast<int>(v.get<double>() * 10))] += 1;
  for (int i = 0; i < 10; ++i) bars.x.push_back(0.05 + 0.1 * i), bars.y.push_back(counts[i]);
  hist.series.push_back(bars);
  hist.fit();
  hist.x_min = 0, hist.x_max = 1;
  hist.write_png(dir / "decision_regret.png");
}

}  // namespace parallax::agents
