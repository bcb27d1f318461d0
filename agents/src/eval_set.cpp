// Evaluation sets: the policies in Bullet, rendered, and the same actions from a perturbed start.
#include "parallax/agents/eval_set.hpp"

#include <algorithm>
#include <stdexcept>

#include "parallax/agents/policy.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/sim/world_batch.hpp"
#include "parallax/worldmodel/episode_store.hpp"

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

EvalSet make_eval_set_from_dataset(std::shared_ptr<const sim::SceneModel> scene,
                                   const std::filesystem::path& dir, int max_episodes,
                                   int start_step, const EvalSetOptions& o) {
  if (o.steps < 1 || max_episodes < 0 || start_step < 0)
    throw std::invalid_argument("eval set: steps must be >= 1, max episodes and start step >= 0");
  const worldmodel::EpisodeReader reader(dir);
  const auto& spec = reader.spec();
  const std::string where = dir.string();
  if (spec.scene_name != scene->name)
    throw std::runtime_error(where + ": scene_name is '" + spec.scene_name + "', not '" +
                             scene->name + "'");
  if (spec.height != scene->camera.height || spec.width != scene->camera.width ||
      spec.action_size != scene->action_size())
    throw std::runtime_error(
        where + ": frames " + std::to_string(spec.height) + "x" + std::to_string(spec.width) +
        " and " + std::to_string(spec.action_size) + " actions, scene '" + scene->name + "' has " +
        std::to_string(scene->camera.height) + "x" + std::to_string(scene->camera.width) + " and " +
        std::to_string(scene->action_size()));
  std::vector<int> chosen;  // episodes long enough for a window at start_step
  for (int i = 0; i < reader.num_episodes(); ++i)
    if (reader.steps(i) > start_step &&
        (max_episodes == 0 || static_cast<int>(chosen.size()) < max_episodes))
      chosen.push_back(i);
  const int n = static_cast<int>(chosen.size());
  if (n < 1)
    throw std::runtime_error(where + ": no episode is longer than the start step " +
                             std::to_string(start_step) + " (" +
                             std::to_string(reader.num_episodes()) + " episodes)");
  const sim::Renderer renderer(
      scene, sim::RenderOptions{.width = 0, .height = 0, .spp = 1, .shadows = true, .threads = 1});
  EvalSet set;
  set.num_episodes = n;
  set.steps = o.steps;
  set.height = renderer.height();
  set.width = renderer.width();
  set.action_size = scene->action_size();
  set.num_bodies = static_cast<int>(scene->bodies.size());
  const int h = set.height, w = set.width, a = set.action_size, k = set.num_bodies;
  const std::size_t px = static_cast<std::size_t>(h) * w;
  const std::size_t frames = static_cast<std::size_t>(n) * (set.steps + 1);
  set.frames.assign(frames * px * 3, 0);
  set.ids.assign(frames * px, 0);
  set.perturbed.assign(frames * px * 3, 0);
  set.perturbed_ids.assign(frames * px, 0);
  set.actions.assign(static_cast<std::size_t>(n) * set.steps * a, 0);
  set.rewards.assign(static_cast<std::size_t>(n) * set.steps, 0);
  set.terminated.assign(static_cast<std::size_t>(n) * set.steps, 0);
  set.colors.assign(static_cast<std::size_t>(n) * k * 3, 0);
  sim::WorldRenderInputs inputs(*scene);
  for (int e = 0; e < n; ++e) {
    const worldmodel::Episode ep = reader.read(chosen[e]);
    const int len = std::min(ep.steps - start_step, set.steps);
    const float* acts = ep.actions.data() + static_cast<std::size_t>(start_step) * a;
    EvalEpisode info{spec.algorithm_name, ep.seed, len};
    info.prefix_actions.assign(ep.actions.data(), acts);
    info.start_step = start_step;
    set.episodes.push_back(std::move(info));
    // Both worlds replay the prefix (the recorded states, bit for bit); the perturbed one is
    // then shifted at the window's first frame.
    sim::World truth(scene, ep.seed), shifted(scene, ep.seed);
    for (int t = 0; t < start_step; ++t) {
      truth.step(std::span(ep.actions.data() + static_cast<std::size_t>(t) * a, a));
      shifted.step(std::span(ep.actions.data() + static_cast<std::size_t>(t) * a, a));
    }
    shifted.perturb(o.perturb_position_m, o.perturb_yaw_deg, ep.seed);
    truth.body_colors(std::span(set.colors).subspan(static_cast<std::size_t>(e) * k * 3, k * 3));
    auto slot = [&](int t) { return static_cast<std::size_t>(e) * (set.steps + 1) + t; };
    auto render = [&](const sim::World& world, int t, std::vector<std::uint8_t>& rgb,
                      std::vector<std::uint8_t>& ids) {
      renderer.render(inputs.gather(world), rgb.data() + slot(t) * px * 3,
                      ids.data() + slot(t) * px);
    };
    for (int t = 0; t <= set.steps; ++t) {
      if (t > 0 && t <= len) {
        const float* act = acts + static_cast<std::size_t>(t - 1) * a;
        std::copy_n(act, a,
                    set.actions.data() + (static_cast<std::size_t>(e) * set.steps + t - 1) * a);
        const auto res = truth.step(std::span(act, a));
        shifted.step(std::span(act, a));
        set.rewards[static_cast<std::size_t>(e) * set.steps + t - 1] = res.reward;
        set.terminated[static_cast<std::size_t>(e) * set.steps + t - 1] = res.terminated;
      }
      if (t > len) {  // after the window or the episode: the last frame held (never scored)
        std::copy_n(set.frames.data() + slot(t - 1) * px * 3, px * 3,
                    set.frames.data() + slot(t) * px * 3);
        std::copy_n(set.ids.data() + slot(t - 1) * px, px, set.ids.data() + slot(t) * px);
        std::copy_n(set.perturbed.data() + slot(t - 1) * px * 3, px * 3,
                    set.perturbed.data() + slot(t) * px * 3);
        std::copy_n(set.perturbed_ids.data() + slot(t - 1) * px, px,
                    set.perturbed_ids.data() + slot(t) * px);
        continue;
      }
      render(truth, t, set.frames, set.ids);
      render(shifted, t, set.perturbed, set.perturbed_ids);
      // The recorded frame is channel-first [3, H, W]; ours is [H, W, 3].
      const std::uint8_t* rec =
          ep.observations.data() + static_cast<std::size_t>(start_step + t) * px * 3;
      const std::uint8_t* ours = set.frames.data() + slot(t) * px * 3;
      for (std::size_t i = 0; i < px; ++i)
        for (int ch = 0; ch < 3; ++ch)
          if (ours[i * 3 + ch] != rec[ch * px + i])
            throw std::runtime_error(
                where + ": episode " + std::to_string(chosen[e]) + " (seed " +
                std::to_string(ep.seed) +
                "): Bullet's replay of its actions differs from the recorded frame " +
                std::to_string(start_step + t) + " (recorded with another version of scene '" +
                scene->name + "'?)");
    }
  }
  return set;
}

}  // namespace parallax::agents
