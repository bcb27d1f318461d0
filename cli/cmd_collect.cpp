// parallax collect: runs a policy in N Bullet worlds at once, renders every step and stores the
// finished episodes in a Minari-compatible dataset (worldmodel/episode_store.hpp), crash-safely.
// The loop is the rollout engine's (agents/rollout.hpp) with its EpisodeRecorder.
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
#include "parallax/agents/episode_recorder.hpp"
#include "parallax/agents/rollout.hpp"
#include "parallax/sim/scene.hpp"
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
  const int N = a.envs;
  const std::string agent = a.agent;

  // On resume, new episodes take seeds above every stored one: no episode is collected twice.
  std::uint64_t base_seed = a.seed;
  if (a.resume && fs::exists(out / "data" / "metadata.json")) {
    worldmodel::EpisodeReader existing(out);
    for (int i = 0; i < existing.num_episodes(); ++i)
      base_seed = std::max(base_seed, existing.seed(i) + 1);
  }
  std::unique_ptr<agents::Rollout> rollout;
  try {
    rollout = std::make_unique<agents::Rollout>(
        scene,
        agents::RolloutOptions{
            .num_envs = N, .seed = base_seed, .threads = a.threads, .policy = agent, .ids = true});
  } catch (const std::invalid_argument& e) {  // e.g. no scripted expert for this scene
    throw UsageError(e.what());
  }
  const int H = rollout->height(), W = rollout->width();
  const int A = scene->action_size();
  const int K = static_cast<int>(scene->bodies.size());

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

  worldmodel::EpisodeWriter writer(out, spec, a.resume);
  const int start = writer.num_episodes();
  if (start >= a.episodes) {
    if (!a.quiet)
      std::fprintf(stderr, "collect: %s already holds %d episodes (asked for %d); nothing to do\n",
                   a.out.c_str(), start, a.episodes);
  }

  agents::EpisodeRecorder recorder(*rollout);
  Progress progress(a.episodes, start, a.quiet);
  std::int64_t frames = 0;
  int done = start;
  while (done < a.episodes) {
    rollout->step();
    frames += N;
    for (worldmodel::Episode& e : recorder.record(*rollout)) {
      if (done >= a.episodes) break;
      e.id = done;
      writer.append(e);
      done += 1;
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
  sub->add_option("--policy,--agent", a->agent,
                  "Policy: random, expert, noisy (expert + noise), decoy (expert, random goals) or "
                  "rush (decoy at up to full speed)")
      ->check(CLI::IsMember({"random", "expert", "noisy", "decoy", "rush"}))
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
