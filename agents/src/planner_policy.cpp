// A planner as a policy (planner_policy.hpp).
#include "parallax/agents/planner_policy.hpp"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <stdexcept>

namespace parallax::agents {

PlannerPolicyOptions fast_planner_options() {
  PlannerPolicyOptions o;
  o.planner.kind = PlannerKind::kCem;
  o.planner.candidates = 64;
  o.planner.horizon = 15;
  o.planner.iterations = 4;
  o.planner.elites = 8;
  o.replan_every = 5;
  o.pose_reward = true;
  o.proprioception = true;
  o.contact_gate = 0.09;
  o.reach = 1.0;
  o.reach_behind = 0.08;
  return o;
}

PlannerPolicyOptions pose_planner_options() {
  PlannerPolicyOptions o = fast_planner_options();
  o.contact_gate = 0.0;  // a frame reader's option: the pose-space model has contact dynamics
  return o;
}

std::filesystem::path default_planner_model(const sim::SceneModel& scene) {
  const auto dir = sim::scenes_dir().parent_path() / "models";
  for (const char* suffix : {"-poses.pt", "-latent-poses.pt"}) {
    const auto path = dir / (scene.name + suffix);
    if (std::filesystem::exists(path)) return path;
  }
  return {};
}

struct PlannerPolicy::Env {
  explicit Env(const PlannerOptions& o, int a) : planner(o, a) {}
  Planner planner;
  std::vector<std::vector<std::uint8_t>> seen;   // the last frames perceived, oldest first
  std::vector<std::vector<float>> seen_actions;  // the action before each (zeros at the start)
  std::vector<float> plan;                       // [L, A] the current plan
  std::vector<float> last_action;                // [A] the action played last tick
  int since = -1;                                // ticks since the last decision (-1: none yet)
  int first_interval = 0;  // ticks the episode's first plan is played (stagger: R - seed % R)
  int interval = 0;        // ticks the current plan is played before the next decision
  bool started = false;    // the episode's first frame was perceived
  double imagined = 0;
  // Proprioception: the own bodies' x, y as last given in PolicyInput poses, and where the agent
  // knows them to be now (dead reckoning from its own actions while the given ones stand still).
  std::vector<float> observed_xy, own_xy;
  // A pose-space model: this episode's last root (an unseen cube stays where it was).
  PosePlanModel::Root pose_root;
  bool pose_rooted = false;
};

void PlannerPolicy::check_options(int num_envs) const {
  validate(o_.planner);
  if (o_.planner.finalists != 0)
    throw std::invalid_argument("planner policy: finalists need a judge, which it has not");
  if (o_.replan_every < 1 || o_.replan_every > o_.planner.horizon)
    throw std::invalid_argument("planner policy: replan every must be in [1, horizon], got " +
                                std::to_string(o_.replan_every));
  if (num_envs < 1) throw std::invalid_argument("planner policy: needs at least one env");
}

std::optional<ReachShaping> PlannerPolicy::reach() const {
  if (o_.reach == 0.0) return std::nullopt;
  if (!o_.pose_reward)
    throw std::invalid_argument(
        "planner policy: reach shaping needs the reward from poses (a reward head has no term "
        "for it)");
  return ReachShaping::from_scene(*scene_, o_.reach, o_.reach_behind);
}

PlannerPolicy::PlannerPolicy(std::shared_ptr<const sim::SceneModel> scene,
                             std::shared_ptr<worldmodel::WorldModel> model,
                             PlannerPolicyOptions options, int num_envs)
    : scene_(std::move(scene)), o_(std::move(options)) {
  if (!model) throw std::invalid_argument("planner policy: needs a model");
  check_options(num_envs);
  const auto& info = model->info();
  a_ = scene_->action_size();
  if (info.height != scene_->camera.height || info.width != scene_->camera.width ||
      info.action_size != a_)
    throw std::runtime_error("planner policy: the model expects " + std::to_string(info.height) +
                             "x" + std::to_string(info.width) + " frames and " +
                             std::to_string(info.action_size) + " actions, scene '" + scene_->name +
                             "' has " + std::to_string(scene_->camera.height) + "x" +
                             std::to_string(scene_->camera.width) + " and " + std::to_string(a_));
  height_ = info.height, width_ = info.width;
  context_ = std::max(1, info.context_frames);
  const auto shaping = reach();
  // The same setup as run_plan's dream (dream_agents.cpp), in the same order.
  dream_ = std::make_unique<DreamPlanModel>(model, o_.planner.candidates, torch::Device(o_.device));
  if (o_.pose_reward) dream_->set_pose_reward(*scene_, shaping ? &*shaping : nullptr);
  dream_->set_rest_tolerance(o_.rest_tolerance);
  dream_->set_contact_gate(o_.contact_gate);
  dream_->set_proprioception(o_.proprioception);
  dream_->set_precision(o_.precision);
  if (o_.proprioception)
    for (const auto& name : dream_->proprioceptive_bodies())
      own_.push_back(scene_->body_index(name));
  for (int i = 0; i < num_envs; ++i) envs_.push_back(std::make_unique<Env>(o_.planner, a_));
}

PlannerPolicy::PlannerPolicy(std::shared_ptr<const sim::SceneModel> scene,
                             std::shared_ptr<const PoseDynamics> model,
                             PlannerPolicyOptions options, int num_envs)
    : scene_(std::move(scene)), o_(std::move(options)) {
  if (!model) throw std::invalid_argument("planner policy: needs a model");
  o_.pose_reward = o_.proprioception = true;
  check_options(num_envs);
  if (o_.rest_tolerance != 0.0 || o_.contact_gate != 0.0)
    throw std::invalid_argument(
        "planner policy: the rest tolerance and the contact gate are options of frame readers, "
        "not of a pose-space model");
  if (o_.precision != worldmodel::Precision::kF32)
    throw std::invalid_argument("planner policy: a pose-space model runs in f32 only");
  a_ = scene_->action_size();
  height_ = scene_->camera.height, width_ = scene_->camera.width;
  context_ = 2;  // the cube now and a tick before
  const auto shaping = reach();
  pose_ = std::make_unique<PosePlanModel>(scene_, model, o_.planner.candidates,
                                          shaping ? &*shaping : nullptr);
  own_.push_back(scene_->body_index(model->driver()));
  for (int i = 0; i < num_envs; ++i) envs_.push_back(std::make_unique<Env>(o_.planner, a_));
}

PlannerPolicy::~PlannerPolicy() = default;

void PlannerPolicy::reset(int env, std::uint64_t seed) {
  if (env < 0 || env >= static_cast<int>(envs_.size()))
    throw std::invalid_argument("planner policy: env " + std::to_string(env) + " out of range");
  auto& e = *envs_[env];
  e.planner.reset(seed);
  e.seen.clear();
  e.seen_actions.clear();
  e.plan.clear();
  e.last_action.assign(a_, 0.0f);
  e.since = -1;
  e.started = false;
  e.observed_xy.clear();
  e.own_xy.clear();
  e.pose_rooted = false;
  e.imagined = 0;
  const int r = o_.replan_every;
  e.first_interval = o_.stagger ? r - static_cast<int>(seed % static_cast<std::uint64_t>(r)) : r;
}

void PlannerPolicy::act(const PolicyInput& in, std::span<float> actions) {
  const int n = static_cast<int>(envs_.size());
  if (in.num_envs != n)
    throw std::invalid_argument("planner policy: made for " + std::to_string(n) + " envs, got " +
                                std::to_string(in.num_envs));
  if (in.frames.empty() || in.height != height_ || in.width != width_)
    throw std::invalid_argument("planner policy: needs the perceived frames (" +
                                std::to_string(height_) + "x" + std::to_string(width_) + ")");
  const std::size_t fsz = static_cast<std::size_t>(height_) * width_ * 3;
  const std::size_t nb = scene_->bodies.size(), nm = scene_->markers.size();
  last_decisions_ = 0;
  last_ms_ = 0;
  for (int i = 0; i < n; ++i) {
    auto& e = *envs_[i];
    // What it perceives now: this frame, after the action it played last (none at the start).
    // Once C frames are held, the oldest buffers are rotated to the back and overwritten.
    if (static_cast<int>(e.seen.size()) < context_) {
      e.seen.emplace_back(fsz);
      e.seen_actions.emplace_back(a_);
    } else {
      std::rotate(e.seen.begin(), e.seen.begin() + 1, e.seen.end());
      std::rotate(e.seen_actions.begin(), e.seen_actions.begin() + 1, e.seen_actions.end());
    }
    std::copy_n(in.frames.begin() + static_cast<std::ptrdiff_t>(i * fsz), fsz,
                e.seen.back().begin());
    if (e.started)
      e.seen_actions.back() = e.last_action;
    else
      std::fill(e.seen_actions.back().begin(), e.seen_actions.back().end(), 0.0f);
    e.started = true;
    if (!own_.empty()) {
      // Its own bodies: where it is told they are when that changes (a true observation: every
      // tick outside the arena's dream mode), else moved on by the action it played.
      given_.resize(2 * own_.size());
      for (std::size_t q = 0; q < own_.size(); ++q) {
        const std::size_t at = (static_cast<std::size_t>(i) * nb + own_[q]) * 7;
        given_[2 * q] = in.poses[at], given_[2 * q + 1] = in.poses[at + 1];
      }
      if (given_ != e.observed_xy) {
        e.observed_xy = given_;
        e.own_xy = given_;
      } else if (pose_) {
        pose_->move_driver(e.own_xy, e.last_action);
      } else {
        dream_->move_own(e.own_xy, e.last_action);
      }
    }
    if (e.since < 0 || e.since >= e.interval) {
      if (e.since > 0) e.planner.shift(e.since);
      // The episode's first plan is replanned after first_interval ticks, the others after R.
      e.interval = e.since < 0 ? e.first_interval : o_.replan_every;
      const int c = static_cast<int>(e.seen.size());
      const auto markers = [&] {
        return in.markers.subspan(static_cast<std::size_t>(i) * nm * 3, nm * 3);
      };
      // Reading the root is part of the decision's time (the pose-space model reads the cube
      // in the frames).
      const auto t0 = std::chrono::steady_clock::now();
      PlanModel* model = nullptr;
      if (pose_) {
        flat_.resize(c * fsz);
        for (int q = 0; q < c; ++q) std::copy_n(e.seen[q].data(), fsz, flat_.data() + q * fsz);
        pose_->set_markers(markers());
        pose_->set_root(flat_.data(), c, e.own_xy, e.seen_actions.back(),
                        e.pose_rooted ? &e.pose_root : nullptr);
        e.pose_root = pose_->root();
        e.pose_rooted = true;
        model = pose_.get();
      } else {
        auto f = torch::empty({c, height_, width_, 3}, torch::kUInt8);
        auto act = torch::empty({c, a_}, torch::kFloat32);
        for (int q = 0; q < c; ++q) {
          std::copy_n(e.seen[q].data(), fsz, f.data_ptr<std::uint8_t>() + q * fsz);
          std::copy_n(e.seen_actions[q].data(), a_, act.data_ptr<float>() + q * a_);
        }
        dream_->set_root(f.permute({0, 3, 1, 2}).contiguous(), act);
        if (!own_.empty()) dream_->set_proprioception_xy(e.own_xy);
        if (o_.pose_reward) dream_->set_markers(markers());
        model = dream_.get();
      }
      const auto chosen = e.planner.plan(*model);
      const double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      e.plan.assign(chosen.begin(), chosen.end());
      e.imagined = e.planner.best_return();
      e.since = 0;
      ++last_decisions_;
      last_ms_ += ms;
      decision_ms_.push_back(ms);
    }
    const float* act = e.plan.data() + static_cast<std::size_t>(e.since) * a_;
    std::copy_n(act, a_, actions.data() + static_cast<std::size_t>(i) * a_);
    e.last_action.assign(act, act + a_);
    ++e.since;
  }
}

std::vector<float> PlannerPolicy::own_position(int env) const {
  if (env < 0 || env >= static_cast<int>(envs_.size()))
    throw std::invalid_argument("planner policy: env " + std::to_string(env) + " out of range");
  return envs_[env]->own_xy;
}

double PlannerPolicy::imagined_return(int env) const {
  if (env < 0 || env >= static_cast<int>(envs_.size()))
    throw std::invalid_argument("planner policy: env " + std::to_string(env) + " out of range");
  return envs_[env]->imagined;
}

}  // namespace parallax::agents
