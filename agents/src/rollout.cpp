// The rollout engine (rollout.hpp): physics, rendering, policy, records.
#include "parallax/agents/rollout.hpp"

#include <algorithm>
#include <stdexcept>

#include "parallax/sim/thread_pool.hpp"

namespace parallax::agents {

struct Rollout::Impl {
  std::shared_ptr<const sim::SceneModel> scene;
  RolloutOptions options;
  int n = 0, a = 0;
  int ticks = 0;
  sim::WorldBatch worlds;
  sim::Renderer renderer;
  std::unique_ptr<Policy> policy;
  std::vector<float> actions;        // [N, A] f32 in [-1, 1]
  std::vector<std::uint8_t> rgb;     // [N, H, W, 3] u8
  std::vector<std::uint8_t> ids;     // [N, H, W] u8 (options.ids) or empty
  std::vector<RolloutStep> records;  // [N]
  std::vector<float> rewards;        // [N] f32, last step's (0 after reset)
  std::vector<int> episode_step;     // [N]
  std::vector<double> ret;           // [N]

  Impl(std::shared_ptr<const sim::SceneModel> s, RolloutOptions o)
      : scene(std::move(s)),
        options(std::move(o)),
        n(options.num_envs),
        a(scene->action_size()),
        worlds(scene, options.num_envs, options.seed, sim::resolve_threads(options.threads)),
        renderer(scene, sim::RenderOptions{.threads = sim::resolve_threads(options.threads)}),
        policy(make_policy(options.policy, scene, options.num_envs, options.seed)) {
    const std::size_t pixels = static_cast<std::size_t>(n) * renderer.height() * renderer.width();
    actions.assign(static_cast<std::size_t>(n) * a, 0.0f);
    rgb.assign(pixels * 3, 0);
    if (options.ids) ids.assign(pixels, 0);
    records.resize(n);
    rewards.assign(n, 0.0f);
    episode_step.assign(n, 0);
    ret.assign(n, 0.0);
  }

  void render() {
    renderer.render(worlds.render_inputs(), rgb.data(), ids.empty() ? nullptr : ids.data());
  }

  // The seed rule (docs/agents.md "Seeds"): a policy starts each episode on its reset seed.
  void start_policy(int env) {
    policy->reset(env, worlds.episode_seeds()[static_cast<std::size_t>(env)]);
  }

  void reset() {
    worlds.reset();
    for (int i = 0; i < n; ++i) start_policy(i);
    render();
    std::fill(actions.begin(), actions.end(), 0.0f);
    std::fill(rewards.begin(), rewards.end(), 0.0f);
    std::fill(episode_step.begin(), episode_step.end(), 0);
    std::fill(ret.begin(), ret.end(), 0.0);
    for (int i = 0; i < n; ++i)
      records[i] = RolloutStep{.env = i, .episode_seed = worlds.episode_seeds()[i]};
    ticks = 0;
  }

  PolicyInput true_input() const {
    return PolicyInput{.num_envs = n,
                       .action_size = a,
                       .poses = worlds.poses(),
                       .markers = worlds.marker_positions(),
                       .velocities = worlds.velocities(),
                       .joint_states = worlds.joint_states(),
                       .frames = rgb,
                       .height = renderer.height(),
                       .width = renderer.width(),
                       .rewards = rewards};
  }

  std::span<const RolloutStep> step_current() {
    for (float& v : actions) v = std::clamp(v, -1.0f, 1.0f);  // what the sim applies
    worlds.step(actions);
    render();
    ++ticks;
    const auto reset_mask = worlds.reset_mask();
    for (int i = 0; i < n; ++i) {
      const auto u = static_cast<std::size_t>(i);
      RolloutStep& r = records[u];
      r.tick = ticks;
      r.env = i;
      r.reset = reset_mask[u] != 0;
      r.episode_seed = worlds.episode_seeds()[u];
      r.reward = worlds.rewards()[u];
      r.terminated = worlds.terminated()[u] != 0;
      r.truncated = worlds.truncated()[u] != 0;
      episode_step[u] = r.reset ? 0 : episode_step[u] + 1;
      ret[u] = r.reset ? 0.0 : ret[u] + r.reward;
      r.episode_step = episode_step[u];
      r.ret = ret[u];
      rewards[u] = r.reward;
      if (r.reset) start_policy(i);
    }
    return records;
  }

  void set_policy(const std::string& kind) {
    auto next = make_policy(kind, scene, n, options.seed);  // throws before anything changes
    policy = std::move(next);
    for (int i = 0; i < n; ++i) start_policy(i);
    options.policy = kind;
  }

  void set_policy(std::unique_ptr<Policy> next, const std::string& name) {
    if (!next) throw std::invalid_argument("rollout: set_policy needs a policy");
    policy = std::move(next);
    for (int i = 0; i < n; ++i) start_policy(i);
    options.policy = name;
  }
};

Rollout::Rollout(std::shared_ptr<const sim::SceneModel> scene, RolloutOptions options)
    : impl_(std::make_unique<Impl>(std::move(scene), std::move(options))) {
  impl_->reset();
}
Rollout::~Rollout() = default;

void Rollout::reset() {
  impl_->reset();
}
std::span<const RolloutStep> Rollout::step() {
  impl_->policy->act(impl_->true_input(), impl_->actions);
  return impl_->step_current();
}
std::span<const RolloutStep> Rollout::step(const PolicyInput& perceived) {
  impl_->policy->act(perceived, impl_->actions);
  return impl_->step_current();
}
std::span<const RolloutStep> Rollout::step_actions(std::span<const float> act) {
  if (act.size() != impl_->actions.size())
    throw std::invalid_argument("rollout: expected " + std::to_string(impl_->actions.size()) +
                                " action values [N=" + std::to_string(impl_->n) + ", A=" +
                                std::to_string(impl_->a) + "], got " + std::to_string(act.size()));
  std::copy(act.begin(), act.end(), impl_->actions.begin());
  return impl_->step_current();
}
PolicyInput Rollout::true_input() const {
  return impl_->true_input();
}
void Rollout::set_policy(const std::string& kind) {
  impl_->set_policy(kind);
}
void Rollout::set_policy(std::unique_ptr<Policy> policy, const std::string& name) {
  impl_->set_policy(std::move(policy), name);
}
const std::string& Rollout::policy_name() const {
  return impl_->options.policy;
}
int Rollout::num_envs() const {
  return impl_->n;
}
int Rollout::action_size() const {
  return impl_->a;
}
int Rollout::width() const {
  return impl_->renderer.width();
}
int Rollout::height() const {
  return impl_->renderer.height();
}
int Rollout::ticks() const {
  return impl_->ticks;
}
const sim::SceneModel& Rollout::scene() const {
  return *impl_->scene;
}
std::shared_ptr<const sim::SceneModel> Rollout::scene_ptr() const {
  return impl_->scene;
}
std::uint64_t Rollout::seed() const {
  return impl_->options.seed;
}
std::span<const RolloutStep> Rollout::last() const {
  return impl_->records;
}
std::span<const std::uint8_t> Rollout::frames() const {
  return impl_->rgb;
}
std::span<const std::uint8_t> Rollout::ids() const {
  return impl_->ids;
}
std::span<const float> Rollout::actions() const {
  return impl_->actions;
}
std::span<const float> Rollout::rewards() const {
  return impl_->rewards;
}
sim::WorldBatch& Rollout::worlds() {
  return impl_->worlds;
}
const sim::WorldBatch& Rollout::worlds() const {
  return impl_->worlds;
}

}  // namespace parallax::agents
