// Finding the world model for a scene: an explicit checkpoint, the shipped one
// (assets/models/<scene>.pt), or freshly initialised weights when neither exists.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/config.hpp"
#include "parallax/worldmodel/rssm.hpp"

namespace parallax::agents {

struct ModelSource {
  worldmodel::ModelConfig config;
  worldmodel::RSSM model{nullptr};
  std::string description;  // the checkpoint path, or "untrained tiny model (...)"
  bool trained = false;     // false when no checkpoint was found
};

// `checkpoint` may be empty. Throws std::runtime_error when the checkpoint's frame or action
// size does not match the scene (naming both), or when the file is unreadable.
ModelSource load_model_for_scene(const sim::SceneModel& scene,
                                 const std::filesystem::path& checkpoint, const std::string& device,
                                 std::uint64_t init_seed);

}  // namespace parallax::agents
