// A body's yaw read from a frame by rendering and comparing (analysis by synthesis): the body is
// rendered alone at its known x, y (FramePoses) at candidate yaws, and the yaw whose silhouette
// (the renderer's ids) best overlaps the pixels the colour finder gives the body in the frame
// (intersection over union) is taken: a coarse sweep over the body's symmetry period, then two
// halvings around the best. For a body with square symmetry about z (a box whose x and y half
// extents are equal: push's cube) the period is 90 deg and the yaw is read in [-45, 45) deg;
// otherwise 360 deg. Cost: 22 renders of the frame's size per read (batched).
// Reference: docs/agents.md, "A pose-space model".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parallax/agents/body_finder.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::agents {

class BodyYaw {
 public:
  // Throws std::invalid_argument naming the scene and body for an unknown body or a plane.
  BodyYaw(std::shared_ptr<const sim::SceneModel> scene, const std::string& body);
  ~BodyYaw();
  double period() const { return period_; }  // rad
  // The body's yaw (rad, within [-period/2, period/2)) in `rgb` [H, W, 3] u8, the body standing at
  // x, y (m); `finder` gives its pixels. nullopt when the frame shows fewer than 4 of them.
  // `overlap` (optional): the best intersection over union. `occluders`: other bodies whose x, y
  // is known (an agent's own pusher), rendered there too, so that the silhouettes hide what they
  // hide in the frame.
  struct Occluder {
    int body = -1;  // scene body index
    float x = 0, y = 0;
  };
  // `centroids` (optional): the body's visible centroid in the frame and in the best silhouette
  // [px] (u, v, u, v): their difference says where the body's x, y is off (a pusher hiding part
  // of it moves the colour finder's centroid; the silhouettes hide the same part).
  std::optional<float> read(const std::uint8_t* rgb, const BodyFinder& finder, float x, float y,
                            double* overlap = nullptr, std::span<const Occluder> occluders = {},
                            std::array<double, 4>* centroids = nullptr) const;

 private:
  double iou_at(const std::vector<std::uint8_t>& mask, int count, float x, float y,
                const std::vector<float>& yaws, std::span<const Occluder> occluders,
                std::vector<double>& out, std::vector<std::array<double, 2>>& centroids) const;
  std::shared_ptr<const sim::SceneModel> scene_;
  int body_ = -1;
  double period_ = 0;
  std::unique_ptr<sim::Renderer> renderer_;
  std::vector<float> hidden_, reference_, colors_, scales_, markers_;  // reference render inputs
  int h_ = 0, w_ = 0;
  mutable std::vector<float> poses_n_, colors_n_, scales_n_, markers_n_;
  mutable std::vector<std::uint8_t> rgb_n_, ids_n_;
  mutable std::vector<std::int16_t> classes_;
};

}  // namespace parallax::agents
