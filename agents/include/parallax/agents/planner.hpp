// Planners over action sequences: random shooting, CEM and MPPI, as model-predictive control.
//
// One Planner works through one seam, PlanModel: "the imagined returns of K plans [K, L, A] from
// the current root state". Two models fill it:
//   DreamPlanModel   the learned world model: the root is a context (frames, actions); it is
//                    reset into one slot, forked into K slots and advanced with ONE batched
//                    DreamBatch::tick per plan step (the model's reward and continue heads).
//   BulletPlanModel  physics itself, the oracle: K candidates each run from the exact saved
//                    sim::WorldState (World::restore_state), on worker threads.
// Imagined return of a plan = sum_h gamma^h * alive_h * r_h, alive_0 = 1, alive_{h+1} = alive_h *
// c_h, where r_h and c_h are the reward and continue probability after step h (Bullet: c_h = 0
// once the episode terminated or was truncated). With a terminal value (the dream, a model with
// a value head): + gamma^L * alive_L * V(z_L), the model's estimate of the return after the plan.
//
// MPC: plan(), execute the first `replan_every` actions of the chosen plan, shift() the plan by
// as many steps (the warm start of the next plan()), plan again.
//
// Determinism: everything drawn comes from the planner's seed and reset(); the dream runs the
// model's mode (no sampling); Bullet is bit-deterministic. Same seed, same calls => same plans.
// Reference: docs/agents.md.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <torch/types.h>

#include "parallax/agents/reach_shaping.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/precision.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

enum class PlannerKind : std::uint8_t {
  kShooting,  // K random plans (one is the previous best, shifted); the best is chosen
  kCem,       // cross-entropy method: refit a diagonal Gaussian to the elites, `iterations` times
  kMppi,      // model-predictive path integral: a softmax(return / temperature)-weighted mean
};

// "shooting" | "cem" | "mppi"; anything else throws std::invalid_argument naming it.
PlannerKind planner_kind_from_string(const std::string& name);
const char* to_string(PlannerKind kind);

struct PlannerOptions {
  PlannerKind kind = PlannerKind::kCem;
  int candidates = 64;             // K plans scored per iteration
  int horizon = 15;                // L control steps per plan
  int iterations = 4;              // CEM / MPPI refinements per decision (shooting: 1)
  int elites = 8;                  // CEM: plans the Gaussian is refitted to (<= candidates)
  float temperature = 0.1f;        // MPPI: softmax temperature, relative to the spread of returns
  float gamma = 0.99f;             // discount per step
  float init_std = 0.6f;           // initial (and reset) standard deviation of the actions
  float min_std = 0.05f;           // CEM / MPPI: floor of the refitted standard deviation
  float noise_correlation = 0.8f;  // AR(1) correlation of the sampling noise along a plan, [0, 1)
  // Every action of every plan lies in [-action_limit, action_limit] (0, 1]: a planner kept to the
  // speeds a model was trained on (push's expert pushes at up to 0.6 of the pusher's top speed).
  float action_limit = 1.0f;
  // With a judge (plan(model, judge)): the `finalists` best distinct plans the model scored over
  // all iterations are scored again by the judge, whose best is chosen (shooting and CEM only;
  // 0 = no judge may be given).
  int finalists = 0;
  // The judge scores the first judge_horizon steps of each finalist (0: all `horizon`): a judge
  // too slow for the whole plan decides on its near future, where it is the most faithful.
  int judge_horizon = 0;
  // Finalists are at least this far apart (root mean square over their actions, [0, 2]): CEM's
  // best plans of its last iteration differ by a few hundredths, which leaves a judge nothing to
  // choose; with a distance the finalists are the best of distinct plans (0: only no two equal).
  float finalist_distance = 0.0f;
  std::uint64_t seed = 0;
};

// Throws std::invalid_argument for options out of range (naming the option and value).
void validate(const PlannerOptions& options);

// Draws K = options.candidates plans [K, L, A] into `out`: mean + std * AR(1) noise along each
// plan (correlation options.noise_correlation, unit variance), clamped to
// [-options.action_limit, options.action_limit]. `mean` and
// `stddev` are [L, A]. The planners' sampling; also the candidates of the scale curves.
void sample_plans(const PlannerOptions& options, int action_size, std::mt19937_64& rng,
                  std::span<const float> mean, std::span<const float> stddev, std::span<float> out);

// The seam: imagined returns of K plans from the model's current root state.
class PlanModel {
 public:
  virtual ~PlanModel() = default;
  virtual int action_size() const = 0;
  virtual int max_candidates() const = 0;
  // plans [K, L, A] f32 in [-1, 1]; returns [K] (imagined return of each, see the top).
  virtual void score(std::span<const float> plans, int k, int l, float gamma,
                     std::span<double> returns) = 0;
};

// The learned world model as a PlanModel (slots: max_candidates).
class DreamPlanModel : public PlanModel {
 public:
  DreamPlanModel(std::shared_ptr<worldmodel::WorldModel> model, int max_candidates,
                 torch::Device device);
  ~DreamPlanModel() override;
  int action_size() const override;
  int max_candidates() const override;
  // The root: context frames [C', 3, H, W] u8 (oldest first) and the actions before each
  // [C', A] f32 (zeros at an episode start); kept, re-encoded at each score().
  void set_root(const torch::Tensor& frames, const torch::Tensor& actions);
  void score(std::span<const float> plans, int k, int l, float gamma,
             std::span<double> returns) override;
  // The frames the model imagines along one plan [L, A] from the root: [L, H, W, 3] u8, and
  // the predicted rewards [L].
  std::vector<std::uint8_t> imagine(std::span<const float> plan, int l,
                                    std::vector<float>* rewards = nullptr);
  const worldmodel::ModelInfo& info() const;
  // CUDA graphs for the batched ticks (DreamBatch::use_cuda_graph): whether they are in use.
  bool use_cuda_graph(bool enable);
  // Inference precision of every member (worldmodel::DreamBatch::set_precision), also of members
  // added later. kBF16 trades bit-reproducibility across machines for speed.
  void set_precision(worldmodel::Precision precision);
  // An ensemble: more models of the same frame and action sizes imagine the same K plans from
  // the same root; score() is then, per plan, mean - pessimism * standard deviation of the
  // members' returns (pessimism against plans the models disagree on: where a planner would
  // exploit one model's errors). imagine() draws with the first model. Throws
  // std::invalid_argument for a model of other sizes, a negative pessimism, or (after
  // set_pose_reward) a model without the same pose bodies.
  void add_member(std::shared_ptr<worldmodel::WorldModel> model);
  void set_pessimism(double pessimism);
  int members() const;
  // Terminal value: each plan's return also counts gamma^L * alive_L * V of the state it ends in
  // (the model's value head; see the top). Throws std::invalid_argument when a member has no
  // value head.
  void set_terminal_value(bool enable);
  // Reward from predicted poses: every reward (score() and imagine()) is the scene's reward
  // terms evaluated on the pose head's x, y of the bodies (PoseReward), not the reward head; a
  // terminating success ends a plan's future. Markers (the goal) come from set_markers() at each
  // root. A model without a pose head (a frame model, e.g. `unet`): the positions of the bodies
  // the reward names are found in its imagined frames (FramePoses; a body not found keeps its
  // last position, the root's to start). Throws std::invalid_argument when the members differ
  // in pose bodies, the scene's reward has a term PoseReward cannot evaluate, or (frames) a
  // body FramePoses refuses. `reach`: the planner's reach shaping as one more term on the same
  // positions (its bodies are found in the frames too).
  void set_pose_reward(const sim::SceneModel& scene, const ReachShaping* reach = nullptr);
  bool poses_from_frames() const;  // set_pose_reward() finds the poses in the frames
  // Poses found in frames: a body found within `metres` of where the root's last frame shows it
  // is taken to rest exactly there (0, the default: off). The colour finder's position of a
  // resting body moves by millimetres with the imagined frame around it (a pusher passing
  // nearby, the model's blur), which gives plans that never touch the cube different returns;
  // in Bullet they tie exactly. Throws std::invalid_argument for a negative or non-finite
  // tolerance, or without a reward from poses. With a pose head the root position is the head's
  // reading of the root state (in each member).
  void set_rest_tolerance(double metres);
  // Poses found in frames, contact gate: a body the actions do not drive (push's cube) rests
  // where the root's last frame shows it until a body they drive (the pusher, found in the same
  // imagined frames) comes within `metres` of that spot; from then on its found position counts
  // (and the rest tolerance applies). A driven body that an imagined frame does not show (it
  // left the view, or the root does not show it) cannot open the gate for the rest of that
  // plan: a frame model does not know where an unseen body is, and draws it again where its
  // data had it. A resting body on a table moves only when touched: the
  // gate keeps the model's drift and misreadings away from plans that never touch it, where
  // Bullet's returns tie exactly. 0 (the default) is off. Call after set_pose_reward() and
  // before set_root() (it adds the driven bodies to those found). With a pose head the same
  // holds on its positions: the cube rests where the head reads it in the root state until the
  // head's (or, with proprioception, the plan's) pusher comes within `metres`; the head must
  // name a driven body. Throws std::invalid_argument for a negative or non-finite distance,
  // without a reward from poses, for a scene whose actuators drive no body, or a pose head
  // without a driven body.
  void set_contact_gate(double metres);
  // Poses found in frames, proprioception: the bodies the actions move kinematically (push's
  // pusher: a kinematic body under a planar_velocity actuator) are the agent's own. Where they
  // stand at the root is given (set_proprioception_xy(), e.g. the true x, y, as a robot knows
  // its own end effector), and through a plan they move by its actions exactly as the actuator
  // does (clamped action x max_speed / control_hz per tick); the imagined frames are not asked
  // where they are. The contact gate then opens on where the plan takes them: an off-view
  // pusher the model redraws beside the cube, or one it drifts towards the cube, no longer
  // opens it. With a pose head the head's position of such a body is replaced the same way
  // (round 24: the latent's pusher lags behind fast plans). Call after set_contact_gate() or
  // set_pose_reward(), before set_root(). Throws std::invalid_argument without a reward from
  // poses, when the scene has no such body among those read (found, or the pose head's), or a
  // driven body read is moved otherwise (forces, joints).
  void set_proprioception(bool enable);
  // The proprioceptive bodies, in the order set_proprioception_xy() takes them.
  std::vector<std::string> proprioceptive_bodies() const;
  // Moves the proprioceptive bodies' x, y [D, 2] (that order) by one action [A], as their
  // actuator does and as plans move them (clamped action x max_speed / control_hz): an agent's
  // dead reckoning between true observations. Throws std::logic_error when proprioception is off,
  // std::invalid_argument for wrong sizes.
  void move_own(std::span<float> xy, std::span<const float> action) const;
  // Their x, y [m] at the next root, [D, 2]; must be given before each plan when enabled.
  // Throws std::invalid_argument for a wrong size or a non-finite value.
  void set_proprioception_xy(std::span<const float> xy);
  // Proprioception, own bodies in the frames: after each imagined step the model's frame is
  // repainted with the agent's own bodies where the plan has taken them (OwnBodyPainter: where
  // the model drew them becomes the empty table, and they are rendered at their positions), and
  // the model re-observes that frame in place of its own (DreamBatch::observe): what the model
  // predicts next starts from the pusher where it is, as in its teacher-forced training. Throws
  // std::invalid_argument without set_proprioception() or with a pose head (it reads the latent,
  // not the frame).
  void set_own_body_frames(bool enable);
  // Poses found in frames, edge guard: in an imagined step where a body the actions do not drive
  // (push's cube) is not seen, or some pixel of it lies on the frame's border (the finder reads a
  // body the border cuts inward of where it is), the scene's success terms neither pay nor end
  // the plan; the distance terms still count. The same for the root's reading while the contact
  // gate holds the body there. Planners then stop aiming at successes only a blind frame shows
  // (round 11: with the contact gate, the dream's failures on push were cubes pushed past goals
  // near the view's edge). Throws std::invalid_argument when the poses do not come from frames.
  void set_edge_guard(bool enable);
  // Poses found in frames, edge reader: a body the frame's border cuts is read by FramePoses' cut
  // fits (FramePoses::set_cut_reading), where it is rather than inward, while it shows a few
  // pixels; with the edge guard on, only an unseen body then stays unsure. Throws
  // std::invalid_argument when the poses do not come from frames.
  void set_edge_reader(bool enable);
  void set_markers(std::span<const float> markers_xyz);  // [M, 3] m; ignored without pose reward
  // Poses found in frames: where `body` stands (x, y, m) as read in the root's last frame;
  // nullopt when the body is not read there (the frame does not show it, or it is not one of
  // the bodies found). Throws std::logic_error before set_root().
  std::optional<std::array<float, 2>> root_position(const std::string& body) const;

 private:
  void find_in_frames(std::vector<std::string> bodies);
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Bullet as a PlanModel: the oracle (one World per worker thread, restored per candidate).
class BulletPlanModel : public PlanModel {
 public:
  BulletPlanModel(std::shared_ptr<const sim::SceneModel> scene, int max_candidates, int threads);
  ~BulletPlanModel() override;
  int action_size() const override;
  int max_candidates() const override;
  void set_root(const sim::WorldState& state);
  // Reach shaping (reach_shaping.hpp): each step of a plan also scores shaping.reward() of the
  // poses it arrives at, weighted like the step's reward. The world's reward and is_success are
  // unchanged. Throws std::invalid_argument for bodies the scene does not have.
  void set_reach(const ReachShaping& shaping);
  void score(std::span<const float> plans, int k, int l, float gamma,
             std::span<double> returns) override;
  // score(), and whether each plan succeeded in Bullet: is_success() once the plan's L actions
  // ran or the episode ended (success terminates push and reacher) [K] 0 / 1.
  void score_outcomes(std::span<const float> plans, int k, int l, float gamma,
                      std::span<double> returns, std::span<std::uint8_t> success);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

class Planner {
 public:
  Planner(PlannerOptions options, int action_size);

  const PlannerOptions& options() const { return options_; }
  // A new episode: forgets the warm start, reseeds with (options.seed, episode_seed).
  void reset(std::uint64_t episode_seed);
  // Plans from the model's root; returns the chosen plan [L, A] (shooting and CEM: the best
  // plan scored; MPPI: the weighted mean). Its imagined return is best_return().
  //
  // Two models, a proposer and a judge: with `judge` (options.finalists > 0), the model's
  // finalists (the options.finalists plans of the highest returns it gave over all iterations,
  // no two equal or nearer than options.finalist_distance; fewer when there are not as many)
  // are scored by the judge from its own root, and the one the judge scores
  // highest is chosen; best_return() is then the judge's return of it. A cheap model searches,
  // a faithful one decides among its best: the judge's cost is one batch of `finalists` plans.
  // The warm start (the CEM mean) stays the model's. Throws std::invalid_argument for a judge
  // without finalists, finalists without a judge, or a judge of another action size or fewer
  // slots than finalists.
  std::span<const float> plan(PlanModel& model, PlanModel* judge = nullptr);
  // The last plan()'s finalists [N, L, A], the model's returns [N] (highest first) and the
  // judge's [N]; empty without a judge.
  std::span<const float> last_finalists() const { return finalists_; }
  std::span<const double> last_finalist_returns() const { return finalist_returns_; }
  std::span<const double> last_judge_returns() const { return judge_returns_; }
  // Which finalist the judge chose in the last plan() (0: the model's own best); -1 without.
  int last_judge_pick() const { return judge_pick_; }
  // After executing `steps` actions of the plan: shifts the warm start by as many steps (the
  // tail repeats the last action's mean; the spread goes back to init_std there).
  void shift(int steps);
  double best_return() const { return best_return_; }
  // Changes options().action_limit from the next plan() on (an approach limit sets it at each
  // decision, approach_limit.hpp); throws std::invalid_argument outside (0, 1].
  void set_action_limit(float limit);
  // The candidates and returns of the last iteration of the last plan() (for the scale curves).
  std::span<const float> last_candidates() const { return cand_; }   // [K, L, A]
  std::span<const double> last_returns() const { return returns_; }  // [K]

 private:
  void sample(int iteration);
  void pick_finalists(std::size_t la);

  PlannerOptions options_;
  int a_ = 0;
  std::mt19937_64 rng_;
  std::vector<float> mean_, std_;  // [L, A]
  std::vector<float> best_;        // [L, A] the chosen plan
  std::vector<float> cand_;        // [K, L, A]
  std::vector<double> returns_;    // [K]
  std::vector<float> pool_;        // with a judge: every plan scored in this plan() [., L, A]
  std::vector<double> pool_returns_;
  std::vector<float> finalists_;                          // [N, L, A] with a judge
  std::vector<double> finalist_returns_, judge_returns_;  // [N]
  int judge_pick_ = -1;
  double best_return_ = 0;
  bool warm_ = false;
};

// Whether every success term of the scene's reward holds in this state (false for a scene
// without success terms): the cube on the goal for push, the fingertip on the target for reacher.
bool is_success(const sim::SceneModel& scene, const sim::World& world);

}  // namespace parallax::agents
