// parallax-view's command line.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace parallax::viewer {

struct ViewerOptions {
  std::string scene = "push";
  std::string model;
  int envs = 4;
  std::uint64_t seed = 0;
  std::string policy = "random";
  std::string planner_model;  // "" = assets/models/<scene>-latent-poses.pt
  int threads = 0;
  std::string precision = "auto";  // the dream's inference precision: f32 | bf16 | auto
  int frames = 0;                  // > 0: run this many frames then exit (lockstep unless --bench)
  std::string screenshot;          // with --frames: the window as PNG at the end
  std::string record;        // with --frames: the side-by-side MP4 of env 0, one frame per tick
  std::string input_script;  // timed key presses and UI actions (input_script.hpp)
  std::string panels_json;   // with --frames: where each panel was drawn in the last frame
  std::string trace;         // JSON lines per tick: selected env's action, centroids, PSNR
  bool bench = false;        // print frame-time and tick-time percentiles at exit
  int width = 1280, height = 720;
};

// Parses argv; on --help or a bad flag prints (CLI11) and returns the exit code in `exit_code`.
std::optional<ViewerOptions> parse_options(int argc, char** argv, int& exit_code);

}  // namespace parallax::viewer
