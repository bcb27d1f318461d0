#include "parallax/agents/arena.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <torch/torch.h>

#include "parallax/agents/metrics.hpp"
#include "parallax/agents/policy.hpp"

namespace parallax::agents {

ArenaMode arena_mode_from_string(const std::string& name) {
  if (name == "mirror") return ArenaMode::kMirror;
  if (name == "resync") return ArenaMode::kResync;
  if (name == "dream") return ArenaMode::kDream;
  throw std::invalid_argument("arena mode \"" + name +
                              "\": unknown (expected mirror, resync or dream)");
}

const char* to_string(ArenaMode mode) {
  switch (mode) {
    case ArenaMode::kMirror:
      return "mirror";
    case ArenaMode::kResync:
      return "resync";
    case ArenaMode::kDream:
      return "dream";
  }
  return "?";
}

namespace {

void check_mode(ArenaMode mode, int resync_every) {
  if (mode == ArenaMode::kResync && resync_every <= 0)
    throw std::invalid_argument("arena: resync mode needs resync_every > 0, got " +
                                std::to_string(resync_every));
  if (mode == ArenaMode::kDream && resync_every < 0)
    throw std::invalid_argument("arena: dream mode needs resync_every >= 0, got " +
                                std::to_string(resync_every));
}

// Copies env i's rows of src [N, X] into dst [N, X].
void copy_rows(std::span<const float> src, std::vector<float>& dst, int i, int n) {
  if (src.empty()) return;
  const std::size_t row = src.size() / static_cast<std::size_t>(n);
  dst.resize(src.size());
  std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(i * row), row,
              dst.begin() + static_cast<std::ptrdiff_t>(i * row));
}

}  // namespace

struct Arena::Impl {
  Rollout rollout;  // the engine: physics, true frames, policy, records
  ArenaOptions options;
  int n = 0, a = 0, h = 0, w = 0;
  worldmodel::DreamBatch dream;

  std::vector<std::uint8_t> pred_rgb;  // [N, H, W, 3] u8
  std::vector<StepMetrics> metrics;    // [N]
  std::vector<float> pred_reward;      // [N] f32, last tick's reward in the dream
  std::vector<double> ret_pred;        // [N] predicted returns since each env's last reset
  // kDream: the true state at the agent's last true observation, per env (PolicyInput layout).
  std::vector<float> seen_poses, seen_markers, seen_velocities, seen_joints;
  torch::Tensor true_nchw;  // [N, 3, H, W] u8 CPU, the true frames as the model reads them

  Impl(std::shared_ptr<const sim::SceneModel> s, std::shared_ptr<worldmodel::WorldModel> model,
       ArenaOptions o)
      : rollout(
            std::move(s),
            RolloutOptions{
                .num_envs = o.num_envs, .seed = o.seed, .threads = o.threads, .policy = o.policy}),
        options(std::move(o)),
        n(options.num_envs),
        a(rollout.action_size()),
        h(rollout.height()),
        w(rollout.width()),
        dream(std::move(model), options.num_envs, torch::Device(options.device)) {
    check_mode(options.mode, options.resync_every);
    dream.set_precision(options.precision);
    pred_rgb.assign(rollout.frames().size(), 0);
    true_nchw = torch::empty({n, 3, h, w}, torch::kUInt8);
    metrics.resize(n);
    pred_reward.assign(n, 0.0f);
    ret_pred.assign(n, 0.0);
  }

  sim::WorldBatch& worlds() { return rollout.worlds(); }

  // The agent observes env i's true state now (kDream keeps it until the next observation).
  void see_truth(int i) {
    copy_rows(worlds().poses(), seen_poses, i, n);
    copy_rows(worlds().marker_positions(), seen_markers, i, n);
    copy_rows(worlds().velocities(), seen_velocities, i, n);
    copy_rows(worlds().joint_states(), seen_joints, i, n);
  }
  void see_truth_all() {
    for (int i = 0; i < n; ++i) see_truth(i);
  }

  // True frames [N, H, W, 3] u8 -> the preallocated [N, 3, H, W] u8 tensor (channel-first, as
  // the model reads them); no allocation per tick.
  const torch::Tensor& true_tensor() {
    true_nchw.copy_(torch::from_blob(const_cast<std::uint8_t*>(rollout.frames().data()),
                                     {n, h, w, 3}, torch::kUInt8)
                        .permute({0, 3, 1, 2}));
    return true_nchw;
  }

  void seed_slot(int env, const torch::Tensor& frames_nchw) {
    // Context: the env's current true frame; the action before it is zero (episode start).
    dream.reset(env, frames_nchw.index({torch::indexing::Slice(env, env + 1)}),
                torch::zeros({1, a}, torch::kFloat32));
  }

  void fetch_predictions() {
    const torch::Tensor pred = dream.frames().permute({0, 2, 3, 1}).contiguous();  // [N, H, W, 3]
    std::copy_n(pred.data_ptr<std::uint8_t>(), pred_rgb.size(), pred_rgb.data());
    const torch::Tensor r = dream.reward().to(torch::kCPU).to(torch::kFloat32).contiguous();
    std::copy_n(r.data_ptr<float>(), n, pred_reward.data());
  }

  void reset() {
    rollout.reset();
    const torch::Tensor frames = true_tensor();
    for (int i = 0; i < n; ++i) seed_slot(i, frames);
    fetch_predictions();
    std::fill(pred_reward.begin(), pred_reward.end(), 0.0f);
    std::fill(ret_pred.begin(), ret_pred.end(), 0.0);
    see_truth_all();
  }

  void set_mode(ArenaMode mode, int resync_every) {
    check_mode(mode, resync_every);
    if (mode == ArenaMode::kDream && options.mode != ArenaMode::kDream) see_truth_all();
    options.mode = mode;
    options.resync_every = resync_every;
  }

  void resync_now() {
    dream.observe(true_tensor(), torch::ones({n}, torch::kBool));
    fetch_predictions();
    see_truth_all();
    for (int i = 0; i < n; ++i) refresh_frame_metrics(metrics[i], i);
  }

  void refresh_frame_metrics(StepMetrics& m, int i) const {
    const std::size_t frame = static_cast<std::size_t>(h) * w * 3;
    const std::uint8_t* t = rollout.frames().data() + i * frame;
    const std::uint8_t* p = pred_rgb.data() + i * frame;
    m.mse = frame_mse(t, p, h, w);
    m.psnr = psnr_from_mse(m.mse);
    m.ssim = frame_ssim(t, p, h, w);
  }

  // After the engine stepped Bullet: one batched dream step with the same actions, resync and
  // re-seeding, and the metrics of (true, predicted).
  std::span<const StepMetrics> after_step(std::span<const RolloutStep> steps) {
    const auto actions = rollout.actions();
    dream.tick(torch::from_blob(const_cast<float*>(actions.data()), {n, a},
                                torch::kFloat32));  // copied into its staging
    const int ticks = rollout.ticks();
    const bool resync = (options.mode == ArenaMode::kResync || options.mode == ArenaMode::kDream) &&
                        options.resync_every > 0 && ticks % options.resync_every == 0;
    const torch::Tensor frames = true_tensor();
    if (resync) dream.observe(frames, torch::ones({n}, torch::kBool));
    for (int i = 0; i < n; ++i)
      if (steps[i].reset) seed_slot(i, frames);
    fetch_predictions();
    // What the agent saw (kDream: the truth only at resets and resyncs).
    if (options.mode == ArenaMode::kDream)
      for (int i = 0; i < n; ++i)
        if (resync || steps[i].reset) see_truth(i);
    for (int i = 0; i < n; ++i) {
      const RolloutStep& r = steps[i];
      StepMetrics& m = metrics[i];
      m.tick = r.tick;
      m.env = i;
      m.reset = r.reset;
      m.reward_true = r.reward;
      m.reward_pred = pred_reward[i];
      ret_pred[i] = m.reset ? 0.0 : ret_pred[i] + m.reward_pred;
      m.return_true = r.ret;
      m.return_pred = ret_pred[i];
      m.terminated = r.terminated;
      m.truncated = r.truncated;
      refresh_frame_metrics(m, i);
    }
    return metrics;
  }

  std::span<const StepMetrics> step(std::span<const float> act) {
    if (act.size() != static_cast<std::size_t>(n) * a)
      throw std::invalid_argument(
          "arena: expected " + std::to_string(n * a) + " action values [N=" + std::to_string(n) +
          ", A=" + std::to_string(a) + "], got " + std::to_string(act.size()));
    return after_step(rollout.step_actions(act));
  }

  std::span<const StepMetrics> step_with_policy() {
    if (options.mode != ArenaMode::kDream) return after_step(rollout.step());
    PolicyInput in = rollout.true_input();
    in.poses = seen_poses;
    in.markers = seen_markers;
    in.velocities = seen_velocities;
    in.joint_states = seen_joints;
    in.frames = pred_rgb;
    in.rewards = pred_reward;
    return after_step(rollout.step(in));
  }
};

Arena::Arena(std::shared_ptr<const sim::SceneModel> scene,
             std::shared_ptr<worldmodel::WorldModel> model, ArenaOptions options)
    : impl_(std::make_unique<Impl>(std::move(scene), std::move(model), std::move(options))) {
  impl_->reset();
}
Arena::Arena(std::shared_ptr<const sim::SceneModel> scene, worldmodel::RSSM model,
             ArenaOptions options)
    : Arena(std::move(scene), worldmodel::make_rssm_world_model(std::move(model)),
            std::move(options)) {}
Arena::~Arena() = default;

void Arena::reset() {
  impl_->reset();
}
std::span<const StepMetrics> Arena::tick() {
  return impl_->step_with_policy();
}
std::span<const StepMetrics> Arena::tick(std::span<const float> actions) {
  return impl_->step(actions);
}
int Arena::num_envs() const {
  return impl_->n;
}
int Arena::action_size() const {
  return impl_->a;
}
int Arena::width() const {
  return impl_->w;
}
int Arena::height() const {
  return impl_->h;
}
int Arena::ticks() const {
  return impl_->rollout.ticks();
}
const sim::SceneModel& Arena::scene() const {
  return impl_->rollout.scene();
}
std::span<const std::uint8_t> Arena::true_frames() const {
  return impl_->rollout.frames();
}
std::span<const std::uint8_t> Arena::predicted_frames() const {
  return impl_->pred_rgb;
}
std::span<const float> Arena::last_actions() const {
  return impl_->rollout.actions();
}
ArenaMode Arena::mode() const {
  return impl_->options.mode;
}
int Arena::resync_every() const {
  return impl_->options.resync_every;
}
const std::string& Arena::policy_name() const {
  return impl_->rollout.policy_name();
}
void Arena::set_mode(ArenaMode mode, int resync_every) {
  impl_->set_mode(mode, resync_every);
}
void Arena::resync_now() {
  impl_->resync_now();
}
void Arena::set_policy(std::unique_ptr<Policy> policy, const std::string& name) {
  impl_->rollout.set_policy(std::move(policy), name);
}
void Arena::set_policy(const std::string& name) {
  impl_->rollout.set_policy(name);
}
worldmodel::DreamBatch& Arena::dream() {
  return impl_->dream;
}
const worldmodel::DreamBatch& Arena::dream() const {
  return impl_->dream;
}
sim::WorldBatch& Arena::worlds() {
  return impl_->rollout.worlds();
}
const sim::WorldBatch& Arena::worlds() const {
  return impl_->rollout.worlds();
}
Rollout& Arena::rollout() {
  return impl_->rollout;
}
const Rollout& Arena::rollout() const {
  return impl_->rollout;
}

}  // namespace parallax::agents
