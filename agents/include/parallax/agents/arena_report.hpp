// A run of the arena summarised: what `parallax demo` writes in report.json ("summary" and
// "steps"). Reset ticks (a fresh context, nothing predicted yet) are listed but not averaged.
// Reference: docs/agents.md.
#pragma once

#include <span>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallax/agents/arena.hpp"

namespace parallax::agents {

class ArenaReport {
 public:
  explicit ArenaReport(int num_envs);
  // One tick's metrics [N].
  void add(std::span<const StepMetrics> tick);
  // mean_mse, mean_psnr (over finite values; null if none), mean_ssim, mean_abs_reward_error
  // (over non-reset steps), and returns: each env's total true reward over the run.
  nlohmann::json summary() const;
  // One object per (tick, env): tick, env, mse, psnr (null when infinite), ssim, reward,
  // reward_pred, return, return_pred, terminated, truncated, reset.
  const nlohmann::json& steps() const { return steps_; }

 private:
  double sum_mse_ = 0, sum_psnr_ = 0, sum_ssim_ = 0, sum_rerr_ = 0;
  int finite_psnr_ = 0, measured_ = 0;
  std::vector<double> totals_;  // [N]
  nlohmann::json steps_ = nlohmann::json::array();
};

}  // namespace parallax::agents
