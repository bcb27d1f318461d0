// Finding the world model for a scene: an explicit checkpoint, the shipped one
// (assets/models/<scene>.pt), or freshly initialised weights when neither exists.
// Reference: docs/worldmodel.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

struct ModelSource {
  std::shared_ptr<worldmodel::WorldModel> model;  // any family (worldmodel/world_model.hpp)
  std::string description;  // the checkpoint path, or "untrained tiny model (...)"
  std::string sha256;       // of the checkpoint file ("" when untrained)
  bool trained = false;     // false when no checkpoint was found
};

// `checkpoint` may be empty. Throws std::runtime_error when the checkpoint's frame or action
// size does not match the scene (naming both), when it was trained on another scene, or when
// the file is unreadable.
ModelSource load_model_for_scene(const sim::SceneModel& scene,
                                 const std::filesystem::path& checkpoint, const std::string& device,
                                 std::uint64_t init_seed);

// The checkpoint planners use (plan, scale): `checkpoint` when given; else the scene's shipped
// latent model assets/models/<scene>-latent.pt when there is one (a cheap imagined step without
// pixels); else empty, which load_model_for_scene() resolves to the scene's frame model.
std::filesystem::path planner_checkpoint(const sim::SceneModel& scene,
                                         const std::filesystem::path& checkpoint);

}  // namespace parallax::agents
