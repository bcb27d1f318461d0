// Agents in the dream: planning episodes judged by Bullet (`parallax plan`) and policy evaluation
// in the world model (`parallax evaluate`). The front ends parse flags and print; the loops live
// here.
//
// A planning episode (run_plan):
//   Bullet is the world that happens: every executed action steps one sim::World, whose reward,
//   termination and final success (is_success) are what is reported.
//   world = bullet: the planner's model is Bullet restored from the exact saved state (oracle).
//   world = dream:  the planner's model is the world model; the agent perceives only a stream of
//                   frames: the true frame every `resync_every` ticks (1: closed loop on real
//                   observations), the model's own prediction of the frame otherwise (0: pure
//                   dreaming after the first frame). Its root is the last C perceived frames.
//   MPC: a decision every `replan_every` ticks (the plan's first actions are executed in between).
// Reference: docs/agents.md.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "parallax/agents/decision_check.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/agents/planner_policy.hpp"
#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/episode_store.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

// Progress callback: (stage, done, total). The library prints nothing.
using AgentProgress = std::function<void(const std::string&, int, int)>;

struct PlanRunOptions {
  PlannerOptions planner;
  std::string world = "dream";  // dream | bullet: the planner's model
  int episodes = 10;
  std::uint64_t seed = 0;  // episode e resets Bullet with seed + e
  int replan_every = 1;    // ticks between decisions, in [1, horizon]
  int resync_every = 1;    // dream: ticks between true observations (0 = never after the first)
  int max_steps = 0;       // ticks per episode; 0 = the scene's episode_steps
  int threads = 1;         // Bullet oracle worker threads
  std::string device = "cpu";
  bool strips = false;  // record the first decision of each episode as imagined vs happened
  // Dream: more models that imagine every plan too; a plan's score is then the members' mean
  // return - pessimism x their standard deviation (DreamPlanModel::add_member).
  std::vector<std::shared_ptr<worldmodel::WorldModel>> ensemble;
  double pessimism = 0.0;
  // Dream: a plan's score also counts the model's value of the state it ends in (every model
  // must have a value head; DreamPlanModel::set_terminal_value).
  bool terminal_value = false;
  // Dream: rewards are the scene's reward terms on the model's predicted poses (its pose head),
  // not its reward head; the episode's markers (the goal) are given to the planner at each
  // decision (DreamPlanModel::set_pose_reward).
  bool pose_reward = false;
  // Dream, poses found in frames: a body within this many metres of its root position rests
  // there (DreamPlanModel::set_rest_tolerance; 0 = off).
  double rest_tolerance = 0.0;
  // Dream, poses found in frames: a body the actions do not drive rests until a driven body
  // comes within this many metres of it (DreamPlanModel::set_contact_gate; 0 = off).
  double contact_gate = 0.0;
  // Dream, poses found in frames: the bodies the actions move kinematically are the agent's
  // own; at each decision it is told where they stand (their true x, y) and the planner moves
  // them by each plan's actions (DreamPlanModel::set_proprioception).
  bool proprioception = false;
  // Dream, with proprioception: each imagined frame is repainted with the own bodies where the
  // plan has taken them, and the model goes on from that frame
  // (DreamPlanModel::set_own_body_frames).
  bool own_body_frames = false;
  // Dream, poses found in frames: no imagined success where the frame cannot confirm it
  // (DreamPlanModel::set_edge_guard).
  bool edge_guard = false;
  // Dream, poses found in frames: read a body the border cuts where it is
  // (DreamPlanModel::set_edge_reader).
  bool edge_reader = false;
  // Reach shaping (reach_shaping.hpp; 0 = off): the planner's objective also counts -reach x the
  // x, y distance from the driven body to the body the task moves, per step, in either world
  // (the dream: with pose_reward, as one more term of the scene's reward on the positions;
  // Bullet: BulletPlanModel::set_reach; the verifier too). The episodes' returns and successes
  // stay the scene's own.
  double reach = 0.0;
  // Reach shaping: the point to reach lies this far (m) behind the target on the line from its
  // goal (ReachShaping::behind; 0: the target's centre). Needs reach > 0.
  double reach_behind = 0.0;
  // Approach limit (approach_limit.hpp; radius 0 = off): at each decision the planner's action
  // limit is planner.action_limit x clamp(d / approach_radius, approach_floor, 1), d the task
  // body's distance to its goal as the planner's world perceives it (Bullet's state; the dream:
  // the root frame's reading, which needs the reward from poses found in frames).
  double approach_radius = 0.0;
  double approach_floor = 0.3;
  // Dream on CUDA: the batched ticks of the model (and the judge) replay captured CUDA graphs
  // (DreamPlanModel::use_cuda_graph; no effect on the CPU). PlanReport::cuda_graph says whether
  // they were in use.
  bool cuda_graph = false;
  // Dream: inference precision (DreamPlanModel::set_precision), of the model and of the judge.
  worldmodel::Precision precision = worldmodel::Precision::kF32;
  worldmodel::Precision judge_precision = worldmodel::Precision::kF32;
  // Dream, a judge (Planner::plan(model, judge); needs planner.finalists > 0): a second world
  // model of the same frame and action sizes decides among the planner's finalists, each scored
  // from the same perceived root as the model's plans (the cheap model searches, the faithful
  // one picks). It scores like the dream (pose_reward, proprioception, reach) with
  // its own reader settings: rest tolerance, contact gate, edge guard and edge reader (those of
  // a frame model differ from a pose head's).
  std::shared_ptr<worldmodel::WorldModel> judge;
  // Dream in pose space (pose_plan_model.hpp): the planner's model is this pose-space dynamics
  // model instead of a world model of frames (`model` is then null). It reads the pushed body in
  // the last two perceived frames and is told where its driver stands (proprioception); the
  // scene's reward and the reach shaping are evaluated on the poses it imagines. The dream's
  // frame-model options (ensemble, value, reader settings, own-body frames, a judge, CUDA graphs,
  // precision) do not apply to it and are refused.
  std::shared_ptr<const PoseDynamics> pose_model;
  double judge_rest_tolerance = 0.0, judge_contact_gate = 0.0;
  bool judge_edge_guard = false, judge_edge_reader = false;
  // Verification: at each decision Bullet also scores, from the true state, the last
  // iteration's K candidates and the chosen plan (a BulletPlanModel on a twin of the episode's
  // world, same horizon and discount): how well the planner's model ranked them and how its
  // imagined return compares with what the chosen plan would earn (PlanReport::decisions).
  // Planning and the episodes are unchanged by it.
  bool verify = false;
  // When set, each episode as it happened in Bullet (frames, ids, poses, actions, rewards; the
  // store's layout) is handed here when it ends; `parallax plan --record` appends them to a
  // dataset, so models can train on the planner's own action distribution. An episode cut by
  // max_steps is marked truncated at its last step.
  std::function<void(worldmodel::Episode&&)> record;
};

struct PlanEpisode {
  std::uint64_t seed = 0;
  double ret = 0;        // return in Bullet (undiscounted)
  bool success = false;  // is_success at the end
  int steps = 0;
  int decisions = 0;
  double first_imagined_return = 0;  // the planner's imagined return at the first decision
  // The first decision: [2, L + 1, H, W, 3] u8, row 0 the chosen plan as imagined (frame 0 =
  // the perceived start), row 1 what happened in Bullet as it was executed (black after the end).
  std::vector<std::uint8_t> strip;
  int strip_frames = 0;
};

// One decision under verification (PlanRunOptions::verify).
struct PlanDecision {
  int episode = 0, tick = 0;
  double imagined = 0;          // the chosen plan's return as the planner's model imagined it
  double verified = 0;          // the chosen plan's return in Bullet from the true state (H steps)
  bool chosen_success = false;  // the chosen plan, run alone for H steps, ends in success
  int candidates_success = 0;   // the last iteration's candidates that end in success in Bullet
  DecisionCheck check;          // the last iteration's candidates: the model against Bullet
  std::vector<double> imagined_returns, bullet_returns;  // [K] the last iteration's candidates
  std::vector<float> chosen_plan;                        // [L, A] the plan decided on
  std::vector<float> body_xy;  // [bodies, 2] the true positions at the decision (m)
  float action_limit = 1.0f;   // the planner's action limit at the decision
  // With a judge: the model's, the judge's and Bullet's returns of the finalists [N], and the
  // one chosen.
  std::vector<double> finalist_returns, judge_returns, finalist_bullet_returns;
  int judge_pick = -1;
  nlohmann::json to_json() const;  // one line of `plan --verify --out`'s decisions.jsonl
};

struct PlanReport {
  std::vector<PlanEpisode> episodes;
  std::vector<PlanDecision> decisions;  // with PlanRunOptions::verify: every decision, in order
  std::vector<double> latency_ms;       // every decision, in order
  int judge_overrides = 0;  // with a judge: decisions where it chose other than the model's best
  bool cuda_graph = false;  // the dream's ticks replayed CUDA graphs (PlanRunOptions::cuda_graph)
  double success_rate = 0, mean_return = 0;
  double p50_ms = 0, p90_ms = 0, p99_ms = 0;
  int height = 0, width = 0;
  // With options.verify: "verify" (means over every decision: top1_agreement, chance_top1,
  // normalised_regret, spearman, optimism = imagined - verified return of the chosen plan,
  // chosen_success_rate, solvable_rate = some candidate or the chosen plan succeeds in Bullet,
  // missed_rate = solvable but the chosen plan does not succeed), and the same per episode.
  // With a judge: "judge" (finalists, overrides = decisions it chose other than the model's best).
  nlohmann::json to_json(const PlanRunOptions& options, const std::string& scene,
                         const std::string& model_description) const;
};

// The option of world models of frames set in `o` that a pose-space model does not take, named
// ("a contact gate", "an ensemble", ...), or nullptr.
const char* pose_model_refusal(const PlanRunOptions& o);

// `model` may be null for world = bullet. Throws std::invalid_argument for bad options and
// std::runtime_error when the model does not fit the scene.
PlanReport run_plan(std::shared_ptr<const sim::SceneModel> scene,
                    std::shared_ptr<worldmodel::WorldModel> model, const PlanRunOptions& options,
                    const AgentProgress& progress = {});

// Percentile (linear interpolation between order statistics, as numpy's default) of `values`.
double percentile(std::vector<double> values, double p);

// ---- policy evaluation in the model -------------------------------------------------------

struct PolicyEvalOptions {
  std::vector<std::string> policies;  // empty: every policy of the scene
  int episodes = 8;                   // per policy
  std::uint64_t seed = 0;             // policy p, episode e: Bullet seed seed + p * 100000 + e
  int max_steps = 0;                  // 0 = the scene's episode_steps
  std::string device = "cpu";
  // The dream's reward: false = the model's reward head; true = the scene's reward terms on the
  // predicted poses (DreamPlanModel::set_pose_reward: the pose head's, or for a frame model the
  // bodies found in its imagined frames).
  bool pose_reward = false;
  worldmodel::Precision precision = worldmodel::Precision::kF32;  // of the dream
  // The policy "planner" (PlannerPolicy: CEM in the dream of this model, on the frames it sees
  // in Bullet, closed loop) with these options; needed when `policies` names it.
  std::shared_ptr<worldmodel::WorldModel> planner_model;
  // Or a pose-space planner model (then with pose_planner_options()).
  std::shared_ptr<const PoseDynamics> planner_pose_model;
  PlannerPolicyOptions planner = fast_planner_options();
};

// Each policy runs in Bullet (its true return); its actions are replayed open loop in the dream
// from the episode's first frame (the predicted return: sum of rewards weighted by the running
// product of continue probabilities, over the true episode's length; with pose_reward a
// terminating success also ends it). Returns a JSON report:
// per policy the true and predicted mean returns, per episode both, Pearson and Spearman over
// episodes, and whether the ranking of the policies by mean return is the same in both worlds.
nlohmann::json evaluate_policies(std::shared_ptr<const sim::SceneModel> scene,
                                 std::shared_ptr<worldmodel::WorldModel> model,
                                 const PolicyEvalOptions& options,
                                 const AgentProgress& progress = {});

}  // namespace parallax::agents
