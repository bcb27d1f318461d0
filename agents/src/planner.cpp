// Planners (shooting, CEM, MPPI) and their two models: the dream and Bullet (planner.hpp).
#include "parallax/agents/planner.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <stdexcept>

#include "parallax/agents/frame_poses.hpp"
#include "parallax/agents/own_body_painter.hpp"
#include "parallax/agents/pose_reward.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/worldmodel/dream_batch.hpp"

namespace parallax::agents {
namespace {

std::string comma_list(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

}  // namespace

PlannerKind planner_kind_from_string(const std::string& name) {
  if (name == "shooting") return PlannerKind::kShooting;
  if (name == "cem") return PlannerKind::kCem;
  if (name == "mppi") return PlannerKind::kMppi;
  throw std::invalid_argument("unknown planner '" + name + "' (expected shooting, cem or mppi)");
}

const char* to_string(PlannerKind kind) {
  switch (kind) {
    case PlannerKind::kShooting:
      return "shooting";
    case PlannerKind::kCem:
      return "cem";
    case PlannerKind::kMppi:
      return "mppi";
  }
  return "?";
}

void validate(const PlannerOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("planner: " + what); };
  if (o.candidates < 1 || o.candidates > 65536)
    bad("candidates must be in [1, 65536], got " + std::to_string(o.candidates));
  if (o.horizon < 1 || o.horizon > 1000)
    bad("horizon must be in [1, 1000], got " + std::to_string(o.horizon));
  if (o.iterations < 1 || o.iterations > 100)
    bad("iterations must be in [1, 100], got " + std::to_string(o.iterations));
  if (o.elites < 1 || o.elites > o.candidates)
    bad("elites must be in [1, candidates], got " + std::to_string(o.elites));
  if (!(o.temperature > 0)) bad("temperature must be > 0, got " + std::to_string(o.temperature));
  if (!(o.gamma > 0 && o.gamma <= 1))
    bad("gamma must be in (0, 1], got " + std::to_string(o.gamma));
  if (!(o.init_std > 0 && o.min_std >= 0 && o.min_std <= o.init_std))
    bad("need init_std > 0 and 0 <= min_std <= init_std");
  if (!(o.noise_correlation >= 0 && o.noise_correlation < 1))
    bad("noise correlation must be in [0, 1), got " + std::to_string(o.noise_correlation));
  if (!(o.action_limit > 0 && o.action_limit <= 1))
    bad("action limit must be in (0, 1], got " + std::to_string(o.action_limit));
  if (o.finalists < 0 || o.finalists > 1024)
    bad("finalists must be in [0, 1024], got " + std::to_string(o.finalists));
  if (o.judge_horizon < 0 || o.judge_horizon > o.horizon)
    bad("judge horizon must be in [0, horizon], got " + std::to_string(o.judge_horizon));
  if (!(o.finalist_distance >= 0 && o.finalist_distance <= 2))
    bad("finalist distance must be in [0, 2], got " + std::to_string(o.finalist_distance));
  if (o.finalists > 0 && o.kind == PlannerKind::kMppi)
    bad("finalists (a judge) need shooting or cem: MPPI executes a weighted mean, not a plan "
        "it scored");
}

// ---- Planner ---------------------------------------------------------------------------------

Planner::Planner(PlannerOptions options, int action_size) : options_(options), a_(action_size) {
  validate(options_);
  if (action_size < 1) throw std::invalid_argument("planner: action size must be >= 1");
  const std::size_t la = static_cast<std::size_t>(options_.horizon) * a_;
  mean_.assign(la, 0.0f);
  std_.assign(la, options_.init_std);
  best_.assign(la, 0.0f);
  cand_.assign(la * options_.candidates, 0.0f);
  returns_.assign(options_.candidates, 0.0);
  reset(0);
}

void Planner::reset(std::uint64_t episode_seed) {
  rng_.seed(options_.seed * 0x9E3779B97F4A7C15ull + episode_seed * 0xBF58476D1CE4E5B9ull + 1);
  std::fill(mean_.begin(), mean_.end(), 0.0f);
  std::fill(best_.begin(), best_.end(), 0.0f);
  warm_ = false;
}

void sample_plans(const PlannerOptions& options, int a, std::mt19937_64& rng,
                  std::span<const float> mean, std::span<const float> stddev,
                  std::span<float> out) {
  const int k = options.candidates, l = options.horizon;
  const float rho = options.noise_correlation, fresh = std::sqrt(1.0f - rho * rho);
  const float lim = options.action_limit;
  std::normal_distribution<float> normal(0.0f, 1.0f);
  std::vector<float> noise(a);
  for (int i = 0; i < k; ++i) {
    float* c = out.data() + static_cast<std::size_t>(i) * l * a;
    for (int s = 0; s < l; ++s)
      for (int j = 0; j < a; ++j) {
        const float e = normal(rng);
        noise[j] = s == 0 ? e : rho * noise[j] + fresh * e;
        const std::size_t at = static_cast<std::size_t>(s) * a + j;
        c[at] = std::clamp(mean[at] + stddev[at] * noise[j], -lim, lim);
      }
  }
}

void Planner::sample(int iteration) {
  sample_plans(options_, a_, rng_, mean_, std_, cand_);
  // Candidate 0 keeps what is already known: the warm start (shooting: the previous best,
  // shifted; CEM / MPPI: the current mean). Its noise is drawn anyway, so that the stream of the
  // other candidates does not depend on that choice. Not with K = 1: a planner whose only plan
  // were the warm start (zeros at an episode's start) would never move; its one plan is a draw.
  (void)iteration;
  if (options_.candidates == 1) return;
  const auto& keep = options_.kind == PlannerKind::kShooting ? best_ : mean_;
  const float lim = options_.action_limit;
  for (std::size_t at = 0; at < keep.size(); ++at) cand_[at] = std::clamp(keep[at], -lim, lim);
}

std::span<const float> Planner::plan(PlanModel& model, PlanModel* judge) {
  const int k = options_.candidates, l = options_.horizon;
  const std::size_t la = static_cast<std::size_t>(l) * a_;
  if (model.action_size() != a_)
    throw std::invalid_argument("planner: the model has " + std::to_string(model.action_size()) +
                                " actions, the planner " + std::to_string(a_));
  if (model.max_candidates() < k)
    throw std::invalid_argument("planner: the model holds " +
                                std::to_string(model.max_candidates()) + " candidates, need " +
                                std::to_string(k));
  const int n_final = options_.finalists;
  if ((judge != nullptr) != (n_final > 0))
    throw std::invalid_argument(judge ? "planner: a judge needs finalists > 0"
                                      : "planner: finalists need a judge");
  if (judge && judge->action_size() != a_)
    throw std::invalid_argument("planner: the judge has " + std::to_string(judge->action_size()) +
                                " actions, the planner " + std::to_string(a_));
  if (judge && judge->max_candidates() < n_final)
    throw std::invalid_argument("planner: the judge holds " +
                                std::to_string(judge->max_candidates()) + " candidates, need " +
                                std::to_string(n_final) + " finalists");
  finalists_.clear();
  finalist_returns_.clear();
  pool_.clear();
  pool_returns_.clear();
  judge_returns_.clear();
  judge_pick_ = -1;
  if (!warm_) std::fill(mean_.begin(), mean_.end(), 0.0f);
  // The spread restarts at init_std every decision (PETS, TD-MPC): only the mean is warm.
  std::fill(std_.begin(), std_.end(), options_.init_std);
  const int iterations = options_.kind == PlannerKind::kShooting ? 1 : options_.iterations;
  best_return_ = -std::numeric_limits<double>::infinity();
  std::vector<int> order(k);
  for (int it = 0; it < iterations; ++it) {
    sample(it);
    model.score(cand_, k, l, options_.gamma, returns_);
    // Non-finite returns (a diverged model) rank last.
    for (auto& r : returns_)
      if (!std::isfinite(r)) r = -std::numeric_limits<double>::max();
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int x, int y) { return returns_[x] > returns_[y]; });
    if (returns_[order[0]] > best_return_) {
      best_return_ = returns_[order[0]];
      std::copy_n(cand_.data() + static_cast<std::size_t>(order[0]) * la, la, best_.data());
    }
    if (judge) {
      pool_.insert(pool_.end(), cand_.begin(), cand_.end());
      pool_returns_.insert(pool_returns_.end(), returns_.begin(), returns_.end());
    }
    if (options_.kind == PlannerKind::kCem) {
      const int e = options_.elites;
      for (std::size_t at = 0; at < la; ++at) {
        double m = 0, v = 0;
        for (int q = 0; q < e; ++q) m += cand_[static_cast<std::size_t>(order[q]) * la + at];
        m /= e;
        for (int q = 0; q < e; ++q) {
          const double d = cand_[static_cast<std::size_t>(order[q]) * la + at] - m;
          v += d * d;
        }
        mean_[at] = static_cast<float>(m);
        std_[at] = std::max(options_.min_std, static_cast<float>(std::sqrt(v / e)));
      }
    } else if (options_.kind == PlannerKind::kMppi) {
      // Weights relative to the spread of returns: the temperature does not depend on the
      // scale of the scene's reward.
      const double hi = returns_[order[0]], lo = returns_[order[k - 1]];
      const double scale = options_.temperature * std::max(hi - lo, 1e-9);
      std::vector<double> w(k);
      double sum = 0, ret = 0;
      for (int i = 0; i < k; ++i) sum += w[i] = std::exp((returns_[i] - hi) / scale);
      for (int i = 0; i < k; ++i) ret += (w[i] /= sum) * returns_[i];
      for (std::size_t at = 0; at < la; ++at) {
        double m = 0, v = 0;
        for (int i = 0; i < k; ++i) m += w[i] * cand_[static_cast<std::size_t>(i) * la + at];
        for (int i = 0; i < k; ++i) {
          const double d = cand_[static_cast<std::size_t>(i) * la + at] - m;
          v += w[i] * d * d;
        }
        mean_[at] = static_cast<float>(m);
        std_[at] = std::max(options_.min_std, static_cast<float>(std::sqrt(v)));
      }
      if (it + 1 == iterations) {
        // MPPI executes its weighted mean (not a scored plan); its return is the weighted one.
        std::copy(mean_.begin(), mean_.end(), best_.begin());
        best_return_ = ret;
      }
    }
  }
  if (judge) {
    pick_finalists(la);
    const int n = static_cast<int>(finalist_returns_.size());
    const int lj = options_.judge_horizon > 0 ? options_.judge_horizon : l;
    judge_returns_.assign(n, 0.0);
    if (lj == l) {
      judge->score(finalists_, n, l, options_.gamma, judge_returns_);
    } else {
      // The first lj steps of each finalist, packed [N, lj, A].
      const std::size_t lja = static_cast<std::size_t>(lj) * a_;
      std::vector<float> head(static_cast<std::size_t>(n) * lja);
      for (int i = 0; i < n; ++i)
        std::copy_n(finalists_.data() + static_cast<std::size_t>(i) * la, lja,
                    head.data() + static_cast<std::size_t>(i) * lja);
      judge->score(head, n, lj, options_.gamma, judge_returns_);
    }
    judge_pick_ = 0;
    for (int i = 1; i < n; ++i)
      if (std::isfinite(judge_returns_[i]) && (!std::isfinite(judge_returns_[judge_pick_]) ||
                                               judge_returns_[i] > judge_returns_[judge_pick_]))
        judge_pick_ = i;
    std::copy_n(finalists_.data() + static_cast<std::size_t>(judge_pick_) * la, la, best_.data());
    best_return_ = judge_returns_[judge_pick_];
  }
  warm_ = true;
  return best_;
}

void Planner::pick_finalists(std::size_t la) {
  // Highest return first (ties: the earlier scored), each at least finalist_distance (RMS over
  // the plan's actions) from every finalist before it; equal plans never twice.
  const int n_final = options_.finalists, m = static_cast<int>(pool_returns_.size());
  std::vector<int> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int x, int y) { return pool_returns_[x] > pool_returns_[y]; });
  const double min_d2 = static_cast<double>(options_.finalist_distance) *
                        options_.finalist_distance * static_cast<double>(la);
  for (int idx : order) {
    if (static_cast<int>(finalist_returns_.size()) == n_final) break;
    const float* c = pool_.data() + static_cast<std::size_t>(idx) * la;
    bool near = false;
    for (std::size_t q = 0; q < finalist_returns_.size() && !near; ++q) {
      const float* f = finalists_.data() + q * la;
      double d2 = 0;
      for (std::size_t i = 0; i < la; ++i) d2 += (c[i] - f[i]) * static_cast<double>(c[i] - f[i]);
      near = d2 == 0.0 || d2 < min_d2;
    }
    if (near) continue;
    finalists_.insert(finalists_.end(), c, c + la);
    finalist_returns_.push_back(pool_returns_[idx]);
  }
}

void Planner::set_action_limit(float limit) {
  PlannerOptions o = options_;
  o.action_limit = limit;
  validate(o);
  options_.action_limit = limit;
}

void Planner::shift(int steps) {
  const int l = options_.horizon;
  if (steps <= 0) return;
  if (steps >= l) {
    warm_ = false;
    std::fill(best_.begin(), best_.end(), 0.0f);
    return;
  }
  for (auto* v : {&mean_, &best_}) {
    std::move(v->begin() + static_cast<std::ptrdiff_t>(steps) * a_, v->end(), v->begin());
    for (int s = l - steps; s < l; ++s)
      std::copy_n(v->data() + static_cast<std::size_t>(l - steps - 1) * a_, a_,
                  v->data() + static_cast<std::size_t>(s) * a_);
  }
}

// ---- the dream ---------------------------------------------------------------------------------

struct DreamPlanModel::Impl {
  // One model and its K slots (slot 0 holds the root; slots [1, k) are forks of it; the others
  // are closed).
  struct Member {
    std::shared_ptr<worldmodel::WorldModel> model;
    worldmodel::DreamBatch dream;
    Member(std::shared_ptr<worldmodel::WorldModel> m, int cap, torch::Device device)
        : model(m), dream(m, cap, device) {
      dream.set_sampling(worldmodel::Sampling::kMode);
    }
  };
  std::vector<std::unique_ptr<Member>> members;
  int capacity, a;
  torch::Device device;
  double pessimism = 0.0;
  bool terminal_value = false;
  worldmodel::Precision precision = worldmodel::Precision::kF32;
  std::unique_ptr<PoseReward> pose_reward;  // set: rewards from the predicted poses
  std::unique_ptr<FramePoses> frame_poses;  // set: those poses are found in the frames
  // The bodies whose x, y the reward reads, in PoseReward's order: those found in the frames,
  // or the pose head's (pose_bodies). Empty without a reward from poses.
  std::vector<std::string> bodies;
  std::vector<float> root_xy;               // [P, 2] frame_poses: found in the root's last frame
  std::vector<float> xy;                    // [K, P, 2] frame_poses: each slot's last found
  std::vector<std::uint8_t> found;          // [P] frame_poses: scratch of find()
  std::vector<float> rest_xy;               // [K, P, 2] frame_poses: xy after the rest tolerance
  double rest_tolerance = 0.0;              // [m] frame_poses: set_rest_tolerance()
  double contact_gate = 0.0;                // [m] frame_poses: set_contact_gate()
  std::vector<char> driven;                 // [P] frame_poses: a body the actions drive
  std::vector<std::uint8_t> touched;        // [K, P] contact gate: a driven body came close
  std::vector<std::uint8_t> lost;           // [K, P] contact gate: a driven body left the view
  std::vector<std::uint8_t> root_found;     // [P] found in the root's last frame
  bool proprio = false;                     // set_proprioception()
  std::vector<int> own_offset;              // [P] proprioception: action offset, -1 = not own
  std::vector<float> own_step;              // [P] proprioception: metres per tick at action 1
  std::vector<float> own_root;              // [P, 2] proprioception: given at the root
  bool own_given = false;                   // set_proprioception_xy() since set_root()
  std::vector<float> own_xy;                // [K, P, 2] proprioception: each slot's
  std::unique_ptr<OwnBodyPainter> painter;  // set_own_body_frames()
  bool edge_guard = false;                  // set_edge_guard()
  std::vector<std::uint8_t> border;         // [P] edge guard: scratch of find()
  std::vector<std::uint8_t> root_unsure;    // [P] edge guard: the root's reading is unsure
  std::vector<std::uint8_t> unsure;         // [K, P] edge guard: this step's reading is unsure
  std::vector<std::uint8_t> none_left;      // [success terms] edge guard: all fired (scratch)
  std::vector<float> painted_xy;            // [K, D, 2] painter: the own bodies' x, y
  torch::Tensor painted, painted_mask;      // [capacity, 3, H, W] u8, [capacity] bool (painter)
  std::vector<float> markers;               // [M, 3] set_markers()'s (painter)
  std::shared_ptr<const sim::SceneModel> scene;  // set_pose_reward()'s (frame_poses)
  ReachShaping reach;                            // set_pose_reward()'s (weight 0: none)
  std::vector<std::uint8_t> fired;               // [K, success terms] (pose_reward)
  std::vector<char> ended;                       // [K] a terminating success fired (pose_reward)
  torch::Tensor root_frames, root_actions;       // [C', 3, H, W] u8, [C', A] f32
  torch::Tensor actions;                         // [capacity, A] f32 staging
  Impl(std::shared_ptr<worldmodel::WorldModel> m, int cap, torch::Device dev)
      : capacity(cap), a(m->info().action_size), device(dev) {
    members.push_back(std::make_unique<Member>(m, cap, dev));
    actions = torch::zeros({cap, a}, torch::kFloat32);
  }
  worldmodel::DreamBatch& dream() { return members.front()->dream; }
  void open_root(worldmodel::DreamBatch& dream, int k) {
    if (!root_frames.defined())
      throw std::logic_error("DreamPlanModel: set_root() must be called before planning");
    for (int s = k; s < capacity; ++s)
      if (dream.is_open(s)) dream.close(s);
    dream.reset(0, root_frames, root_actions);
    if (k > 1) {
      std::vector<int> dst(k - 1);
      std::iota(dst.begin(), dst.end(), 1);
      dream.fork(0, dst);
    }
  }
  // The reward on arriving in the current state of slots [0, k): the model's reward head, or
  // the scene's reward on the predicted poses (PoseReward; updates fired / ended).
  void step_rewards(worldmodel::DreamBatch& dream, int k, std::vector<float>& out) {
    if (!pose_reward) {
      const auto r = dream.reward();
      std::copy_n(r.data_ptr<float>(), k, out.begin());
      return;
    }
    const std::size_t nf = pose_reward->success_terms();
    std::size_t per = 0;
    const float* pp = nullptr;
    torch::Tensor p;
    if (frame_poses) {
      // The poses the imagined frames show; a body not found keeps its last position.
      per = 2 * bodies.size();
      auto f = dream.frames().slice(0, 0, k).permute({0, 2, 3, 1}).contiguous();
      const std::size_t fsz = static_cast<std::size_t>(f.size(1)) * f.size(2) * 3;
      if (proprio) advance_own(k);
      if (painter) paint_own(dream, f, k);
      if (edge_guard) unsure.assign(static_cast<std::size_t>(k) * found.size(), 0);
      for (int i = 0; i < k; ++i) {
        frame_poses->find(f.data_ptr<std::uint8_t>() + i * fsz,
                          std::span<float>(xy.data() + i * per, per), found,
                          edge_guard ? std::span<std::uint8_t>(border) : std::span<std::uint8_t>());
        if (edge_guard)
          for (std::size_t b = 0; b < found.size(); ++b)
            unsure[i * found.size() + b] = reading_unsure(b);
        // Proprioception: the agent's own bodies are where the actions took them.
        if (proprio) {
          place_own(i, per);
          for (std::size_t b = 0; b < found.size(); ++b)
            if (own_offset[b] >= 0) found[b] = 1;
        }
        // A driven body the imagined frame does not show is lost to the gate for the rest of
        // the plan: where the model draws it again is no evidence of where it is.
        if (contact_gate > 0.0)
          for (std::size_t b = 0; b < found.size(); ++b)
            if (driven[b] && !found[b]) lost[i * found.size() + b] = 1;
      }
      pp = xy.data();
    } else {
      p = dream.poses();  // [capacity, P, 2]
      per = static_cast<std::size_t>(p.size(1)) * 2;
      pp = p.data_ptr<float>();
      if (head_post()) {
        // The pose head's positions, with the agent's own bodies where the plan took them.
        xy.assign(pp, pp + static_cast<std::ptrdiff_t>(k * per));
        if (proprio) {
          advance_own(k);
          for (int i = 0; i < k; ++i) place_own(i, per);
        }
        pp = xy.data();
      }
    }
    // The bodies at rest and behind the contact gate (found in frames, or the pose head's).
    if (rest_tolerance > 0.0 || contact_gate > 0.0) {
      rest_xy.assign(xy.begin(), xy.begin() + static_cast<std::ptrdiff_t>(k * per));
      const std::size_t np = per / 2;
      const double tol2 = rest_tolerance * rest_tolerance, gate2 = contact_gate * contact_gate;
      for (int i = 0; i < k; ++i)
        for (std::size_t b = 0; b < np; ++b) {
          float* q = rest_xy.data() + i * per + 2 * b;
          const float* root = root_xy.data() + 2 * b;
          if (contact_gate > 0.0 && !driven[b]) {
            // Contact gate (set_contact_gate): untouched, the body rests where the root
            // shows it; touched once a driven body is found within the gate of that spot.
            std::uint8_t& t = touched[i * np + b];
            for (std::size_t d = 0; d < np && !t; ++d) {
              if (!driven[d] || lost[i * np + d]) continue;
              const float* o = xy.data() + i * per + 2 * d;
              const double dx = o[0] - root[0], dy = o[1] - root[1];
              t = dx * dx + dy * dy <= gate2;
            }
            if (!t) {
              q[0] = root[0], q[1] = root[1];
              if (edge_guard) unsure[i * np + b] = root_unsure[b];
              continue;
            }
          }
          // A body within the tolerance of its root position rests there (set_rest_tolerance).
          const double dx = q[0] - root[0], dy = q[1] - root[1];
          if (dx * dx + dy * dy <= tol2) q[0] = root[0], q[1] = root[1];
        }
      pp = rest_xy.data();
    }
    none_left.assign(nf, 1);
    for (int i = 0; i < k; ++i) {
      bool terminated = false;
      // Edge guard: a success the frame cannot confirm (a body the scene's reward names is cut
      // by the border or not seen, and no proprioception knows where it is) neither pays nor
      // ends the plan; the distance terms still count.
      bool guarded = false;
      if (edge_guard)
        for (std::size_t b = 0; b < found.size() && !guarded; ++b)
          guarded = !driven[b] && unsure[i * found.size() + b];
      if (guarded) {
        bool ignored = false;
        out[i] = static_cast<float>(
            pose_reward->evaluate(std::span<const float>(pp + i * per, per), none_left, ignored));
        continue;
      }
      out[i] = static_cast<float>(
          pose_reward->evaluate(std::span<const float>(pp + i * per, per),
                                std::span<std::uint8_t>(fired.data() + i * nf, nf), terminated));
      if (terminated) ended[i] = 1;
    }
  }
  // Proprioception: the own bodies of slots [0, k) move by the step's actions (staged in
  // `actions`), as the actuator moves them (World: clamped action x max_speed / control_hz).
  void advance_own(int k) {
    const float* act = actions.data_ptr<float>();
    const std::size_t np = own_offset.size();
    for (int i = 0; i < k; ++i)
      for (std::size_t b = 0; b < np; ++b) {
        if (own_offset[b] < 0) continue;
        float* q = own_xy.data() + (i * np + b) * 2;
        const float* u = act + static_cast<std::size_t>(i) * a + own_offset[b];
        q[0] += std::clamp(u[0], -1.0f, 1.0f) * own_step[b];
        q[1] += std::clamp(u[1], -1.0f, 1.0f) * own_step[b];
      }
  }
  // Proprioception: slot i's own bodies in `xy` ([K, P, 2], `per` = 2P) where the plan took them.
  void place_own(int i, std::size_t per) {
    for (std::size_t b = 0; b < own_offset.size(); ++b)
      if (own_offset[b] >= 0) {
        xy[i * per + 2 * b] = own_xy[i * per + 2 * b];
        xy[i * per + 2 * b + 1] = own_xy[i * per + 2 * b + 1];
      }
  }
  // Own bodies in the frames: slots [0, k) of `f` [k, H, W, 3] u8 repainted with them where
  // they stand, and re-observed by the model in place of its prediction.
  void paint_own(worldmodel::DreamBatch& dream, torch::Tensor& f, int k) {
    const std::size_t np = own_offset.size();
    painted_xy.clear();
    for (int i = 0; i < k; ++i)
      for (std::size_t b = 0; b < np; ++b)
        if (own_offset[b] >= 0) {
          painted_xy.push_back(own_xy[(i * np + b) * 2]);
          painted_xy.push_back(own_xy[(i * np + b) * 2 + 1]);
        }
    painter->paint(f.data_ptr<std::uint8_t>(), k, painted_xy);
    if (!painted.defined()) {  // allocated once: this runs every imagined step
      painted = torch::zeros({capacity, 3, f.size(1), f.size(2)}, torch::kUInt8);
      painted_mask = torch::zeros({capacity}, torch::kBool);
    }
    painted.slice(0, 0, k).copy_(f.permute({0, 3, 1, 2}));
    painted_mask.zero_();
    painted_mask.slice(0, 0, k).fill_(true);
    dream.observe(painted, painted_mask);
  }
  // Edge guard: whether body b of the last find() (found, border) is unsure: not seen, or cut by
  // the border and not read by the edge reader.
  bool reading_unsure(std::size_t b) const {
    return !found[b] || (border[b] && !frame_poses->cut_reading());
  }
  // driven, root_xy and found sized for `bodies`; driven: the bodies an actuator moves.
  void mark_driven() {
    root_xy.assign(2 * bodies.size(), 0.0f);
    found.assign(bodies.size(), 0);
    driven.assign(bodies.size(), 0);
    for (std::size_t b = 0; b < bodies.size(); ++b)
      for (const auto& act : scene->actuators) driven[b] |= act.body == bodies[b];
  }
  // A pose head whose positions are post-processed like found ones (proprioception, the contact
  // gate, the rest tolerance): its reading of the root stands in for the root frame's.
  bool head_post() const {
    return !frame_poses && (proprio || contact_gate > 0.0 || rest_tolerance > 0.0);
  }
  // frame_poses (or head_post()): every slot starts from the root's poses: found in the root's
  // last frame, or the pose head's reading of the root state (slot 0 of `dream`, just opened).
  void start_frame_poses(worldmodel::DreamBatch& dream, int k) {
    if (head_post()) {
      const auto p = dream.poses();  // [capacity, P, 2]; slot 0 is the root
      const float* r = p.data_ptr<float>();
      root_xy.assign(r, r + 2 * bodies.size());
      root_found.assign(bodies.size(), 1);
    } else if (!frame_poses) {
      return;
    }
    xy.resize(static_cast<std::size_t>(k) * root_xy.size());
    for (int i = 0; i < k; ++i)
      std::copy(root_xy.begin(), root_xy.end(), xy.begin() + i * root_xy.size());
    touched.assign(static_cast<std::size_t>(k) * driven.size(), 0);
    lost.resize(static_cast<std::size_t>(k) * driven.size());
    for (int i = 0; i < k; ++i)
      for (std::size_t b = 0; b < driven.size(); ++b)
        lost[i * driven.size() + b] = root_found.empty() || !root_found[b];
    if (!proprio) return;
    if (!own_given)
      throw std::logic_error(
          "DreamPlanModel: proprioception needs set_proprioception_xy() after each set_root()");
    own_xy.resize(xy.size());
    for (int i = 0; i < k; ++i)
      for (std::size_t b = 0; b < driven.size(); ++b) {
        if (own_offset[b] < 0) continue;
        const std::size_t q = (i * driven.size() + b) * 2;
        own_xy[q] = xy[q] = own_root[2 * b];
        own_xy[q + 1] = xy[q + 1] = own_root[2 * b + 1];
        lost[i * driven.size() + b] = 0;
      }
  }
  // The K plans' imagined returns in one member (one batched tick per step).
  void member_returns(worldmodel::DreamBatch& dream, std::span<const float> plans, int k, int l,
                      float gamma, std::vector<double>& returns) {
    open_root(dream, k);
    std::vector<double> alive(k, 1.0), discount(k, 1.0);
    returns.assign(k, 0.0);
    float* act = actions.data_ptr<float>();
    std::vector<float> rewards(k);
    if (pose_reward) {
      fired.assign(static_cast<std::size_t>(k) * pose_reward->success_terms(), 0);
      ended.assign(k, 0);
      start_frame_poses(dream, k);
    }
    for (int s = 0; s < l; ++s) {
      for (int i = 0; i < k; ++i)
        std::copy_n(plans.data() + (static_cast<std::size_t>(i) * l + s) * a, a, act + i * a);
      dream.tick(actions);  // ONE batched step for the K futures
      const auto c = dream.cont();
      const float* cp = c.data_ptr<float>();
      step_rewards(dream, k, rewards);
      for (int i = 0; i < k; ++i) {
        returns[i] += discount[i] * alive[i] * rewards[i];
        alive[i] *= pose_reward && ended[i] ? 0.0 : cp[i];
        discount[i] *= gamma;
      }
    }
    if (terminal_value) {
      const auto v = dream.value();
      const float* vp = v.data_ptr<float>();
      for (int i = 0; i < k; ++i) returns[i] += discount[i] * alive[i] * vp[i];
    }
  }
};

DreamPlanModel::DreamPlanModel(std::shared_ptr<worldmodel::WorldModel> model, int max_candidates,
                               torch::Device device)
    : impl_(std::make_unique<Impl>(std::move(model), std::max(1, max_candidates), device)) {}
DreamPlanModel::~DreamPlanModel() = default;
int DreamPlanModel::action_size() const {
  return impl_->a;
}
int DreamPlanModel::max_candidates() const {
  return impl_->capacity;
}
const worldmodel::ModelInfo& DreamPlanModel::info() const {
  return impl_->members.front()->dream.info();
}

bool DreamPlanModel::use_cuda_graph(bool enable) {
  bool all = true;
  for (auto& m : impl_->members) all = m->dream.use_cuda_graph(enable) && all;
  return all;
}

void DreamPlanModel::set_precision(worldmodel::Precision precision) {
  impl_->precision = precision;
  for (auto& m : impl_->members) m->dream.set_precision(precision);
}

void DreamPlanModel::add_member(std::shared_ptr<worldmodel::WorldModel> model) {
  const auto& first = info();
  const auto& inf = model->info();
  if (inf.height != first.height || inf.width != first.width ||
      inf.action_size != first.action_size)
    throw std::invalid_argument("ensemble: a member has frames " + std::to_string(inf.height) +
                                "x" + std::to_string(inf.width) + " and " +
                                std::to_string(inf.action_size) + " actions, the first model " +
                                std::to_string(first.height) + "x" + std::to_string(first.width) +
                                " and " + std::to_string(first.action_size));
  if (impl_->pose_reward && inf.pose_bodies != first.pose_bodies)
    throw std::invalid_argument(
        "reward from poses: every model needs a pose head for the same bodies; a member added "
        "after set_pose_reward() differs");
  impl_->members.push_back(
      std::make_unique<Impl::Member>(std::move(model), impl_->capacity, impl_->device));
  impl_->members.back()->dream.set_precision(impl_->precision);
}

void DreamPlanModel::set_pessimism(double pessimism) {
  if (!(pessimism >= 0.0))
    throw std::invalid_argument("ensemble: pessimism must be >= 0, got " +
                                std::to_string(pessimism));
  impl_->pessimism = pessimism;
}

void DreamPlanModel::set_terminal_value(bool enable) {
  if (enable)
    for (const auto& m : impl_->members)
      if (!(m->model->info().value_gamma > 0.0))
        throw std::invalid_argument("terminal value: the model (" + m->model->info().family +
                                    ") has no value head (worldmodel/python/train_value.py)");
  impl_->terminal_value = enable;
}

void DreamPlanModel::set_pose_reward(const sim::SceneModel& scene, const ReachShaping* reach) {
  const auto& first = impl_->members.front()->model->info();
  for (const auto& m : impl_->members)
    if (m->model->info().pose_bodies != first.pose_bodies)
      throw std::invalid_argument(
          "reward from poses: every model needs a pose head for the same bodies "
          "(train_latent.py --pose-bodies), or none (poses found in the frames); the members "
          "differ");
  if (first.pose_bodies.empty()) {
    // A frame model: the poses are found in its imagined frames (FramePoses) for the bodies
    // the scene's reward names.
    std::vector<std::string> bodies;
    auto add = [&](const std::string& name) {
      if (!name.empty() && scene.body_index(name) >= 0 &&
          std::find(bodies.begin(), bodies.end(), name) == bodies.end())
        bodies.push_back(name);
    };
    for (const auto& t : scene.reward)
      for (const auto* name : {&t.a, &t.b}) add(*name);
    if (reach)
      for (const auto* name : {&reach->driven_name, &reach->target_name, &reach->goal_name})
        add(*name);
    impl_->scene = std::make_shared<const sim::SceneModel>(scene);
    if (reach) impl_->reach = *reach;
    find_in_frames(std::move(bodies));
    return;
  }
  // A pose head: its bodies' positions, read each step (and at the root, for proprioception,
  // the contact gate and the rest tolerance).
  Impl& m = *impl_;
  m.pose_reward = std::make_unique<PoseReward>(scene, first.pose_bodies, reach);
  m.frame_poses.reset();
  m.scene = std::make_shared<const sim::SceneModel>(scene);
  m.reach = reach ? *reach : ReachShaping{};
  m.bodies = first.pose_bodies;
  m.mark_driven();
  if (m.proprio) set_proprioception(true);  // the bodies changed
}

void DreamPlanModel::find_in_frames(std::vector<std::string> bodies) {
  Impl& m = *impl_;
  const auto& first = m.members.front()->model->info();
  auto frame_poses = std::make_unique<FramePoses>(m.scene, bodies);
  if (frame_poses->height() != first.height || frame_poses->width() != first.width)
    throw std::invalid_argument("reward from poses: the scene renders " +
                                std::to_string(frame_poses->height()) + "x" +
                                std::to_string(frame_poses->width()) + " frames, the model " +
                                std::to_string(first.height) + "x" + std::to_string(first.width));
  m.pose_reward =
      std::make_unique<PoseReward>(*m.scene, bodies, m.reach.weight > 0.0 ? &m.reach : nullptr);
  m.frame_poses = std::move(frame_poses);
  m.bodies = std::move(bodies);
  m.mark_driven();
  m.root_frames = torch::Tensor();          // the root's poses need finding again: set_root() anew
  if (m.proprio) set_proprioception(true);  // the bodies found changed
}

void DreamPlanModel::set_contact_gate(double metres) {
  Impl& m = *impl_;
  if (!std::isfinite(metres) || metres < 0.0)
    throw std::invalid_argument("contact gate: must be a finite number of metres >= 0, got " +
                                std::to_string(metres));
  if (metres > 0.0 && m.bodies.empty())
    throw std::invalid_argument(
        "contact gate: needs the reward from poses (set_pose_reward()): found in frames or a "
        "pose head's");
  if (metres > 0.0 && !m.frame_poses &&
      std::find(m.driven.begin(), m.driven.end(), 1) == m.driven.end())
    throw std::invalid_argument(
        "contact gate: the pose head has no body the actions drive (its bodies: " +
        comma_list(m.bodies) + "; train_latent.py --pose-bodies with the driven one, e.g. pusher)");
  if (metres > 0.0 && m.frame_poses) {
    // The bodies the actions drive are found too (after the reward's, which PoseReward reads).
    std::vector<std::string> bodies = m.frame_poses->bodies();
    bool more = false;
    for (const auto& act : m.scene->actuators)
      if (!act.body.empty() && std::find(bodies.begin(), bodies.end(), act.body) == bodies.end())
        bodies.push_back(act.body), more = true;
    if (std::find(m.driven.begin(), m.driven.end(), 1) == m.driven.end() && !more)
      throw std::invalid_argument("contact gate: scene '" + m.scene->name +
                                  "' has no actuated body to find in the frames (its actuators "
                                  "drive joints)");
    if (more) find_in_frames(std::move(bodies));
  }
  m.contact_gate = metres;
}

void DreamPlanModel::set_proprioception(bool enable) {
  Impl& m = *impl_;
  m.proprio = false;
  m.own_given = false;
  if (!enable) {
    m.painter.reset();
    return;
  }
  if (m.bodies.empty())
    throw std::invalid_argument(
        "proprioception: needs the reward from poses (set_pose_reward()): found in frames or a "
        "pose head's");
  const auto& bodies = m.bodies;
  m.own_offset.assign(bodies.size(), -1);
  m.own_step.assign(bodies.size(), 0.0f);
  m.own_root.assign(2 * bodies.size(), 0.0f);
  bool any = false;
  for (std::size_t b = 0; b < bodies.size(); ++b) {
    if (!m.driven[b]) continue;
    int offset = 0;
    for (const auto& act : m.scene->actuators) {
      if (act.body == bodies[b]) {
        const int bi = m.scene->body_index(bodies[b]);
        if (act.type != sim::ActuatorType::kPlanarVelocity || !m.scene->bodies[bi].kinematic)
          throw std::invalid_argument(
              "proprioception: scene '" + m.scene->name + "', body '" + bodies[b] +
              "': only a kinematic body under a planar_velocity actuator moves exactly as its "
              "actions say; this one is moved by forces");
        m.own_offset[b] = offset;
        m.own_step[b] = static_cast<float>(act.max_speed / m.scene->control_hz);
        any = true;
      }
      offset += act.components;
    }
  }
  if (!any)
    throw std::invalid_argument("proprioception: scene '" + m.scene->name +
                                "' has no body its actions move among those the planner finds "
                                "(set a contact gate, or a reward that names one)");
  m.proprio = true;
  if (m.painter) set_own_body_frames(true);  // the bodies or the finder changed
}

std::vector<std::string> DreamPlanModel::proprioceptive_bodies() const {
  const Impl& m = *impl_;
  std::vector<std::string> out;
  if (!m.proprio) return out;
  for (std::size_t b = 0; b < m.own_offset.size(); ++b)
    if (m.own_offset[b] >= 0) out.push_back(m.bodies[b]);
  return out;
}

void DreamPlanModel::move_own(std::span<float> xy, std::span<const float> action) const {
  const Impl& m = *impl_;
  if (!m.proprio) throw std::logic_error("move_own: proprioception is off");
  if (action.size() != static_cast<std::size_t>(m.a))
    throw std::invalid_argument("move_own: expected " + std::to_string(m.a) + " action values");
  std::size_t q = 0;
  for (std::size_t b = 0; b < m.own_offset.size(); ++b) {
    if (m.own_offset[b] < 0) continue;
    if (2 * q + 1 >= xy.size()) throw std::invalid_argument("move_own: too few x, y values");
    for (int d = 0; d < 2; ++d)
      xy[2 * q + d] += std::clamp(action[m.own_offset[b] + d], -1.0f, 1.0f) * m.own_step[b];
    ++q;
  }
}

void DreamPlanModel::set_proprioception_xy(std::span<const float> xy) {
  Impl& m = *impl_;
  if (!m.proprio) throw std::logic_error("set_proprioception_xy: proprioception is off");
  std::size_t n = 0;
  for (int o : m.own_offset) n += o >= 0;
  if (xy.size() != 2 * n)
    throw std::invalid_argument("proprioception: expected x, y of " + std::to_string(n) +
                                " bodies (" + std::to_string(2 * n) + " values), got " +
                                std::to_string(xy.size()));
  std::size_t q = 0;
  for (std::size_t b = 0; b < m.own_offset.size(); ++b) {
    if (m.own_offset[b] < 0) continue;
    for (int c = 0; c < 2; ++c, ++q) {
      if (!std::isfinite(xy[q]))
        throw std::invalid_argument("proprioception: body '" + m.bodies[b] + "' " +
                                    (c ? "y" : "x") + " is " + std::to_string(xy[q]));
      m.own_root[2 * b + c] = xy[q];
    }
  }
  m.own_given = true;
}

void DreamPlanModel::set_rest_tolerance(double metres) {
  if (!std::isfinite(metres) || metres < 0.0)
    throw std::invalid_argument("rest tolerance: must be a finite number of metres >= 0, got " +
                                std::to_string(metres));
  if (metres > 0.0 && impl_->bodies.empty())
    throw std::invalid_argument(
        "rest tolerance: needs the reward from poses (set_pose_reward()): found in frames or a "
        "pose head's");
  impl_->rest_tolerance = metres;
}

std::optional<std::array<float, 2>> DreamPlanModel::root_position(const std::string& body) const {
  const Impl& m = *impl_;
  if (!m.root_frames.defined())
    throw std::logic_error("DreamPlanModel: set_root() must be called before root_position()");
  if (!m.frame_poses) return std::nullopt;
  const auto& names = m.frame_poses->bodies();
  const auto it = std::find(names.begin(), names.end(), body);
  if (it == names.end()) return std::nullopt;
  const auto b = static_cast<std::size_t>(it - names.begin());
  if (b >= m.root_found.size() || !m.root_found[b]) return std::nullopt;
  return std::array<float, 2>{m.root_xy[2 * b], m.root_xy[2 * b + 1]};
}

bool DreamPlanModel::poses_from_frames() const {
  return impl_->frame_poses != nullptr;
}

void DreamPlanModel::set_markers(std::span<const float> markers_xyz) {
  if (impl_->pose_reward) impl_->pose_reward->set_markers(markers_xyz);
  impl_->markers.assign(markers_xyz.begin(), markers_xyz.end());
  if (impl_->painter) impl_->painter->set_markers(markers_xyz);
}

void DreamPlanModel::set_edge_guard(bool enable) {
  if (enable && !impl_->frame_poses)
    throw std::invalid_argument(
        "edge guard: needs the reward from poses found in frames (set_pose_reward() with a frame "
        "model)");
  impl_->edge_guard = enable;
  impl_->border.assign(impl_->found.size(), 0);
}

void DreamPlanModel::set_edge_reader(bool enable) {
  if (enable && !impl_->frame_poses)
    throw std::invalid_argument(
        "edge reader: needs the reward from poses found in frames (set_pose_reward() with a frame "
        "model)");
  if (impl_->frame_poses) impl_->frame_poses->set_cut_reading(enable);
}

void DreamPlanModel::set_own_body_frames(bool enable) {
  Impl& m = *impl_;
  m.painter.reset();
  if (!enable) return;
  if (!m.proprio)
    throw std::invalid_argument(
        "own bodies in the frames: needs proprioception (set_proprioception())");
  if (!m.frame_poses)
    throw std::invalid_argument(
        "own bodies in the frames: needs the poses found in frames (a model without a pose "
        "head); a pose head reads the latent, not the repainted frame");
  m.painter =
      std::make_unique<OwnBodyPainter>(m.scene, proprioceptive_bodies(), m.frame_poses->finder());
  if (!m.markers.empty()) m.painter->set_markers(m.markers);
}

int DreamPlanModel::members() const {
  return static_cast<int>(impl_->members.size());
}

void DreamPlanModel::set_root(const torch::Tensor& frames, const torch::Tensor& actions) {
  impl_->root_frames = frames;
  impl_->root_actions = actions;
  if (impl_->frame_poses) {
    const auto last = frames[frames.size(0) - 1].permute({1, 2, 0}).contiguous();  // [H, W, 3]
    impl_->border.assign(impl_->found.size(), 0);
    impl_->frame_poses->find(last.data_ptr<std::uint8_t>(), impl_->root_xy, impl_->found,
                             impl_->border);
    impl_->root_found = impl_->found;
    impl_->root_unsure.resize(impl_->found.size());
    for (std::size_t b = 0; b < impl_->found.size(); ++b)
      impl_->root_unsure[b] = impl_->reading_unsure(b);
  }
  impl_->own_given = false;
}

void DreamPlanModel::score(std::span<const float> plans, int k, int l, float gamma,
                           std::span<double> returns) {
  Impl& m = *impl_;
  const auto n = m.members.size();
  std::vector<double> sum(k, 0.0), sum_sq(k, 0.0), r;
  for (auto& member : m.members) {
    m.member_returns(member->dream, plans, k, l, gamma, r);
    for (int i = 0; i < k; ++i) sum[i] += r[i], sum_sq[i] += r[i] * r[i];
  }
  for (int i = 0; i < k; ++i) {
    const double mean = sum[i] / static_cast<double>(n);
    // The population standard deviation over the members (0 for one member).
    const double var = std::max(0.0, sum_sq[i] / static_cast<double>(n) - mean * mean);
    returns[i] = n == 1 ? sum[i] : mean - m.pessimism * std::sqrt(var);
  }
}

std::vector<std::uint8_t> DreamPlanModel::imagine(std::span<const float> plan, int l,
                                                  std::vector<float>* rewards) {
  Impl& m = *impl_;
  auto& dream = m.dream();
  m.open_root(dream, 1);
  const auto& inf = dream.info();
  const std::size_t fsz = static_cast<std::size_t>(inf.height) * inf.width * 3;
  std::vector<std::uint8_t> out(fsz * l);
  if (rewards) rewards->assign(l, 0.0f);
  m.actions.zero_();
  if (m.pose_reward) {
    m.fired.assign(m.pose_reward->success_terms(), 0);
    m.ended.assign(1, 0);
    m.start_frame_poses(dream, 1);
  }
  std::vector<float> r(1);
  for (int s = 0; s < l; ++s) {
    std::copy_n(plan.data() + static_cast<std::size_t>(s) * m.a, m.a, m.actions.data_ptr<float>());
    dream.tick(m.actions);
    m.step_rewards(dream, 1, r);  // (own bodies in the frames: repaints the frame first)
    if (rewards) (*rewards)[s] = r[0];
    const auto f = dream.frames()[0].permute({1, 2, 0}).contiguous();  // [H, W, 3] u8
    std::copy_n(f.data_ptr<std::uint8_t>(), fsz, out.data() + s * fsz);
  }
  return out;
}

// ---- Bullet, the oracle --------------------------------------------------------------------

struct BulletPlanModel::Impl {
  std::shared_ptr<const sim::SceneModel> scene;
  int capacity, a;
  std::vector<sim::World> worlds;  // one per worker
  sim::ThreadPool pool;
  sim::WorldState root;
  bool has_root = false;
  ReachShaping reach;  // weight 0: off
  Impl(std::shared_ptr<const sim::SceneModel> s, int cap, int threads)
      : scene(s), capacity(cap), a(s->action_size()), pool(threads) {
    for (int t = 0; t < threads; ++t) worlds.emplace_back(scene, 0);
  }
};

BulletPlanModel::BulletPlanModel(std::shared_ptr<const sim::SceneModel> scene, int max_candidates,
                                 int threads)
    : impl_(std::make_unique<Impl>(std::move(scene), std::max(1, max_candidates),
                                   std::max(1, threads))) {}
BulletPlanModel::~BulletPlanModel() = default;
int BulletPlanModel::action_size() const {
  return impl_->a;
}
int BulletPlanModel::max_candidates() const {
  return impl_->capacity;
}

void BulletPlanModel::set_root(const sim::WorldState& state) {
  impl_->root = state;
  impl_->has_root = true;
}

void BulletPlanModel::set_reach(const ReachShaping& shaping) {
  const int nb = static_cast<int>(impl_->scene->bodies.size());
  if (shaping.driven < 0 || shaping.driven >= nb || shaping.target < 0 || shaping.target >= nb)
    throw std::invalid_argument("BulletPlanModel: reach shaping names bodies scene '" +
                                impl_->scene->name + "' does not have");
  impl_->reach = shaping;
}

void BulletPlanModel::score(std::span<const float> plans, int k, int l, float gamma,
                            std::span<double> returns) {
  score_outcomes(plans, k, l, gamma, returns, {});
}

void BulletPlanModel::score_outcomes(std::span<const float> plans, int k, int l, float gamma,
                                     std::span<double> returns, std::span<std::uint8_t> success) {
  Impl& m = *impl_;
  if (!m.has_root) throw std::logic_error("BulletPlanModel: set_root() must come before planning");
  // Each candidate starts from the exact root: the result does not depend on the thread count.
  m.pool.parallel_for(k, [&](int begin, int end, int worker) {
    sim::World& w = m.worlds[worker];
    const bool reach = m.reach.weight > 0.0;
    std::vector<float> poses(reach ? m.scene->bodies.size() * 7 : 0);
    std::vector<float> markers(reach ? m.scene->markers.size() * 3 : 0);
    for (int i = begin; i < end; ++i) {
      w.restore_state(m.root);
      if (reach) w.marker_positions(markers);  // markers stay put within an episode
      double ret = 0, discount = 1;
      for (int s = 0; s < l; ++s) {
        const auto res = w.step(plans.subspan((static_cast<std::size_t>(i) * l + s) * m.a, m.a));
        ret += discount * res.reward;
        if (reach) {
          w.poses(poses);
          ret += discount * m.reach.reward(poses, markers);
        }
        discount *= gamma;
        if (res.terminated || res.truncated) break;  // continue = 0 from here on
      }
      returns[i] = ret;
      if (!success.empty()) success[i] = is_success(*m.scene, w) ? 1 : 0;
    }
  });
}

// ---- success -------------------------------------------------------------------------------

bool is_success(const sim::SceneModel& scene, const sim::World& world) {
  const std::size_t nb = scene.bodies.size(), nm = scene.markers.size();
  std::vector<float> poses(nb * 7), markers(nm * 3);
  world.poses(poses);
  world.marker_positions(markers);
  auto point = [&](const std::string& name, const sim::Vec3& offset) -> std::array<double, 3> {
    if (const int b = scene.body_index(name); b >= 0) {
      const float* p = poses.data() + b * 7;
      // Rotate the offset by the body's quaternion (x, y, z, w): v + 2 q x (q x v + w v).
      const double qx = p[3], qy = p[4], qz = p[5], qw = p[6];
      const double vx = offset[0], vy = offset[1], vz = offset[2];
      const double tx = qy * vz - qz * vy + qw * vx, ty = qz * vx - qx * vz + qw * vy,
                   tz = qx * vy - qy * vx + qw * vz;
      return {p[0] + vx + 2 * (qy * tz - qz * ty), p[1] + vy + 2 * (qz * tx - qx * tz),
              p[2] + vz + 2 * (qx * ty - qy * tx)};
    }
    const int m = scene.marker_index(name);
    if (m < 0) return {0, 0, 0};
    return {markers[m * 3], markers[m * 3 + 1], markers[m * 3 + 2]};
  };
  bool any = false;
  for (const auto& t : scene.reward) {
    if (t.type != sim::RewardType::kSuccess) continue;
    any = true;
    const auto pa = point(t.a, t.offset_a);
    const auto pb = t.point ? *t.point : point(t.b, {0, 0, 0});
    double s2 = 0;
    for (int c = 0; c < 3; ++c)
      if (t.axes[c]) s2 += (pa[c] - pb[c]) * (pa[c] - pb[c]);
    if (!(std::sqrt(s2) < t.within)) return false;
  }
  return any;
}

}  // namespace parallax::agents
