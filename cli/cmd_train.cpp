// parallax train: trains the RSSM world model on a dataset written by `parallax collect`.
#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/worldmodel/episode_store.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "parallax/worldmodel/trainer.hpp"

namespace parallax::cli {
namespace {

namespace fs = std::filesystem;
namespace wm = parallax::worldmodel;

// Set by SIGINT/SIGTERM: the trainer stops after the current step and writes a checkpoint.
std::atomic<bool> g_stop{false};

extern "C" void on_stop_signal(int sig) {
  g_stop.store(true);
  std::signal(sig, SIG_DFL);  // a second signal ends the process at once
}

struct TrainArgs {
  std::string data;
  wm::TrainOptions options;
  std::string out;
  std::string log;
  int threads = 0;       // 0 = all cores
  int max_episodes = 0;  // 0 = all
  bool quiet = false;
  bool json = false;
};

void run_train(const TrainArgs& args) {
  if (args.out.empty()) throw UsageError("--out is required");
  const int threads = wm::init_torch_threads(args.threads);

  // Load the dataset into memory (frames, actions, rewards, flags; not the poses and ids).
  wm::EpisodeReader reader(args.data);
  const wm::DatasetSpec spec = reader.spec();
  const int n = args.max_episodes > 0 ? std::min(args.max_episodes, reader.num_episodes())
                                      : reader.num_episodes();
  if (n == 0) throw std::runtime_error("dataset '" + args.data + "' holds no episodes");
  std::vector<wm::Episode> episodes;
  episodes.reserve(n);
  std::int64_t frames = 0;
  for (int i = 0; i < n; ++i) {
    wm::Episode ep = reader.read(i);
    ep.poses = {};
    ep.ids = {};
    frames += ep.steps + 1;
    episodes.push_back(std::move(ep));
  }

  wm::TrainOptions o = args.options;
  o.stop = &g_stop;
  o.out = args.out;
  o.log = args.log;
  o.source = "dataset '" + args.data + "'";
  if (fs::path(args.out).has_parent_path())
    fs::create_directories(fs::path(args.out).parent_path());

  wm::Trainer trainer(std::move(episodes), spec.height, spec.width, spec.action_size, o);
  std::int64_t params = 0;
  for (const auto& p : trainer.model()->parameters()) params += p.numel();
  if (!args.quiet) {
    std::fprintf(stderr,
                 "train: preset %s (%.2fM parameters) on %s, %d episodes (%lld frames, %dx%d, "
                 "%d actions), batch %d x %d, device %s, %d threads\n",
                 trainer.config().preset.c_str(), static_cast<double>(params) / 1e6,
                 args.data.c_str(), n, static_cast<long long>(frames), spec.height, spec.width,
                 spec.action_size, o.batch, o.seq, o.device.c_str(), threads);
    if (trainer.resumed()) {
      std::fprintf(stderr, "train: resuming '%s' at step %lld of %lld\n", args.out.c_str(),
                   static_cast<long long>(trainer.current_step()), static_cast<long long>(o.steps));
    }
  }
  const std::int64_t first = trainer.current_step();
  g_stop.store(false);
  auto old_int = std::signal(SIGINT, on_stop_signal);
  auto old_term = std::signal(SIGTERM, on_stop_signal);
  wm::StepMetrics last;
  try {
    ProgressLine progress("train", args.quiet);
    last = trainer.run([&](const wm::StepMetrics& m) {
      char detail[160];
      std::snprintf(detail, sizeof detail,
                    "loss %.2f (recon %.2f kl %.2f), %.0f frames/s, skipped %lld", m.loss, m.recon,
                    m.kl, m.frames_per_s, static_cast<long long>(m.skipped_total));
      progress.update("step", m.step, o.steps, detail);
    });
    progress.finish();
  } catch (...) {
    std::signal(SIGINT, old_int);
    std::signal(SIGTERM, old_term);
    throw;
  }
  std::signal(SIGINT, old_int);
  std::signal(SIGTERM, old_term);
  if (trainer.stopped()) {
    throw std::runtime_error("interrupted at step " + std::to_string(trainer.current_step()) +
                             "; checkpoint written to '" + args.out +
                             "' (the same command with --resume continues)");
  }
  if (trainer.current_step() == first && !args.out.empty() && !fs::exists(args.out)) {
    trainer.save(args.out);  // --steps 0: still write the (untrained) model
  }
  if (trainer.skipped_steps() > 0) {
    std::fprintf(stderr, "train: warning: %lld step(s) skipped for a non-finite loss or gradient\n",
                 static_cast<long long>(trainer.skipped_steps()));
  }
  if (args.json) {
    nlohmann::json j = {{"out", args.out},
                        {"steps", trainer.current_step()},
                        {"steps_this_run", trainer.current_step() - first},
                        {"skipped", trainer.skipped_steps()},
                        {"resumed", trainer.resumed()},
                        {"preset", trainer.config().preset},
                        {"parameters", params},
                        {"last", nlohmann::json::parse(last.to_json())},
                        {"config", nlohmann::json::parse(trainer.config().to_json_string())}};
    std::printf("%s\n", json_text(j).c_str());
  } else {
    std::printf(
        "trained %s to step %lld (%lld this run, %lld skipped): loss %.3f recon %.3f -> %s\n",
        trainer.config().preset.c_str(), static_cast<long long>(trainer.current_step()),
        static_cast<long long>(trainer.current_step() - first),
        static_cast<long long>(trainer.skipped_steps()), last.loss, last.recon, args.out.c_str());
  }
}

}  // namespace

void register_train(CLI::App& app) {
  auto args = std::make_shared<TrainArgs>();
  auto* sub = app.add_subcommand("train", "Train the RSSM world model on a collected dataset");
  auto& o = args->options;
  o.checkpoint_every = 1000;
  sub->add_option("--data", args->data, "Dataset folder written by `parallax collect`")
      ->required()
      ->check(CLI::ExistingDirectory);
  sub->add_option("--preset", o.preset, "Model size: tiny, small or base")
      ->check(CLI::IsMember({"tiny", "small", "base"}))
      ->capture_default_str();
  sub->add_option("--steps", o.steps, "Total optimisation steps (a resumed run goes up to this)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--batch", o.batch, "Sequences per batch (B)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--seq", o.seq, "Frames per sequence (L)")
      ->check(CLI::Range(2, 100000))
      ->capture_default_str();
  sub->add_option("--lr", o.lr, "Adam learning rate")
      ->check(CLI::Range(1e-9, 1.0))
      ->capture_default_str();
  sub->add_option("--grad-clip", o.grad_clip, "Max global gradient norm")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  sub->add_option("--device", o.device, "cpu or cuda[:N] (bf16 autocast on CUDA)")
      ->capture_default_str();
  sub->add_option("--out", args->out, "Checkpoint file (written atomically)")->required();
  sub->add_flag("--resume", o.resume, "Continue exactly from --out if it exists");
  sub->add_option("--log", args->log, "Metrics as JSON lines, one per step");
  sub->add_option("--checkpoint-every", o.checkpoint_every,
                  "Steps between checkpoints (0 = only at the end)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  sub->add_option("--seed", o.seed, "Seed of model init, batch sampling and latents")
      ->check(seed_check())
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "CPU threads for LibTorch (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--episodes", args->max_episodes, "Use only the first N episodes (0 = all)")
      ->check(CLI::NonNegativeNumber);
  sub->add_flag("--quiet", args->quiet, "No progress line");
  sub->add_flag("--json", args->json, "Print the summary as one JSON object");
  sub->callback([args] {
    const auto& d = args->options.device;
    if (d != "cpu" && d.rfind("cuda", 0) != 0) {
      throw UsageError("--device '" + d + "': expected cpu or cuda[:N]");
    }
    run_train(*args);
  });
}

}  // namespace parallax::cli
