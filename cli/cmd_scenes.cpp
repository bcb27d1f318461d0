// parallax scenes: the shipped scenes with one-line descriptions (--json: machine-readable).
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::cli {

namespace {

void run_scenes(bool json) {
  const auto dir = sim::scenes_dir();
  const auto names = sim::shipped_scenes();
  if (names.empty()) {
    throw std::runtime_error("no scene files (*.json) found in " + dir.string() +
                             " (set PARALLAX_ASSETS to the assets folder)");
  }
  // Every listed scene is loaded, so a broken shipped file is reported here too.
  std::vector<sim::SceneModel> scenes;
  for (const auto& n : names) scenes.push_back(sim::load_scene(dir / (n + ".json")));
  if (json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& s : scenes) {
      out.push_back({{"name", s.name},
                     {"description", s.description},
                     {"path", s.source.string()},
                     {"bodies", s.bodies.size()},
                     {"markers", s.markers.size()},
                     {"joints", s.joints.size()},
                     {"action_size", s.action_size()},
                     {"episode_steps", s.episode_steps},
                     {"control_hz", s.control_hz},
                     {"physics_hz", s.physics_hz},
                     {"image", {s.camera.width, s.camera.height}}});
    }
    std::printf("%s\n", json_text(out, 2).c_str());
    return;
  }
  std::size_t width = 0;
  for (const auto& s : scenes) width = std::max(width, s.name.size());
  for (std::size_t i = 0; i < scenes.size(); ++i) {
    const auto& s = scenes[i];
    std::printf("%-*s  %s%s\n", static_cast<int>(width), names[i].c_str(), s.description.c_str(),
                names[i] == "push" ? " (default)" : "");
  }
}

}  // namespace

void register_scenes(CLI::App& app) {
  auto* sub = app.add_subcommand(
      "scenes", "List the shipped scenes (assets/scenes/*.json) with one-line descriptions");
  auto json = std::make_shared<bool>(false);
  sub->add_flag("--json", *json, "Print a JSON array (name, description, path, sizes, rates)");
  sub->callback([json] { run_scenes(*json); });
}

}  // namespace parallax::cli
