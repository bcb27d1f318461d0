// parallax demo: the arena for N envs x T ticks on the shipped default model; writes a strip of
// true frames above predicted ones (strip.png) and per-step metrics (report.json).
#include <torch/torch.h>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/agents/arena.hpp"
#include "parallax/agents/arena_report.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/media/mp4_writer.hpp"
#include "parallax/media/side_by_side.hpp"
#include "parallax/sim/image_io.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "precision_flag.hpp"

namespace parallax::cli {
namespace {

namespace fs = std::filesystem;

struct DemoOptions {
  std::string scene = "push";
  std::string model;  // "" = assets/models/<scene>.pt if shipped, else untrained
  int envs = 4;
  int ticks = 32;
  std::uint64_t seed = 0;
  std::string policy = "random";
  std::string device = "cpu";
  std::string precision = "f32";
  int threads = 0;
  std::string out = "runs/demo";
  std::string mp4;  // "" = none; else the side-by-side view of env 0 (media/side_by_side.hpp)
  bool json = false;
};

void run_demo(const DemoOptions& o) {
  if (o.envs < 1 || o.envs > 256)
    throw UsageError("--envs must be in [1, 256], got " + std::to_string(o.envs));
  if (o.ticks < 1 || o.ticks > 10000)
    throw UsageError("--ticks must be in [1, 10000], got " + std::to_string(o.ticks));
  check_device(o.device);
  const worldmodel::Precision precision = parse_precision(o.precision, o.device);
  worldmodel::init_torch_threads(o.threads);
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(o.scene));

  const agents::ModelSource src = agents::load_model_for_scene(*scene, o.model, o.device, o.seed);
  if (!src.trained) std::fprintf(stderr, "parallax demo: note: %s\n", src.description.c_str());
  const std::string& model_desc = src.description;
  const auto model = src.model;

  agents::Arena arena(scene, model,
                      agents::ArenaOptions{.num_envs = o.envs,
                                           .seed = o.seed,
                                           .threads = o.threads,
                                           .policy = o.policy,
                                           .mode = agents::ArenaMode::kMirror,
                                           .resync_every = 0,
                                           .device = o.device,
                                           .precision = precision});
  const int h = arena.height(), w = arena.width(), n = o.envs;
  // strip: rows (env 0 true, env 0 predicted, env 1 true, ...), columns = ticks.
  const int sw = w * o.ticks, sh = h * 2 * n;
  std::vector<std::uint8_t> strip(static_cast<std::size_t>(sw) * sh * 3, 0);  // [sh, sw, 3] u8
  auto blit = [&](std::span<const std::uint8_t> frames, int env, int row, int col) {
    const std::uint8_t* src = frames.data() + static_cast<std::size_t>(env) * h * w * 3;
    for (int y = 0; y < h; ++y)
      std::copy_n(src + static_cast<std::size_t>(y) * w * 3, w * 3,
                  strip.data() + ((static_cast<std::size_t>(row) * h + y) * sw + col * w) * 3);
  };
  // --mp4: the viewer's recorded picture (true | predicted | error of env 0), one frame per tick.
  std::optional<media::SideBySide> view;
  std::optional<media::Mp4Writer> mp4;
  if (!o.mp4.empty()) {
    view.emplace(media::SideBySideOptions{.frame_height = h, .frame_width = w});
    mp4.emplace(o.mp4, media::Mp4Options{.width = view->width(),
                                         .height = view->height(),
                                         .fps = static_cast<int>(std::lround(scene->control_hz))});
  }
  const std::size_t frame_bytes = static_cast<std::size_t>(h) * w * 3;
  agents::ArenaReport run(n);
  for (int t = 0; t < o.ticks; ++t) {
    const auto metrics = arena.tick();
    if (mp4)
      mp4->write(view->compose(arena.true_frames().first(frame_bytes),
                               arena.predicted_frames().first(frame_bytes)));
    for (int i = 0; i < n; ++i) {
      blit(arena.true_frames(), i, 2 * i, t);
      blit(arena.predicted_frames(), i, 2 * i + 1, t);
    }
    run.add(metrics);
  }
  nlohmann::json report = {
      {"scene", scene->name},
      {"model", model_desc},
      {"policy", o.policy},
      {"envs", n},
      {"ticks", o.ticks},
      {"seed", o.seed},
      {"device", o.device},
      {"precision", worldmodel::to_string(precision)},
      {"frame", {{"height", h}, {"width", w}}},
      {"metrics_note", "mse/psnr/ssim on [0,1] RGB; psnr is null when mse is 0 (infinite)"},
      {"summary", run.summary()},
      {"steps", run.steps()}};
  const fs::path out(o.out);
  fs::create_directories(out);
  sim::write_png(out / "strip.png", sw, sh, 3, strip.data());
  if (mp4) mp4->finish();
  write_text_atomic(out / "report.json", json_text(report, 1) + "\n");
  if (o.json) {
    std::printf("%s\n", json_text(nlohmann::json{{"strip", (out / "strip.png").string()},
                                                 {"report", (out / "report.json").string()},
                                                 {"summary", report["summary"]}})
                            .c_str());
  } else {
    std::printf("demo: %d envs x %d ticks of '%s' with %s\n", n, o.ticks, scene->name.c_str(),
                model_desc.c_str());
    std::printf("  mean MSE %.5f  mean PSNR %s dB  mean SSIM %.4f\n",
                report["summary"]["mean_mse"].get<double>(),
                report["summary"]["mean_psnr"].is_null()
                    ? "inf"
                    : std::to_string(report["summary"]["mean_psnr"].get<double>()).c_str(),
                report["summary"]["mean_ssim"].get<double>());
    std::printf("  wrote %s and %s\n", (out / "strip.png").c_str(), (out / "report.json").c_str());
  }
}

}  // namespace

void register_demo(CLI::App& app) {
  auto o = std::make_shared<DemoOptions>();
  auto* sub = app.add_subcommand(
      "demo", "Run Bullet and the world model in lockstep; write strip.png and report.json");
  sub->add_option("--scene", o->scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  sub->add_option("--model", o->model,
                  "World-model checkpoint (default: assets/models/<scene>.pt, else untrained)")
      ->check(CLI::ExistingFile);
  sub->add_option("--envs", o->envs, "Number of environments")->capture_default_str();
  sub->add_option("--ticks", o->ticks, "Control ticks to run")->capture_default_str();
  sub->add_option("--seed", o->seed, "Base seed (the seed rule: docs/agents.md, Seeds)")
      ->check(seed_check())
      ->capture_default_str();
  sub->add_option("--policy", o->policy, "Agent: random | expert | noisy")->capture_default_str();
  sub->add_option("--device", o->device, "Device of the world model: cpu | cuda")
      ->capture_default_str();
  add_precision_option(sub, o->precision);
  sub->add_option("--threads", o->threads, "Worker threads (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--out", o->out, "Output folder")->capture_default_str();
  sub->add_option("--mp4", o->mp4,
                  "Also write the side-by-side view (true | predicted | error) of env 0 to this "
                  "H.264 MP4, one frame per tick (as parallax-view records)");
  sub->add_flag("--json", o->json, "Print a JSON summary on stdout");
  sub->callback([o] { run_demo(*o); });
}

}  // namespace parallax::cli
