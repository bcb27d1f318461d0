// The arena's run summary (arena_report.hpp).
#include "parallax/agents/arena_report.hpp"

#include <cmath>

namespace parallax::agents {
namespace {

nlohmann::json finite_or_null(double v) {
  return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}

}  // namespace

ArenaReport::ArenaReport(int num_envs) : totals_(static_cast<std::size_t>(num_envs), 0.0) {}

void ArenaReport::add(std::span<const StepMetrics> tick) {
  for (const StepMetrics& m : tick) {
    totals_[static_cast<std::size_t>(m.env)] += m.reward_true;
    steps_.push_back({{"tick", m.tick},
                      {"env", m.env},
                      {"mse", m.mse},
                      {"psnr", finite_or_null(m.psnr)},
                      {"ssim", m.ssim},
                      {"reward", m.reward_true},
                      {"reward_pred", m.reward_pred},
                      {"return", m.return_true},
                      {"return_pred", m.return_pred},
                      {"terminated", m.terminated},
                      {"truncated", m.truncated},
                      {"reset", m.reset}});
    if (m.reset) continue;
    sum_mse_ += m.mse;
    sum_ssim_ += m.ssim;
    sum_rerr_ += std::abs(m.reward_true - m.reward_pred);
    ++measured_;
    if (std::isfinite(m.psnr)) {
      sum_psnr_ += m.psnr;
      ++finite_psnr_;
    }
  }
}

nlohmann::json ArenaReport::summary() const {
  return {{"mean_mse", measured_ ? sum_mse_ / measured_ : 0.0},
          {"mean_psnr",
           finite_psnr_ ? nlohmann::json(sum_psnr_ / finite_psnr_) : nlohmann::json(nullptr)},
          {"mean_ssim", measured_ ? sum_ssim_ / measured_ : 0.0},
          {"mean_abs_reward_error", measured_ ? sum_rerr_ / measured_ : 0.0},
          {"returns", totals_}};
}

}  // namespace parallax::agents
