// The pose-world family: a world model that predicts where the scene's rolling bodies go, not
// pixels. It reads the bodies' x, y from the context frames (BodyLocator: render and compare),
// rolls them forward with a learned network (worldmodel/python/train_pose_world.py: the next
// positions of all bodies from their last four and the last three actions), and draws its frames
// with the scene's own renderer at the predicted positions. Reward and continue are the scene's
// own terms evaluated on the predicted positions (PoseReward; out_of_bounds terminations).
//
// What is learned is the dynamics (forces, rolling, collisions between the bodies and with the
// walls); perception and drawing use what Parallax knows of the scene (shapes, colours, camera,
// light). It therefore needs the scene file to load, which is why it lives in agents and
// load_model_for_scene() builds it (worldmodel::load_world_model() refuses the family by name).
//
// Slot state: [0] positions [B, 4, P, 2] (m, oldest first), [1] the two actions before the next
// one [B, 2, A], [2] markers [B, M, 2] (m), [3] visible [B, P] (1: in view); with the config's
// `rolling_state` also [4] each body's rolling displacement [B, P, 2] (m per tick: what its spin
// alone would roll it; a rolling ball's equals its displacement, the difference is its slip) and
// [5] carried [B, 1] (0 right after reading frames, where it is taken as the last displacement; 1
// once the network has carried it: frames do not show spin, observe() keeps the model's own).
// step() is one batched MLP call (info().latent_step: no pixels); decode() renders.
// Scope: scenes whose dynamic bodies are all spheres of fixed colour and size resting on the table
// (billiards); others are refused at load, naming the body.
// Reference: docs/worldmodel.md, "The pose-world family".
#pragma once

#include <memory>
#include <string>

#include "parallax/sim/scene.hpp"
#include "parallax/worldmodel/model_file.hpp"
#include "parallax/worldmodel/world_model.hpp"

namespace parallax::agents {

// Reads a "pose-world" checkpoint for `scene` on `device`. Throws std::runtime_error with one line
// naming the file and the field for a bad config or weights, another family, or a scene the
// checkpoint was not trained on (by name, bodies or action size) or that the family cannot draw,
// read or reward (naming the body, term or termination).
std::shared_ptr<worldmodel::WorldModel> load_pose_world_model(
    std::shared_ptr<const sim::SceneModel> scene, const std::string& path, torch::Device device);
// The same for the checkpoint already read (worldmodel::read_model_file) from `path`.
std::shared_ptr<worldmodel::WorldModel> load_pose_world_model(
    std::shared_ptr<const sim::SceneModel> scene, const worldmodel::ModelFile& file,
    const std::string& path, torch::Device device);

}  // namespace parallax::agents
