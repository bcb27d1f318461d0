// Fidelity: is a world model a faithful simulator of a scene? Measured against Bullet on an
// evaluation set (eval_set.hpp), next to trivial predictors and the physical variance, all on
// the same frames. Definitions: docs/fidelity.md.
//
// Protocols
//   open loop      the model observes C context frames (its own C), then predicts H frames from
//                  the true actions alone. Predictors: model, nothing-moves (last context frame
//                  held), physical variance (Bullet from a perturbed start, same actions).
//   teacher forced the model re-observes every true frame and predicts the next one. Predictors:
//                  model, persistence (the previous true frame).
// Per horizon h: PSNR of the MEAN MSE over episodes (a mean of per-frame PSNRs is meaningless
// once a predictor gets a frame exactly right), mean SSIM, per-body centroid error [px] and the
// fraction of frames a body is missing (body_finder.hpp), reward MAE. Open loop also: Physics-IQ
// motion metrics, return prediction, termination prediction and decision fidelity.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallax/agents/eval_set.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

struct FidelityOptions {
  EvalSetOptions eval;            // policies, episodes per policy, seed, threads, perturbation
  int horizon = 30;               // H open-loop steps (eval.steps is derived from it)
  std::string device = "cpu";     // torch device of the model
  float motion_threshold = 0.1f;  // a pixel moves when a channel changes by more than this [0,1]
  // Decision fidelity: at `decisions` points per episode (evenly inside the horizon, the first
  // at t0 + H / (decisions + 1)), `candidates` action sequences of `plan_steps` steps are run
  // in Bullet (exact restore) and imagined (forked slots).
  int decisions = 1;
  int candidates = 8;
  int plan_steps = 15;
  // How the dream scores a plan: "head" (the model's reward and continue heads) or "poses" (the
  // scene's reward on the predicted body positions: a pose head's, or those found in the
  // predicted frames; DreamPlanModel::set_pose_reward).
  std::string decision_reward = "head";
  // Inference precision of every dream of the run (worldmodel::DreamBatch::set_precision).
  worldmodel::Precision precision = worldmodel::Precision::kF32;
  // When set: the evaluation set is this recorded dataset's episodes (their first steps, replayed
  // in Bullet and checked against the recorded frames: make_eval_set_from_dataset) instead of
  // eval.policies; data_episodes of them (0: all). eval.seed and eval.policies are not used.
  std::string data;
  int data_episodes = 0;
  int data_start = 0;     // the window of each recorded episode starts at this step
  std::string strip_dir;  // when set: strip_open_loop.png and strip_teacher_forced.png there
  std::string model_description;  // for the report
  std::string model_sha256;
};

// Progress callback: (stage, done, total). The library prints nothing.
using FidelityProgress = std::function<void(const std::string&, int, int)>;

// Runs every protocol and metric; returns the whole report (docs/fidelity.md lists its fields).
// Throws std::invalid_argument for bad options and std::runtime_error when the model does not
// fit the scene (frame size, action size).
nlohmann::json run_fidelity(std::shared_ptr<const sim::SceneModel> scene,
                            std::shared_ptr<worldmodel::WorldModel> model,
                            const FidelityOptions& options, const FidelityProgress& progress = {});

// The human-readable tables of a report (report.md).
std::string fidelity_markdown(const nlohmann::json& report);

// ---- the gate ------------------------------------------------------------------------------

// One baseline set: the gated figures of a report, each with its tolerance, under the identity
// of its evaluation (scene, policies, episodes, horizon, seed).
nlohmann::json make_baseline(const nlohmann::json& report);
// A baseline file {"parallax_baseline": 1, "sets": [...]} with `set` added, replacing a set of
// the same identity (`existing` may be null: a new file).
nlohmann::json merge_baseline(const nlohmann::json& existing, const nlohmann::json& set);

struct GateFinding {
  std::string metric;  // e.g. "open_loop.model.psnr_db@t+10"
  double baseline = 0, now = 0, tolerance = 0;
  bool higher_is_better = true;
};

// Metrics that regressed beyond their tolerance (empty: the gate passes). Throws
// std::runtime_error naming the file when the baseline does not fit the report (another scene,
// horizon or evaluation set).
std::vector<GateFinding> compare_with_baseline(const nlohmann::json& report,
                                               const nlohmann::json& baseline,
                                               const std::string& baseline_path);

// Horizons (1-based) where the model does not beat `predictor` ("nothing-moves") in PSNR,
// open loop.
std::vector<int> horizons_not_beating(const nlohmann::json& report, const std::string& predictor);

}  // namespace parallax::agents
