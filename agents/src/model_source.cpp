#include "parallax/agents/model_source.hpp"

#include <stdexcept>

#include <torch/torch.h>

#include "parallax/worldmodel/checkpoint.hpp"

namespace parallax::agents {

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
  if (!path.empty()) {
    auto loaded = worldmodel::load_checkpoint(path, dev);
    src.config = loaded.config;
    src.model = loaded.model;
    src.description = path.string();
    src.trained = true;
  } else {
    torch::manual_seed(init_seed);
    src.config = worldmodel::make_preset("tiny", scene.camera.height, scene.camera.width,
                                         scene.action_size());
    src.model = worldmodel::RSSM(src.config);
    src.model->to(dev);
    src.description = "untrained tiny model (no checkpoint for scene '" + scene.name + "')";
  }
  src.model->eval();
  if (src.config.height != scene.camera.height || src.config.width != scene.camera.width ||
      src.config.action_size != scene.action_size())
    throw std::runtime_error(
        "model " + src.description + " expects " + std::to_string(src.config.height) + "x" +
        std::to_string(src.config.width) + " frames and " + std::to_string(src.config.action_size) +
        " action components, but scene '" + scene.name + "' has " +
        std::to_string(scene.camera.height) + "x" + std::to_string(scene.camera.width) + " and " +
        std::to_string(scene.action_size()));
  return src;
}

}  // namespace parallax::agents
