// parallax collect: runs a policy in N Bullet worlds at once, renders every step and stores the
// finished episodes in a Minari-compatible dataset (worldmodel/episode_store.hpp), crash-safely.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world_batch.hpp"
#include "parallax/worldmodel/episode_store.hpp"

namespace parallax::cli {
namespace {

namespace fs = std::filesystem;

struct CollectArgs {
  std::string scene = "push";
  std::string agent = "noisy";
  int episodes = 0;
  int envs = 8;
  std::uint64_t seed = 0;
  std::string out;
  bool resume = false;
  int threads = 0;  // 0 = all cores
  std::string dataset_id;
  bool quiet = false;
  bool json = false;
};

// One progress line on stderr: rewritten in place on a terminal, a new line every 5 s otherwise.
class Progress {
 public:
  Progress(int target, int start, bool quiet)
      : target_(target), start_(start), quiet_(quiet), tty_(::isatty(2) != 0) {}
  void update(int done, std::int64_t frames, bool final = false) {
    if (quiet_) return;
    const auto now = std::chrono::steady_clock::now();
    const double since = std::chrono::duration<double>(now - last_).count();
    if (!final && since < (tty_ ? 0.25 : 5.0)) return;
    last_ = now;
    const double el = std::chrono::duration<double>(now - t0_).count();
    const double eps = el > 0 ? (done - start_) / el : 0.0;
    const double fps = el > 0 ? static_cast<double>(frames) / el : 0.0;
    const double eta = eps > 0 ? (target_ - done) / eps : NAN;
    std::fprintf(stderr, "%scollect: %d/%d episodes  %.1f episodes/s  %.0f frames/s  ETA %s%s",
                 tty_ ? "\r" : "", done, target_, eps, fps,
                 final ? hms(0).c_str() : hms(eta).c_str(), tty_ && !final ? "   " : "\n");
    std::fflush(stderr);
  }

 private:
  int target_, start_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point t0_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

void run_collect(const CollectArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));
  const fs::path out(a.out);
  if (!a.resume && fs::exists(out / "data" / "metadata.json"))
    throw UsageError(a.out +
                     ": a dataset already exists here (pass --resume to continue it, or "
                     "choose another --out)");
  const int threads = sim::resolve_threads(a.threads);

  const int N = a.envs;
  std::unique_ptr<agents::Policy> policy;
  try {
    policy = agents::make_policy(a.agent, scene, N, a.seed);
  } catch (const std::invalid_argument& e) {  // e.g. no scripted expert for this scene
    throw UsageError(e.what());
  }
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = threads});
  const int H = renderer.height(), W = renderer.width();
  const int A = scene->action_size();
  const int K = static_cast<int>(scene->bodies.size());
  const std::string agent = a.agent;

  worldmodel::DatasetSpec spec;
  spec.dataset_id =
      a.dataset_id.empty() ? "parallax/" + scene->name + "-" + agent + "-v0" : a.dataset_id;
  spec.scene_name = scene->name;
  spec.scene_json = scene->source_json;
  spec.height = H;
  spec.width = W;
  spec.action_size = A;
  spec.num_bodies = K;
  spec.algorithm_name = agent;

  // On resume, new episodes take seeds above every stored one: no episode is collected twice.
  std::uint64_t base_seed = a.seed;
  if (a.resume && fs::exists(out / "data" / "metadata.json")) {
    worldmodel::EpisodeReader existing(out);
    for (int i = 0; i < existing.num_episodes(); ++i)
      base_seed = std::max(base_seed, existing.seed(i) + 1);
  }
  worldmodel::EpisodeWriter writer(out, spec, a.resume);
  const int start = writer.num_episodes();
  if (start >= a.episodes) {
    if (!a.quiet)
      std::fprintf(stderr, "collect: %s already holds %d episodes (asked for %d); nothing to do\n",
                   a.out.c_str(), start, a.episodes);
  }

  sim::WorldBatch batch(scene, N, base_seed, threads);
  const std::size_t frame = static_cast<std::size_t>(H) * W;
  std::vector<float> actions(static_cast<std::size_t>(N) * A);             // [N, A] f32
  std::vector<float> colors(static_cast<std::size_t>(N) * K * 3);          // [N, K, 3] f32
  std::vector<float> scales(static_cast<std::size_t>(N) * K);              // [N, K] f32
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(N) * frame * 3);  // [N, H, W, 3] u8
  std::vector<std::uint8_t> ids(static_cast<std::size_t>(N) * frame);      // [N, H, W] u8
  std::vector<worldmodel::Episode> eps(static_cast<std::size_t>(N));       // in flight per env

  // Renders every env's current state into rgb / ids.
  auto render = [&] {
    for (int i = 0; i < N; ++i) {
      batch.world(i).body_colors(
          std::span(colors).subspan(static_cast<std::size_t>(i) * K * 3, K * 3));
      batch.world(i).body_size_scales(
          std::span(scales).subspan(static_cast<std::size_t>(i) * K, K));
    }
    renderer.render(N, batch.poses().data(), batch.marker_positions().data(), colors.data(),
                    scales.data(), rgb.data(), ids.data());
  };
  // Appends env i's current frame (transposed [H, W, 3] -> [3, H, W]), ids and poses.
  auto push_frame = [&](int i) {
    worldmodel::Episode& e = eps[static_cast<std::size_t>(i)];
    const std::uint8_t* src = rgb.data() + static_cast<std::size_t>(i) * frame * 3;
    const std::size_t o = e.observations.size();
    e.observations.resize(o + 3 * frame);
    for (std::size_t p = 0; p < frame; ++p)
      for (std::size_t c = 0; c < 3; ++c) e.observations[o + c * frame + p] = src[p * 3 + c];
    const std::uint8_t* id = ids.data() + static_cast<std::size_t>(i) * frame;
    e.ids.insert(e.ids.end(), id, id + frame);
    const float* pose = batch.poses().data() + static_cast<std::size_t>(i) * K * 7;
    e.poses.insert(e.poses.end(), pose, pose + static_cast<std::size_t>(K) * 7);
  };
  auto begin_episode = [&](int i) {
    worldmodel::Episode& e = eps[static_cast<std::size_t>(i)];
    e = worldmodel::Episode{};
    e.seed = batch.episode_seeds()[static_cast<std::size_t>(i)];
    policy->reset(i, e.seed);
    push_frame(i);
  };

  render();
  for (int i = 0; i < N; ++i) begin_episode(i);
  Progress progress(a.episodes, start, a.quiet);
  std::int64_t frames = 0;
  int done = start;
  while (done < a.episodes) {
    policy->act(
        {N, A, batch.poses(), batch.marker_positions(), batch.velocities(), batch.joint_states()},
        actions);
    for (float& v : actions) v = std::clamp(v, -1.0f, 1.0f);  // what the sim applies
    batch.step(actions);
    render();
    frames += N;
    for (int i = 0; i < N && done < a.episodes; ++i) {
      const auto u = static_cast<std::size_t>(i);
      if (batch.reset_mask()[u]) {  // the previous step ended this env's episode: a new one
        begin_episode(i);
        continue;
      }
      worldmodel::Episode& e = eps[u];
      e.actions.insert(e.actions.end(), actions.begin() + i * A, actions.begin() + (i + 1) * A);
      e.rewards.push_back(batch.rewards()[u]);
      e.terminations.push_back(batch.terminated()[u]);
      e.truncations.push_back(batch.truncated()[u]);
      e.steps += 1;
      push_frame(i);
      if (batch.terminated()[u] || batch.truncated()[u]) {
        e.id = done;
        writer.append(e);
        done += 1;
      }
    }
    progress.update(done, frames);
  }
  progress.update(done, frames, true);

  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::json j = {{"out", a.out},
                        {"dataset_id", spec.dataset_id},
                        {"scene", scene->name},
                        {"agent", agent},
                        {"episodes", writer.num_episodes()},
                        {"new_episodes", writer.num_episodes() - start},
                        {"total_steps", writer.total_steps()},
                        {"frames_rendered", frames},
                        {"seconds", seconds},
                        {"height", H},
                        {"width", W},
                        {"action_size", A}};
    std::printf("%s\n", json_text(j).c_str());
  } else {
    std::printf("%s: %d episodes (%d new), %lld steps, %dx%d frames, %s in %.1f s\n", a.out.c_str(),
                writer.num_episodes(), writer.num_episodes() - start,
                static_cast<long long>(writer.total_steps()), H, W, spec.dataset_id.c_str(),
                seconds);
  }
}

}  // namespace

void register_collect(CLI::App& app) {
  auto a = std::make_shared<CollectArgs>();
  auto* sub = app.add_subcommand(
      "collect",
      "Run a policy in N Bullet worlds, render every step, and store the episodes in a "
      "Minari-compatible dataset (DIR/data/metadata.json + main_data.hdf5)");
  sub->add_option("--scene", a->scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  sub->add_option("--policy,--agent", a->agent, "Policy: random, expert or noisy (expert + noise)")
      ->check(CLI::IsMember({"random", "expert", "noisy"}))
      ->capture_default_str();
  sub->add_option("--episodes", a->episodes, "Episodes the dataset must hold at the end")
      ->required()
      ->check(CLI::Range(1, 100000000));
  sub->add_option("--envs", a->envs, "Environments stepped together")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  sub->add_option("--seed", a->seed, "Base seed (env i's first episode: seed + i)")
      ->check(seed_check())
      ->capture_default_str();
  sub->add_option("--out", a->out, "Dataset folder (created; holds data/)")->required();
  sub->add_flag("--resume", a->resume,
                "Continue the dataset in --out up to --episodes (same scene and agent)");
  sub->add_option("--threads", a->threads,
                  "Worker threads for physics and rendering (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--dataset-id", a->dataset_id,
                  "Minari dataset id (default parallax/<scene>-<agent>-v0)");
  sub->add_flag("--quiet", a->quiet, "No progress line");
  sub->add_flag("--json", a->json, "Print a JSON summary on stdout");
  sub->callback([a] { run_collect(*a); });
}

}  // namespace parallax::cli
