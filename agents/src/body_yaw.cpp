// A body's yaw by render and compare (body_yaw.hpp).
#include "parallax/agents/body_yaw.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>
#include <stdexcept>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {
namespace {

constexpr float kHidden = -50.0f;  // z that puts a body under the table, out of view
constexpr int kCoarse = 18;        // the first sweep's yaws over one period

}  // namespace

BodyYaw::BodyYaw(std::shared_ptr<const sim::SceneModel> scene, const std::string& body)
    : scene_(std::move(scene)) {
  const auto& sc = *scene_;
  body_ = sc.body_index(body);
  if (body_ < 0 || sc.bodies[body_].shape == sim::Shape::kPlane)
    throw std::invalid_argument("body yaw: scene '" + sc.name + "' body '" + body + "': " +
                                (body_ < 0 ? "no such body" : "a plane has no yaw to read"));
  const auto& b = sc.bodies[body_];
  const bool square =
      b.shape == sim::Shape::kBox && std::abs(b.half_extents[0] - b.half_extents[1]) < 1e-9;
  period_ = square ? std::numbers::pi / 2 : 2 * std::numbers::pi;
  renderer_ = std::make_unique<sim::Renderer>(scene_);
  h_ = renderer_->height(), w_ = renderer_->width();
  sim::World world(scene_, 0);
  sim::WorldRenderInputs gather(sc);
  const sim::RenderInputs ref = gather.gather(world);
  const int nk = static_cast<int>(sc.bodies.size()), nm = static_cast<int>(sc.markers.size());
  hidden_.assign(ref.poses, ref.poses + nk * 7);
  reference_ = hidden_;
  for (int k = 0; k < nk; ++k)
    if (sc.bodies[k].shape != sim::Shape::kPlane && k != body_) hidden_[k * 7 + 2] = kHidden;
  colors_.assign(ref.colors, ref.colors + nk * 3);
  scales_.assign(ref.scales, ref.scales + nk);
  markers_.assign(ref.markers, ref.markers + nm * 3);
  for (int m = 0; m < nm; ++m) markers_[m * 3 + 2] = kHidden;  // no markers in the silhouettes
}

BodyYaw::~BodyYaw() = default;

double BodyYaw::iou_at(const std::vector<std::uint8_t>& mask, int count, float x, float y,
                       const std::vector<float>& yaws, std::span<const Occluder> occluders,
                       std::vector<double>& out,
                       std::vector<std::array<double, 2>>& centroids) const {
  const int n = static_cast<int>(yaws.size());
  const std::size_t nk = scene_->bodies.size(), nm = scene_->markers.size();
  const std::size_t npx = static_cast<std::size_t>(h_) * w_;
  poses_n_.resize(n * nk * 7), colors_n_.resize(n * nk * 3), scales_n_.resize(n * nk);
  markers_n_.resize(n * nm * 3);
  for (int i = 0; i < n; ++i) {
    float* p = poses_n_.data() + i * nk * 7;
    std::copy(hidden_.begin(), hidden_.end(), p);
    for (const auto& o : occluders) {
      if (o.body < 0 || o.body >= static_cast<int>(nk) || o.body == body_) continue;
      std::copy_n(reference_.data() + o.body * 7, 7, p + o.body * 7);
      p[o.body * 7] = o.x, p[o.body * 7 + 1] = o.y;
    }
    float* q = p + body_ * 7;
    q[0] = x, q[1] = y;
    q[3] = 0, q[4] = 0, q[5] = std::sin(yaws[i] / 2), q[6] = std::cos(yaws[i] / 2);
    std::copy(colors_.begin(), colors_.end(), colors_n_.begin() + i * nk * 3);
    std::copy(scales_.begin(), scales_.end(), scales_n_.begin() + i * nk);
    std::copy(markers_.begin(), markers_.end(), markers_n_.begin() + i * nm * 3);
  }
  rgb_n_.resize(n * npx * 3), ids_n_.resize(n * npx);
  renderer_->render(sim::RenderInputs{.n = n,
                                      .poses = poses_n_.data(),
                                      .markers = markers_n_.data(),
                                      .colors = colors_n_.data(),
                                      .scales = scales_n_.data()},
                    rgb_n_.data(), ids_n_.data());
  out.assign(n, 0.0);
  centroids.assign(n, {0.0, 0.0});
  double best = -1;
  for (int i = 0; i < n; ++i) {
    const std::uint8_t* ids = ids_n_.data() + i * npx;
    int inter = 0, rendered = 0;
    double su = 0, sv = 0;
    for (std::size_t q = 0; q < npx; ++q) {
      const bool r = ids[q] == body_ + 1;
      rendered += r;
      inter += r && mask[q];
      if (r) su += static_cast<double>(q % w_) + 0.5, sv += static_cast<double>(q / w_) + 0.5;
    }
    if (rendered > 0) centroids[i] = {su / rendered, sv / rendered};
    const int uni = count + rendered - inter;
    out[i] = uni > 0 ? static_cast<double>(inter) / uni : 0.0;
    best = std::max(best, out[i]);
  }
  return best;
}

std::optional<float> BodyYaw::read(const std::uint8_t* rgb, const BodyFinder& finder, float x,
                                   float y, double* overlap, std::span<const Occluder> occluders,
                                   std::array<double, 4>* centroids) const {
  const std::size_t npx = static_cast<std::size_t>(h_) * w_;
  classes_.resize(npx);
  finder.classify(rgb, h_, w_, classes_.data());
  std::vector<std::uint8_t> mask(npx);
  int count = 0;
  double ou = 0, ov = 0;
  for (std::size_t q = 0; q < npx; ++q) {
    count += mask[q] = classes_[q] == body_ + 1;
    if (mask[q]) ou += static_cast<double>(q % w_) + 0.5, ov += static_cast<double>(q / w_) + 0.5;
  }
  if (count < 4) return std::nullopt;
  const double lo = -period_ / 2;
  double step = period_ / kCoarse;
  std::vector<float> yaws(kCoarse);
  for (int i = 0; i < kCoarse; ++i) yaws[i] = static_cast<float>(lo + i * step);
  std::vector<double> iou;
  std::vector<std::array<double, 2>> cen;
  double best = iou_at(mask, count, x, y, yaws, occluders, iou, cen);
  const auto first = std::max_element(iou.begin(), iou.end()) - iou.begin();
  double yaw = yaws[first];
  std::array<double, 2> best_c = cen[first];
  for (int round = 0; round < 2; ++round) {  // halvings around the best
    step /= 2;
    const std::vector<float> around{static_cast<float>(yaw - step), static_cast<float>(yaw + step)};
    std::vector<double> r;
    std::vector<std::array<double, 2>> rc;
    iou_at(mask, count, x, y, around, occluders, r, rc);
    for (int i = 0; i < 2; ++i)
      if (r[i] > best) best = r[i], yaw = around[i], best_c = rc[i];
  }
  if (centroids) *centroids = {ou / count, ov / count, best_c[0], best_c[1]};
  // Into [-period/2, period/2).
  double folded = std::fmod(yaw - lo, period_);
  if (folded < 0) folded += period_;
  if (overlap) *overlap = best;
  return static_cast<float>(folded + lo);
}

}  // namespace parallax::agents
