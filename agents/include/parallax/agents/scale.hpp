// The search-scaling curve, pass@K made physical (`parallax scale`).
//
// A decision: a state of the scene from which a plan of H control ticks is chosen. Decision d is
// taken from an episode of the scene's scripted expert in Bullet (seed: the first seeds from
// `seed` on whose expert episode succeeds): the state `lead` ticks before the expert's success,
// so that every decision can be solved within the horizon (the expert did it in `lead` <= H
// ticks). The model perceives the C true frames up to that state (and the actions before them).
// A candidate: one of n = max K plans [H, A], drawn as the random-shooting planner draws them
// (zero mean, init_std, AR(1)-correlated noise along the plan; planner.hpp sample_plans).
// Solved: the plan, executed open loop in Bullet from the exact saved state, ends in a success
// state of the scene (every success term of its reward holds, planner.hpp is_success) within H
// ticks.
// Every candidate is scored by the dream (imagined return, the planner's objective) and run in
// Bullet (true return, solved or not). For each K, per decision, the exact expectation over
// uniformly random K-subsets of the n candidates (scale_estimators.hpp) of:
//   (a) best-of-K, learned verifier: the dream picks its best plan, Bullet judges it (solved?);
//   (b) pass@K, physics verifier: any plan of the K solves;
//   (c) best-of-K, physics verifier: the plan with the best true return is picked (solved?).
// The curves are the means over decisions, with percentile-bootstrap 95 % intervals over
// decisions. Also per K: the dream pick's imagined and true return (their gap grows when the
// planner exploits the model's errors), and k_peak_a, the smallest K at which (a) is highest.
// Reference: docs/agents.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/plot.hpp"
#include "parallax/agents/scale_estimators.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

struct ScaleOptions {
  std::vector<int> ks{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};  // ascending
  int decisions = 8;
  int horizon = 10;  // H: ticks per plan
  int lead = 8;      // the expert's ticks to success from a decision state, in [1, H]
  std::uint64_t seed = 0;
  float init_std = 0.6f, noise_correlation = 0.8f, gamma = 0.99f;
  int batch = 256;  // dream slots scored at once (the n candidates go through in batches)
  int threads = 1;  // Bullet worker threads
  std::string device = "cpu";
  int resamples = 2000;  // bootstrap
  // The dream scores with the scene's reward on the predicted poses (a pose head's, or found in
  // the imagined frames: DreamPlanModel::set_pose_reward) instead of the reward head.
  bool pose_reward = false;
  worldmodel::Precision precision = worldmodel::Precision::kF32;  // of the dream
  // The dream in pose space (pose_plan_model.hpp) instead of a world model of frames (run_scale's
  // `model` is then null): the candidates are imagined from the cube read in the decision's last
  // two frames and the pusher's true x, y, and scored with the scene's reward on the poses.
  std::shared_ptr<const PoseDynamics> pose_model;
};

// Throws std::invalid_argument naming the option and value.
void validate(const ScaleOptions& options);

struct ScaleCurvePoint {
  int k = 0;
  double a = 0, b = 0, c = 0;  // success rates in Bullet
  Interval a_ci, b_ci, c_ci;
  double dream_pick_imagined = 0, dream_pick_true = 0;  // mean returns of (a)'s pick
};

struct ScaleDecision {
  std::uint64_t seed = 0;
  int tick = 0;                 // ticks of the expert episode before the decision
  int solved = 0;               // candidates (of n) that solve it in Bullet
  std::vector<double> a, b, c;  // per K
  double best_imagined = 0, best_true = 0;
};

struct ScaleReport {
  std::vector<ScaleCurvePoint> curve;
  std::vector<ScaleDecision> decisions;
  int candidates = 0;  // n
  int k_peak_a = 0;
  double dream_seconds = 0, bullet_seconds = 0;  // scoring wall time, all decisions
  long long dream_steps = 0, bullet_steps = 0;   // imagined / simulated candidate-ticks
  nlohmann::json to_json(const ScaleOptions& options, const std::string& scene,
                         const std::string& model_description) const;
  std::string markdown(const ScaleOptions& options, const std::string& scene,
                       const std::string& model_description) const;
  // The plot: x = log2 K, y = success rate; (a) red, (b) green, (c) blue, their 95 % intervals
  // as thin lines of the same hue, paler. RGB [height, width, 3].
  Chart chart() const;
};

ScaleReport run_scale(std::shared_ptr<const sim::SceneModel> scene,
                      std::shared_ptr<worldmodel::WorldModel> model, const ScaleOptions& options,
                      const AgentProgress& progress = {});

// "1,2,4,...,1024": comma-separated K values, ascending; "..." continues the ratio of the two
// values before it (doubling here) up to the value after it. Throws std::invalid_argument.
std::vector<int> parse_k_list(const std::string& text);

}  // namespace parallax::agents
