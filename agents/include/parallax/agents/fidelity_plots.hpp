// The PNG plots of a fidelity report (colours are listed in report.md):
//   psnr_horizon.png     open-loop PSNR [dB] against horizon
//   position_error.png   open-loop mean body position error [px] against horizon
//   decision_regret.png  histogram of normalised regret at decision points (10 bins over [0, 1])
// Reference: docs/fidelity.md.
#pragma once

#include <filesystem>

#include <nlohmann/json.hpp>

namespace parallax::agents {

void write_fidelity_plots(const nlohmann::json& report, const std::filesystem::path& dir);

// Colours of the predictors in the plots: model blue, nothing-moves grey, physical variance green.
inline constexpr const char* kPlotLegend =
    "Plots: model = blue, nothing moves = grey, physical variance = green; x = horizon (steps), "
    "y = PSNR [dB] (psnr_horizon.png) or mean body position error [px] (position_error.png); "
    "decision_regret.png = histogram of normalised regret (10 bins over [0, 1]).";

}  // namespace parallax::agents
