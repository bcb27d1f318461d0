// The agent's own bodies painted into imagined frames (own_body_painter.hpp).
#include "parallax/agents/own_body_painter.hpp"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {
namespace {

constexpr float kHidden = -50.0f;  // z that puts a body under the table, out of view

}  // namespace

OwnBodyPainter::OwnBodyPainter(std::shared_ptr<const sim::SceneModel> scene,
                               std::vector<std::string> bodies, const BodyFinder& finder)
    : scene_(std::move(scene)), names_(std::move(bodies)), finder_(finder) {
  const auto& sc = *scene_;
  for (const auto& name : names_) {
    const int k = sc.body_index(name);
    if (k < 0 || sc.bodies[k].shape == sim::Shape::kPlane)
      throw std::invalid_argument("own bodies: scene '" + sc.name + "' body '" + name + "': " +
                                  (k < 0 ? "no such body" : "a plane is not a body to paint"));
    index_.push_back(k);
  }
  renderer_ = std::make_unique<sim::Renderer>(scene_);  // the options frames are rendered with
  h_ = renderer_->height(), w_ = renderer_->width();
  const int nk = static_cast<int>(sc.bodies.size()), nm = static_cast<int>(sc.markers.size());
  // The reference: the reset with seed 0 (each body's z, orientation, colour and size).
  sim::World world(scene_, 0);
  sim::WorldRenderInputs gather(sc);
  const sim::RenderInputs ref = gather.gather(world);
  reference_.assign(ref.poses, ref.poses + nk * 7);
  colors_.assign(ref.colors, ref.colors + nk * 3);
  scales_.assign(ref.scales, ref.scales + nk);
  markers_.assign(ref.markers, ref.markers + nm * 3);
  hidden_ = reference_;
  for (int k = 0; k < nk; ++k)
    if (sc.bodies[k].shape != sim::Shape::kPlane) hidden_[k * 7 + 2] = kHidden;
  set_markers(markers_);
}

void OwnBodyPainter::set_markers(std::span<const float> markers_xyz) {
  if (markers_xyz.size() != scene_->markers.size() * 3)
    throw std::invalid_argument("own bodies: expected " +
                                std::to_string(scene_->markers.size() * 3) +
                                " marker coordinates, got " + std::to_string(markers_xyz.size()));
  markers_.assign(markers_xyz.begin(), markers_xyz.end());
  empty_.assign(static_cast<std::size_t>(h_) * w_ * 3, 0);
  renderer_->render(sim::RenderInputs{.n = 1,
                                      .poses = hidden_.data(),
                                      .markers = markers_.data(),
                                      .colors = colors_.data(),
                                      .scales = scales_.data()},
                    empty_.data(), nullptr);
}

void OwnBodyPainter::paint(std::uint8_t* frames, int n, std::span<const float> xy) {
  const std::size_t d = index_.size(), nk = scene_->bodies.size(), nm = scene_->markers.size();
  if (xy.size() != static_cast<std::size_t>(n) * d * 2)
    throw std::invalid_argument("own bodies: expected x, y of " + std::to_string(d) +
                                " bodies for " + std::to_string(n) + " frames, got " +
                                std::to_string(xy.size()) + " values");
  if (n <= 0) return;
  const std::size_t npx = static_cast<std::size_t>(h_) * w_;
  // Each frame's own bodies alone on the empty scene.
  poses_.resize(n * nk * 7), colors_n_.resize(n * nk * 3), scales_n_.resize(n * nk);
  markers_n_.resize(n * nm * 3);
  for (int i = 0; i < n; ++i) {
    float* p = poses_.data() + i * nk * 7;
    std::copy(hidden_.begin(), hidden_.end(), p);
    for (std::size_t b = 0; b < d; ++b) {
      const int k = index_[b];
      std::copy_n(reference_.data() + k * 7, 7, p + k * 7);
      p[k * 7] = xy[(i * d + b) * 2], p[k * 7 + 1] = xy[(i * d + b) * 2 + 1];
    }
    std::copy(colors_.begin(), colors_.end(), colors_n_.begin() + i * nk * 3);
    std::copy(scales_.begin(), scales_.end(), scales_n_.begin() + i * nk);
    std::copy(markers_.begin(), markers_.end(), markers_n_.begin() + i * nm * 3);
  }
  own_rgb_.resize(n * npx * 3);
  renderer_->render(sim::RenderInputs{.n = n,
                                      .poses = poses_.data(),
                                      .markers = markers_n_.data(),
                                      .colors = colors_n_.data(),
                                      .scales = scales_n_.data()},
                    own_rgb_.data(), nullptr);
  classes_.resize(npx);
  for (int i = 0; i < n; ++i) {
    std::uint8_t* f = frames + i * npx * 3;
    const std::uint8_t* own = own_rgb_.data() + i * npx * 3;
    // Where the model drew an own body: the empty scene.
    finder_.classify(f, h_, w_, classes_.data());
    for (std::size_t q = 0; q < npx; ++q)
      for (int k : index_)
        if (classes_[q] == k + 1) {
          std::copy_n(empty_.data() + q * 3, 3, f + q * 3);
          break;
        }
    // Where the own bodies stand: their pixels and their shadows.
    for (std::size_t q = 0; q < npx; ++q)
      if (!std::equal(own + q * 3, own + q * 3 + 3, empty_.data() + q * 3))
        std::copy_n(own + q * 3, 3, f + q * 3);
  }
}

}  // namespace parallax::agents
