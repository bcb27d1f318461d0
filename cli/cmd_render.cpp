// parallax render: one frame of a scene (after T zero-action control steps) as a PNG, rendered by
// the CPU batch renderer; optionally the object-id image as a one-channel PNG.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "flag_checks.hpp"
#include "parallax/sim/image_io.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::cli {
namespace {

struct RenderArgs {
  std::string scene;
  std::uint64_t seed = 0;
  int step = 0;
  int width = 0, height = 0;  // 0 = the scene camera's
  int spp = 1;
  int threads = 1;
  bool no_shadows = false;
  std::string out;
  std::string ids;
  bool json = false;
};

void run_render(const RenderArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));

  // The state after `step` control steps of zero actions from the seeded reset.
  sim::World world(scene, a.seed);
  const std::vector<float> zeros(static_cast<std::size_t>(scene->action_size()), 0.f);
  int done = 0;
  bool ended = false;
  for (; done < a.step && !ended; ++done) {
    const sim::StepResult r = world.step(zeros);
    ended = r.terminated || r.truncated;
  }
  if (done < a.step) {
    std::fprintf(stderr, "parallax: note: the episode ended after %d steps; rendering that state\n",
                 done);
  }
  sim::WorldRenderInputs inputs(*scene);

  sim::RenderOptions opt;
  opt.width = a.width;
  opt.height = a.height;
  opt.spp = a.spp;
  opt.shadows = !a.no_shadows;
  opt.threads = a.threads;
  sim::Renderer renderer(scene, opt);
  const int w = renderer.width(), h = renderer.height();
  std::vector<std::uint8_t> rgb(static_cast<std::size_t>(w) * h * 3);  // [1, H, W, 3] u8
  std::vector<std::uint8_t> ids(static_cast<std::size_t>(w) * h);      // [1, H, W] u8
  renderer.render(inputs.gather(world), rgb.data(), ids.data());
  // Ids first: if the RGB image then cannot be written, the ids image is removed again, so a
  // failed render leaves neither file.
  if (!a.ids.empty()) sim::write_png(a.ids, w, h, 1, ids.data());
  try {
    sim::write_png(a.out, w, h, 3, rgb.data());
  } catch (...) {
    std::error_code ignored;
    if (!a.ids.empty()) std::filesystem::remove(a.ids, ignored);
    throw;
  }

  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (a.json) {
    nlohmann::json j = {{"scene", scene->name}, {"seed", a.seed}, {"step", done},
                        {"width", w},           {"height", h},    {"spp", a.spp},
                        {"out", a.out},         {"ids", a.ids},   {"ms", ms}};
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::printf("%s seed %llu step %d: %dx%d -> %s%s%s\n", scene->name.c_str(),
                static_cast<unsigned long long>(a.seed), done, w, h, a.out.c_str(),
                a.ids.empty() ? "" : ", ids -> ", a.ids.c_str());
  }
}

}  // namespace

void register_render(CLI::App& app) {
  auto args = std::make_shared<RenderArgs>();
  auto* sub = app.add_subcommand(
      "render",
      "Render one frame of a scene to a PNG (CPU ray caster: Lambert, hard shadows).\n"
      "Example: parallax render --scene push --seed 3 --step 20 --out frame.png");
  sub->add_option("--scene", args->scene,
                  "Shipped scene name (see `parallax scenes`) or a .json path")
      ->required();
  sub->add_option("--seed", args->seed, "Seed of the episode reset (randomised initial state)")
      ->check(seed_check())
      ->required();
  sub->add_option("--step", args->step, "Control steps of zero actions before rendering")
      ->check(CLI::NonNegativeNumber);
  sub->add_option("--width", args->width, "Image width in pixels (default: the scene camera's)")
      ->check(CLI::Range(16, 1024));
  sub->add_option("--height", args->height, "Image height in pixels (default: the scene camera's)")
      ->check(CLI::Range(16, 1024));
  sub->add_option("--spp", args->spp, "Samples per pixel: 1 or 4")->check(CLI::IsMember({1, 4}));
  sub->add_option("--threads", args->threads, "CPU worker threads")->check(CLI::Range(1, 256));
  sub->add_flag("--no-shadows", args->no_shadows, "Do not cast shadow rays");
  sub->add_option("--ids", args->ids,
                  "Also write the object ids as a 1-channel PNG: 0 = background, k + 1 = body k, "
                  "K + 1 + m = marker m (file order)");
  sub->add_option("--out", args->out, "Output PNG file (RGB)")->required();
  sub->add_flag("--json", args->json, "Print a JSON line instead of text");
  sub->callback([args] {
    if (!args->ids.empty() && args->ids == args->out) {
      throw UsageError("--ids and --out name the same file '" + args->out + "'");
    }
    // Both folders must exist before anything is rendered or written (a bad file: exit 1).
    for (const auto& [flag, path] : {std::pair{"--out", &args->out}, {"--ids", &args->ids}}) {
      const auto dir = std::filesystem::path(*path).parent_path();
      if (!path->empty() && !dir.empty() && !std::filesystem::is_directory(dir))
        throw std::runtime_error(std::string(flag) + " " + *path + ": folder " + dir.string() +
                                 " does not exist");
    }
    run_render(*args);
  });
}

}  // namespace parallax::cli
