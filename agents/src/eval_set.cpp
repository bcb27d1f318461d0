// Evaluation sets: the policies in Bullet, rendered, and the same actions from a perturbed start.
#include "parallax/agents/eval_set.hpp"

#include <algorithm>
#include <stdexcept>

#include "parallax/agents/policy.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/sim/world_batch.hpp"

namespace parallax::agents {

namespace {

// Renders the current state of every world of `worlds` (their own poses, read from the worlds so
// that a perturbation made after the last step is seen) into frame t of episodes e0 ...
void render_into(sim::WorldBatch& worlds, const sim::Renderer& renderer, int e0, int t,
                 EvalSet& set, std::vector<std::uint8_t>& rgb_out,
                 std::vector<std::uint8_t>& ids_out, std::vector<float>& poses,
                 std::vector<float>& rgb_tmp_markers, std::vector<std::uint8_t>& rgb,
                 std::vector<std::uint8_t>& ids) {
  const int n = worlds.num_envs(), k = worlds.num_bodies(), m = worlds.num_markers();
  poses.resize(static_cast<std::size_t>(n) * k * 7);
  rgb_tmp_markers.resize(static_cast<std::size_t>(n) * m * 3);
  for (int i = 0; i < n; ++i) {
    worlds.world(i).poses(std::span(poses).subspan(static_cast<std::size_t>(i) * k * 7, k * 7));
    worlds.world(i).marker_positions(
        std::span(rgb_tmp_markers).subspan(static_cast<std::size_t>(i) * m * 3, m * 3));
  }
  const std::size_t px = static_cast<std::size_t>(set.height) * set.width;
  rgb.resize(n * px * 3);
  ids.resize(n * px);
  renderer.render({.n = n,
                   .poses = poses.data(),
                   .markers = rgb_tmp_markers.data(),
                   .colors = worlds.body_colors().data(),
                   .scales = worlds.body_size_scales().data()},
                  rgb.data(), ids.data());
  for (int i = 0; i < n; ++i) {
    const std::size_t slot = static_cast<std::size_t>(e0 + i) * (set.steps + 1) + t;
    std::copy_n(rgb.data() + i * px * 3, px * 3, rgb_out.data() + slot * px * 3);
    std::copy_n(ids.data() + i * px, px, ids_out.data() + slot * px);
  }
}

}  // namespace

EvalSet make_eval_set(std::shared_ptr<const sim::SceneModel> scene, const EvalSetOptions& o) {
  if (o.episodes_per_policy < 1 || o.steps < 1)
    throw std::invalid_argument("eval set: episodes per policy and steps must be >= 1");
  const std::vector<std::string> policies = o.policies.empty() ? policy_kinds(*scene) : o.policies;
  const int threads = sim::resolve_threads(o.threads);
  const sim::Renderer renderer(
      scene,
      sim::RenderOptions{.width = 0, .height = 0, .spp = 1, .shadows = true, .threads = threads});
  EvalSet set;
  const int per = o.episodes_per_policy;
  set.num_episodes = per * static_cast<int>(policies.size());
  set.steps = o.steps;
  set.height = renderer.height();
  set.width = renderer.width();
  set.action_size = scene->action_size();
  set.num_bodies = static_cast<int>(scene->bodies.size());
  const std::size_t px = static_cast<std::size_t>(set.height) * set.width;
  const std::size_t frames = static_cast<std::size_t>(set.num_episodes) * (set.steps + 1);
  set.frames.assign(frames * px * 3, 0);
  set.ids.assign(frames * px, 0);
  set.perturbed.assign(frames * px * 3, 0);
  set.perturbed_ids.assign(frames * px, 0);
  set.actions.assign(static_cast<std::size_t>(set.num_episodes) * set.steps * set.action_size, 0);
  set.rewards.assign(static_cast<std::size_t>(set.num_episodes) * set.steps, 0);
  set.terminated.assign(static_cast<std::size_t>(set.num_episodes) * set.steps, 0);
  set.colors.assign(static_cast<std::size_t>(set.num_episodes) * set.num_bodies * 3, 0);
  std::vector<float> poses, markers;
  std::vector<std::uint8_t> rgb, ids;
  const int a = set.action_size;

  for (std::size_t p = 0; p < policies.size(); ++p) {
    const std::uint64_t base = o.seed + p * kFidelityPolicyStride;
    const int e0 = static_cast<int>(p) * per;
    auto policy = make_policy(policies[p], scene, per, base);
    sim::WorldBatch truth(scene, per, base, threads);
    sim::WorldBatch shifted(scene, per, base, threads);
    for (int i = 0; i < per; ++i) {
      policy->reset(i, base + i);
      shifted.world(i).perturb(o.perturb_position_m, o.perturb_yaw_deg, base + i);
      set.episodes.push_back({policies[p], base + static_cast<std::uint64_t>(i), o.steps});
      std::copy_n(truth.body_colors().data() + static_cast<std::size_t>(i) * set.num_bodies * 3,
                  set.num_bodies * 3,
                  set.colors.data() + static_cast<std::size_t>(e0 + i) * set.num_bodies * 3);
    }
    render_into(truth, renderer, e0, 0, set, set.frames, set.ids, poses, markers, rgb, ids);
    render_into(shifted, renderer, e0, 0, set, set.perturbed, set.perturbed_ids, poses, markers,
                rgb, ids);
    std::vector<float> act(static_cast<std::size_t>(per) * a, 0.0f);
    std::vector<char> ended(per, 0);
    for (int t = 0; t < o.steps; ++t) {
      const PolicyInput in{.num_envs = per,
                           .action_size = a,
                           .poses = truth.poses(),
                           .markers = truth.marker_positions(),
                           .velocities = truth.velocities(),
                           .joint_states = truth.joint_states()};
      policy->act(in, act);
      // An ended episode keeps its last frame: zero actions, nothing recorded as valid.
      for (int i = 0; i < per; ++i)
        if (ended[i]) std::fill_n(act.data() + static_cast<std::size_t>(i) * a, a, 0.0f);
      truth.step(act);
      shifted.step(act);
      for (int i = 0; i < per; ++i) {
        const int e = e0 + i;
        std::copy_n(act.data() + static_cast<std::size_t>(i) * a, a,
                    set.actions.data() + (static_cast<std::size_t>(e) * set.steps + t) * a);
        if (!ended[i]) {
          set.rewards[static_cast<std::size_t>(e) * set.steps + t] = truth.rewards()[i];
          set.terminated[static_cast<std::size_t>(e) * set.steps + t] = truth.terminated()[i];
          if (truth.terminated()[i] || truth.truncated()[i]) {
            ended[i] = 1;
            set.episodes[e].length = t + 1;
          }
        }
      }
      render_into(truth, renderer, e0, t + 1, set, set.frames, set.ids, poses, markers, rgb, ids);
      render_into(shifted, renderer, e0, t + 1, set, set.perturbed, set.perturbed_ids, poses,
                  markers, rgb, ids);
    }
  }
  return set;
}

}  // namespace parallax::agents
