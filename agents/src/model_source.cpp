#include "parallax/agents/model_source.hpp"

#include <optional>
#include <stdexcept>

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include "parallax/agents/pose_world_model.hpp"
#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/rssm.hpp"

namespace parallax::agents {

std::filesystem::path planner_checkpoint(const sim::SceneModel& scene,
                                         const std::filesystem::path& checkpoint) {
  if (!checkpoint.empty()) return checkpoint;
  const auto latent = sim::scenes_dir().parent_path() / "models" / (scene.name + "-latent.pt");
  return std::filesystem::exists(latent) ? latent : std::filesystem::path();
}

ModelSource load_model_for_scene(const sim::SceneModel& scene,
                                 const std::filesystem::path& checkpoint, const std::string& device,
                                 std::uint64_t init_seed) {
  std::filesystem::path path = checkpoint;
  if (path.empty()) {
    const auto shipped = sim::scenes_dir().parent_path() / "models" / (scene.name + ".pt");
    if (std::filesystem::exists(shipped)) path = shipped;
  }
  ModelSource src;
  const torch::Device dev(device);
  // The file is read once: its family decides who builds it (pose-world needs the scene).
  const auto file = path.empty() ? std::nullopt : worldmodel::read_model_file(path.string());
  if (file && file->family == "pose-world") {
    src.model = load_pose_world_model(std::make_shared<const sim::SceneModel>(scene), *file,
                                      path.string(), dev);
    src.sha256 = file->sha256;
    src.description = path.string();
    src.trained = true;
  } else if (!path.empty()) {
    auto loaded = file ? worldmodel::load_world_model(*file, path.string(), dev)
                       : worldmodel::load_world_model(path.string(), dev);
    src.model = loaded.model;
    src.sha256 = loaded.sha256;
    src.description = path.string();
    src.trained = true;
  } else {
    torch::manual_seed(init_seed);
    worldmodel::RSSM rssm(worldmodel::make_preset("tiny", scene.camera.height, scene.camera.width,
                                                  scene.action_size()));
    rssm->to(dev);
    src.model = worldmodel::make_rssm_world_model(rssm);
    src.description = "untrained tiny model (no checkpoint for scene '" + scene.name + "')";
  }
  src.model->module().eval();
  const auto& info = src.model->info();
  if (info.height != scene.camera.height || info.width != scene.camera.width ||
      info.action_size != scene.action_size())
    throw std::runtime_error(
        "model " + src.description + " expects " + std::to_string(info.height) + "x" +
        std::to_string(info.width) + " frames and " + std::to_string(info.action_size) +
        " action components, but scene '" + scene.name + "' has " +
        std::to_string(scene.camera.height) + "x" + std::to_string(scene.camera.width) + " and " +
        std::to_string(scene.action_size()));
  // A family that records its training scene must match by name (same sizes, other world).
  const auto cfg = nlohmann::json::parse(info.config_json, nullptr, false);
  if (cfg.is_object() && cfg.contains("scene") && cfg["scene"].is_string()) {
    const std::string trained_on = cfg["scene"].get<std::string>();
    if (!trained_on.empty() && trained_on != scene.name)
      throw std::runtime_error("model " + src.description + " was trained on scene '" + trained_on +
                               "', not '" + scene.name + "'");
  }
  return src;
}

}  // namespace parallax::agents
