#include "options.hpp"

#include <CLI/CLI.hpp>
#include <cstdio>

#include "flag_checks.hpp"

namespace parallax::viewer {

std::optional<ViewerOptions> parse_options(int argc, char** argv, int& exit_code) {
  ViewerOptions o;
  CLI::App app{
      "parallax-view: Bullet and the world model side by side, as an instrument (space: play/"
      "pause, arrows/WASD: teleoperate env 0, r: record, p: PNG, f: futures, n: resync now)"};
  app.add_option("--scene", o.scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  app.add_option("--model", o.model, "World-model checkpoint (default: assets/models/<scene>.pt)")
      ->check(CLI::ExistingFile);
  app.add_option("--envs", o.envs, "Environments")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--seed", o.seed, "Base seed")->check(cli::seed_check())->capture_default_str();
  app.add_option("--policy", o.policy,
                 "Agent: random | expert | noisy | planner (CEM in the dream on what the agent "
                 "perceives, the README's fast planner; docs/viewer.md)")
      ->capture_default_str();
  app.add_option("--planner-model", o.planner_model,
                 "The planner policy's model (default: assets/models/<scene>-latent-poses.pt)")
      ->check(CLI::ExistingFile);
  app.add_option("--precision", o.precision,
                 "Dream inference: f32 (bit-reproducible) | bf16 (autocast; about 3x faster "
                 "`unet` ticks on CPUs with AMX or AVX-512 BF16; docs/worldmodel.md) | auto (bf16 "
                 "where the CPU has bf16 units, else f32)")
      ->check(CLI::IsMember({"f32", "bf16", "auto"}))
      ->capture_default_str();
  app.add_option("--threads", o.threads, "Sim and renderer threads (0: all cores)")
      ->check(CLI::Range(0, 256));
  app.add_option("--frames", o.frames, "Run N frames then exit (lockstep: one tick per frame)")
      ->check(CLI::PositiveNumber);
  app.add_option("--screenshot", o.screenshot, "With --frames: write the last frame to this PNG");
  app.add_option("--record", o.record,
                 "With --frames: record the side-by-side view of env 0 to this MP4 (H.264)");
  app.add_option("--input-script", o.input_script,
                 "Timed key presses and UI actions (format: docs/viewer.md)");
  app.add_option("--panels-json", o.panels_json,
                 "With --frames: write where each panel was drawn in the last frame (JSON)");
  app.add_option("--trace", o.trace, "Write one JSON line per tick of the selected env");
  app.add_flag("--bench", o.bench,
               "Print frame-time and tick-time percentiles at exit (ticks on the worker thread)");
  app.add_option("--width", o.width, "Window width")
      ->check(CLI::Range(320, 7680))
      ->capture_default_str();
  app.add_option("--height", o.height, "Window height")
      ->check(CLI::Range(240, 4320))
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e);
    return std::nullopt;
  }
  for (const auto* f : {&o.screenshot, &o.record, &o.panels_json})
    if (!f->empty() && o.frames <= 0) {
      std::fprintf(stderr,
                   "parallax-view: error: --screenshot, --record and --panels-json need "
                   "--frames N\n");
      exit_code = 2;
      return std::nullopt;
    }
  if (o.bench && o.frames <= 0) o.frames = 600;
  return o;
}

}  // namespace parallax::viewer
