#include "parallax/agents/arena.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <thread>

#include <torch/torch.h>

#include "parallax/agents/metrics.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/sim/world_batch.hpp"
#include "parallax/worldmodel/dream_batch.hpp"

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
  std::shared_ptr<const sim::SceneModel> scene;
  ArenaOptions options;
  int n = 0, a = 0, h = 0, w = 0;
  int ticks = 0;
  sim::WorldBatch worlds;
  sim::Renderer renderer;
  worldmodel::DreamBatch dream;
  std::unique_ptr<Policy> policy;
  torch::Device device;

  std::vector<float> actions;          // [N, A] f32 in [-1, 1]
  std::vector<float> colors;           // [N, K, 3] f32 per-env body colours (randomised appearance)
  std::vector<float> scales;           // [N, K] f32 per-env body size scales
  std::vector<std::uint8_t> true_rgb;  // [N, H, W, 3] u8
  std::vector<std::uint8_t> pred_rgb;  // [N, H, W, 3] u8
  std::vector<StepMetrics> metrics;    // [N]
  std::vector<float> true_reward;      // [N] f32, last tick's reward in Bullet
  std::vector<float> pred_reward;      // [N] f32, last tick's reward in the dream
  std::vector<double> ret_true, ret_pred;  // [N] returns since each env's last reset
  // kDream: the true state at the agent's last true observation, per env (PolicyInput layout).
  std::vector<float> seen_poses, seen_markers, seen_velocities, seen_joints;
  torch::Tensor true_nchw;  // [N, 3, H, W] u8 CPU, the true frames as the model reads them

  Impl(std::shared_ptr<const sim::SceneModel> s, std::shared_ptr<worldmodel::WorldModel> model,
       ArenaOptions o)
      : scene(std::move(s)),
        options(std::move(o)),
        n(options.num_envs),
        a(scene->action_size()),
        worlds(scene, options.num_envs, options.seed, sim::resolve_threads(options.threads)),
        renderer(scene, sim::RenderOptions{.width = 0,
                                           .height = 0,
                                           .spp = 1,
                                           .shadows = true,
                                           .threads = sim::resolve_threads(options.threads)}),
        dream(model, options.num_envs, torch::Device(options.device)),
        policy(make_policy(options.policy, scene, options.num_envs, options.seed)),
        device(options.device) {
    h = renderer.height();
    w = renderer.width();
    check_mode(options.mode, options.resync_every);
    actions.assign(static_cast<std::size_t>(n) * a, 0.0f);
    const std::size_t k = scene->bodies.size();
    colors.assign(static_cast<std::size_t>(n) * k * 3, 0.0f);
    scales.assign(static_cast<std::size_t>(n) * k, 1.0f);
    true_rgb.assign(static_cast<std::size_t>(n) * h * w * 3, 0);
    pred_rgb.assign(true_rgb.size(), 0);
    true_nchw = torch::empty({n, 3, h, w}, torch::kUInt8);
    metrics.resize(n);
    true_reward.assign(n, 0.0f);
    pred_reward.assign(n, 0.0f);
    ret_true.assign(n, 0.0);
    ret_pred.assign(n, 0.0);
  }

  // The agent observes env i's true state now (kDream keeps it until the next observation).
  void see_truth(int i) {
    copy_rows(worlds.poses(), seen_poses, i, n);
    copy_rows(worlds.marker_positions(), seen_markers, i, n);
    copy_rows(worlds.velocities(), seen_velocities, i, n);
    copy_rows(worlds.joint_states(), seen_joints, i, n);
  }
  void see_truth_all() {
    for (int i = 0; i < n; ++i) see_truth(i);
  }

  // Renders every env's current state, with its own body colours and sizes.
  void render_true() {
    const std::size_t k = scene->bodies.size();
    for (int i = 0; i < n; ++i) {
      worlds.world(i).body_colors(std::span(colors).subspan(i * k * 3, k * 3));
      worlds.world(i).body_size_scales(std::span(scales).subspan(i * k, k));
    }
    renderer.render(n, worlds.poses().data(), worlds.marker_positions().data(), colors.data(),
                    scales.data(), true_rgb.data(), nullptr);
  }

  // True frames [N, H, W, 3] u8 -> the preallocated [N, 3, H, W] u8 tensor (channel-first, as
  // the model reads them); no allocation per tick.
  const torch::Tensor& true_tensor() {
    true_nchw.copy_(
        torch::from_blob(true_rgb.data(), {n, h, w, 3}, torch::kUInt8).permute({0, 3, 1, 2}));
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
    worlds.reset();
    for (int i = 0; i < n; ++i) policy->reset(i, options.seed + static_cast<std::uint64_t>(i));
    render_true();
    const torch::Tensor frames = true_tensor();
    for (int i = 0; i < n; ++i) seed_slot(i, frames);
    fetch_predictions();
    std::fill(true_reward.begin(), true_reward.end(), 0.0f);
    std::fill(pred_reward.begin(), pred_reward.end(), 0.0f);
    std::fill(ret_true.begin(), ret_true.end(), 0.0);
    std::fill(ret_pred.begin(), ret_pred.end(), 0.0);
    see_truth_all();
    ticks = 0;
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

  void set_policy(const std::string& name) {
    auto next = make_policy(name, scene, n, options.seed);  // throws before anything changes
    for (int i = 0; i < n; ++i) next->reset(i, options.seed + static_cast<std::uint64_t>(i));
    policy = std::move(next);
    options.policy = name;
  }

  void refresh_frame_metrics(StepMetrics& m, int i) const {
    const std::size_t frame = static_cast<std::size_t>(h) * w * 3;
    const std::uint8_t* t = true_rgb.data() + i * frame;
    const std::uint8_t* p = pred_rgb.data() + i * frame;
    m.mse = frame_mse(t, p, h, w);
    m.psnr = psnr_from_mse(m.mse);
    m.ssim = frame_ssim(t, p, h, w);
  }

  // Steps with caller-chosen actions [N, A].
  std::span<const StepMetrics> step(std::span<const float> act) {
    if (act.size() != actions.size())
      throw std::invalid_argument("arena: expected " + std::to_string(actions.size()) +
                                  " action values [N=" + std::to_string(n) + ", A=" +
                                  std::to_string(a) + "], got " + std::to_string(act.size()));
    std::copy(act.begin(), act.end(), actions.begin());
    return step_current();
  }

  // Steps with the actions already in `actions`.
  std::span<const StepMetrics> step_current() {
    // 1. Physics and true frames.
    worlds.step(actions);
    render_true();
    // 2. One batched dream step for every env with the same actions.
    dream.tick(
        torch::from_blob(actions.data(), {n, a}, torch::kFloat32));  // copied into its staging
    const auto reset_mask = worlds.reset_mask();
    ++ticks;
    const bool resync = (options.mode == ArenaMode::kResync || options.mode == ArenaMode::kDream) &&
                        options.resync_every > 0 && ticks % options.resync_every == 0;
    const torch::Tensor frames = true_tensor();
    if (resync) {
      dream.observe(frames, torch::ones({n}, torch::kBool));
    }
    for (int i = 0; i < n; ++i) {
      if (reset_mask[i]) {
        seed_slot(i, frames);
        policy->reset(i, options.seed + static_cast<std::uint64_t>(i) +
                             static_cast<std::uint64_t>(ticks) * 7919u);
      }
    }
    fetch_predictions();
    // 3. What the agent saw (kDream: the truth only at resets and resyncs).
    if (options.mode == ArenaMode::kDream)
      for (int i = 0; i < n; ++i)
        if (resync || reset_mask[i]) see_truth(i);
    // 4. Metrics per env.
    for (int i = 0; i < n; ++i) {
      StepMetrics& m = metrics[i];
      m.tick = ticks;
      m.env = i;
      m.reset = reset_mask[i] != 0;
      m.reward_true = worlds.rewards()[i];
      m.reward_pred = pred_reward[i];
      true_reward[i] = m.reward_true;
      ret_true[i] = m.reset ? 0.0 : ret_true[i] + m.reward_true;
      ret_pred[i] = m.reset ? 0.0 : ret_pred[i] + m.reward_pred;
      m.return_true = ret_true[i];
      m.return_pred = ret_pred[i];
      m.terminated = worlds.terminated()[i] != 0;
      m.truncated = worlds.truncated()[i] != 0;
      refresh_frame_metrics(m, i);
    }
    return metrics;
  }

  std::span<const StepMetrics> step_with_policy() {
    const bool dreaming = options.mode == ArenaMode::kDream;
    const PolicyInput in{
        .num_envs = n,
        .action_size = a,
        .poses = dreaming ? std::span<const float>(seen_poses) : worlds.poses(),
        .markers = dreaming ? std::span<const float>(seen_markers) : worlds.marker_positions(),
        .velocities = dreaming ? std::span<const float>(seen_velocities) : worlds.velocities(),
        .joint_states = dreaming ? std::span<const float>(seen_joints) : worlds.joint_states(),
        .frames = dreaming ? std::span<const std::uint8_t>(pred_rgb)
                           : std::span<const std::uint8_t>(true_rgb),
        .height = h,
        .width = w,
        .rewards =
            dreaming ? std::span<const float>(pred_reward) : std::span<const float>(true_reward)};
    policy->act(in, actions);
    return step_current();
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
  return impl_->ticks;
}
const sim::SceneModel& Arena::scene() const {
  return *impl_->scene;
}
std::span<const std::uint8_t> Arena::true_frames() const {
  return impl_->true_rgb;
}
std::span<const std::uint8_t> Arena::predicted_frames() const {
  return impl_->pred_rgb;
}
std::span<const float> Arena::last_actions() const {
  return impl_->actions;
}
ArenaMode Arena::mode() const {
  return impl_->options.mode;
}
int Arena::resync_every() const {
  return impl_->options.resync_every;
}
const std::string& Arena::policy_name() const {
  return impl_->options.policy;
}
void Arena::set_mode(ArenaMode mode, int resync_every) {
  impl_->set_mode(mode, resync_every);
}
void Arena::resync_now() {
  impl_->resync_now();
}
void Arena::set_policy(const std::string& name) {
  impl_->set_policy(name);
}
worldmodel::DreamBatch& Arena::dream() {
  return impl_->dream;
}
const worldmodel::DreamBatch& Arena::dream() const {
  return impl_->dream;
}
sim::WorldBatch& Arena::worlds() {
  return impl_->worlds;
}
const sim::WorldBatch& Arena::worlds() const {
  return impl_->worlds;
}

}  // namespace parallax::agents
