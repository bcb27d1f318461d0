// A planner as a policy: model-predictive control in the dream for every env of a rollout or the
// arena (`parallax-view --policy planner`). Each env has its own Planner (seeded by its episode's
// seed) and perceives what the Policy is given: its frames (the true ones, or in the arena's
// dream mode the model's), the goal (the markers) and, with proprioception, where its own bodies
// stand (PolicyInput poses: true, or in dream mode the last true observation's). Every
// `replan_every` ticks it plans from its last frames with a DreamPlanModel (one, shared by the
// envs: the root is set per env) and then plays the plan's next action. The decisions are those
// of `parallax plan --world dream` with the same options and seeds (run_plan): the same context,
// shift and root; tests/agents/test_planner_policy.cpp holds them equal. Its model is a world
// model of frames (DreamPlanModel) or a pose-space model (PosePlanModel: its last two frames and
// its own pusher are its root).
//
// Determinism: an env's actions depend only on its episode seed, options.planner.seed and what it
// perceives (not on N or the other envs), as Policy requires. `stagger` spreads the envs'
// decisions over the ticks (an episode's first plan is replanned after R - seed % R ticks, R =
// replan_every), so that N envs cost about one decision per tick in the viewer, not N every R-th.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "parallax/agents/planner.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/agents/pose_plan_model.hpp"
#include "parallax/agents/reach_shaping.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

struct PlannerPolicyOptions {
  PlannerOptions planner;  // K, H, iterations, ... (finalists must be 0: no judge here)
  int replan_every = 5;    // ticks between decisions, in [1, horizon]
  bool stagger = false;
  // The dream's scoring, as PlanRunOptions names them (DreamPlanModel's setters).
  bool pose_reward = false;
  double rest_tolerance = 0.0, contact_gate = 0.0;
  bool proprioception = false;
  double reach = 0.0, reach_behind = 0.0;
  std::string device = "cpu";
  worldmodel::Precision precision = worldmodel::Precision::kF32;
};

// The fast dream planner of the README (round 24): push-latent-poses.pt's settings, K = 64,
// H = 15, 4 CEM iterations, a decision every 5 ticks, reward from the pose head with reach
// shaping, proprioception and the contact gate.
PlannerPolicyOptions fast_planner_options();

// The pose-space planner of the README: push-poses.pt's settings, K = 64, H = 15, 4 CEM
// iterations, a decision every 5 ticks, the scene's reward on the imagined poses with reach
// shaping (1.0, 0.08 m behind the cube), the pusher where the agent knows it is.
PlannerPolicyOptions pose_planner_options();

// The planner model a scene ships: assets/models/<scene>-poses.pt (a pose-space model), else
// <scene>-latent-poses.pt; empty when it ships neither.
std::filesystem::path default_planner_model(const sim::SceneModel& scene);

class PlannerPolicy : public Policy {
 public:
  // Throws std::invalid_argument for options the planner, run_plan or the model refuse (naming
  // them), and std::runtime_error when the model does not fit the scene.
  PlannerPolicy(std::shared_ptr<const sim::SceneModel> scene,
                std::shared_ptr<worldmodel::WorldModel> model, PlannerPolicyOptions options,
                int num_envs);
  // With a pose-space model (pose_plan_model.hpp): options.pose_reward and proprioception are
  // implied; the frame readers' options (rest tolerance, contact gate) and a precision other
  // than f32 are refused (std::invalid_argument).
  PlannerPolicy(std::shared_ptr<const sim::SceneModel> scene,
                std::shared_ptr<const PoseDynamics> model, PlannerPolicyOptions options,
                int num_envs);
  ~PlannerPolicy() override;
  void reset(int env, std::uint64_t seed) override;
  // Needs PolicyInput frames (std::invalid_argument without them: the planner perceives frames).
  void act(const PolicyInput& in, std::span<float> actions) override;

  // The last act()'s decisions: how many envs planned, and their summed time (ms).
  int last_decisions() const { return last_decisions_; }
  double last_decision_ms() const { return last_ms_; }
  // Every decision's time so far (ms), in order.
  const std::vector<double>& decision_ms() const { return decision_ms_; }
  // Env `env`'s current plan's imagined return (0 before its first decision).
  double imagined_return(int env) const;
  // With proprioception: where env `env`'s agent knows its own bodies to be ([P, 2] x, y, m; the
  // order of DreamPlanModel::proprioceptive_bodies), as of the last act(); empty before it.
  std::vector<float> own_position(int env) const;

 private:
  struct Env;
  void check_options(int num_envs) const;
  std::optional<ReachShaping> reach() const;
  std::shared_ptr<const sim::SceneModel> scene_;
  PlannerPolicyOptions o_;
  std::unique_ptr<DreamPlanModel> dream_;
  std::unique_ptr<PosePlanModel> pose_;  // instead of dream_
  std::vector<std::uint8_t> flat_;       // act()'s scratch: an env's frames, [C, H, W, 3]
  std::vector<std::unique_ptr<Env>> envs_;
  std::vector<int> own_;      // scene indices of the proprioceptive bodies
  std::vector<float> given_;  // act()'s scratch: an env's own bodies' x, y as given
  int context_ = 1, a_ = 0, height_ = 0, width_ = 0;
  int last_decisions_ = 0;
  double last_ms_ = 0;
  std::vector<double> decision_ms_;
};

}  // namespace parallax::agents
