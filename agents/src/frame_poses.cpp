// Bodies' table positions read from a frame (frame_poses.hpp).
#include "parallax/agents/frame_poses.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <random>
#include <stdexcept>
#include <utility>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {
namespace {

constexpr float kHidden = -50.0f;  // z that puts a body or marker under the table, out of view

// Solves the n x n system a x = b (row-major a) by Gaussian elimination with partial pivoting;
// false when it is singular.
bool solve(std::vector<double>& a, std::vector<double>& b, int n) {
  for (int c = 0; c < n; ++c) {
    int piv = c;
    for (int r = c + 1; r < n; ++r)
      if (std::abs(a[r * n + c]) > std::abs(a[piv * n + c])) piv = r;
    if (std::abs(a[piv * n + c]) < 1e-12) return false;
    if (piv != c) {
      for (int k = 0; k < n; ++k) std::swap(a[c * n + k], a[piv * n + k]);
      std::swap(b[c], b[piv]);
    }
    for (int r = c + 1; r < n; ++r) {
      const double f = a[r * n + c] / a[c * n + c];
      for (int k = c; k < n; ++k) a[r * n + k] -= f * a[c * n + k];
      b[r] -= f * b[c];
    }
  }
  for (int c = n - 1; c >= 0; --c) {
    double s = b[c];
    for (int k = c + 1; k < n; ++k) s -= a[c * n + k] * b[k];
    b[c] = s / a[c * n + c];
  }
  return true;
}

// q * p for unit quaternions (x, y, z, w).
std::array<float, 4> multiply(const std::array<float, 4>& q, const float* p) {
  return {q[3] * p[0] + q[0] * p[3] + q[1] * p[2] - q[2] * p[1],
          q[3] * p[1] - q[0] * p[2] + q[1] * p[3] + q[2] * p[0],
          q[3] * p[2] + q[0] * p[1] - q[1] * p[0] + q[2] * p[3],
          q[3] * p[3] - q[0] * p[0] - q[1] * p[1] - q[2] * p[2]};
}

// Border side s (0 left, 1 right, 2 top, 3 bottom) of a width x height frame: a pixel (u, v)'s
// signed distance beyond that border [px] (positive outside) and its position along it [px].
std::array<double, 2> to_side(int s, double u, double v, int width, int height) {
  switch (s) {
    case 0:
      return {-u, v};
    case 1:
      return {u - width, v};
    case 2:
      return {-v, u};
    default:
      return {v - height, u};
  }
}
std::array<double, 2> from_side(int s, double out, double along, int width, int height) {
  switch (s) {
    case 0:
      return {-out, along};
    case 1:
      return {width + out, along};
    case 2:
      return {along, -out};
    default:
      return {along, height + out};
  }
}

// The cut fits' features (frame_poses.hpp) of a visible centroid at `side` coordinates `sc`
// (side length `length` [px]), for a body of radius `radius` [px] showing `visible` of its
// reference pixels.
std::array<double, 7> cut_features(const std::array<double, 2>& sc, double radius, double length,
                                   double visible) {
  const double a = -sc[0] / radius, c = 2.0 * sc[1] / length - 1.0;
  return {1.0, a, a * a, c, c * c, a * c, visible};
}

}  // namespace

FramePoses::FramePoses(std::shared_ptr<const sim::SceneModel> scene,
                       std::vector<std::string> bodies, FramePosesOptions options)
    : names_(std::move(bodies)) {
  const auto& sc = *scene;
  const auto refuse = [&](const std::string& body, const std::string& why) {
    throw std::invalid_argument("poses from frames: scene '" + sc.name + "' body '" + body +
                                "': " + why);
  };
  if (options.samples < 16)
    throw std::invalid_argument("poses from frames: samples must be >= 16, got " +
                                std::to_string(options.samples));
  for (const auto& name : names_) {
    const int k = sc.body_index(name);
    if (k < 0) refuse(name, "no such body");
    if (sc.bodies[k].shape == sim::Shape::kPlane) refuse(name, "a plane has no position to find");
    if (sc.bodies[k].randomize.color)
      refuse(name, "its colour is randomised per episode; the colour finder is calibrated once");
    index_.push_back(k);
  }
  const int nk = static_cast<int>(sc.bodies.size()), nm = static_cast<int>(sc.markers.size());
  sim::Renderer renderer(scene, sim::RenderOptions{.threads = 1});
  h_ = renderer.height(), w_ = renderer.width();
  const std::size_t npx = static_cast<std::size_t>(h_) * w_;
  std::vector<std::uint8_t> rgb(npx * 3), ids(npx);

  // The reference scene: the reset with seed 0, every body and marker in view.
  sim::World world(scene, 0);
  sim::WorldRenderInputs gather(sc);
  const sim::RenderInputs ref = gather.gather(world);
  std::vector<float> poses(ref.poses, ref.poses + nk * 7), colors(ref.colors, ref.colors + nk * 3),
      scales(ref.scales, ref.scales + nk), markers(ref.markers, ref.markers + nm * 3);
  renderer.render(ref, rgb.data(), ids.data());
  finder_ = std::make_unique<BodyFinder>(sc, colors.data());
  finder_->calibrate(rgb.data(), ids.data(), h_, w_);

  // Calibration renders: one body in view at a time.
  std::vector<float> hidden = poses, hidden_markers = markers;
  for (int k = 0; k < nk; ++k)
    if (sc.bodies[k].shape != sim::Shape::kPlane) hidden[k * 7 + 2] = kHidden;
  for (int m = 0; m < nm; ++m) hidden_markers[m * 3 + 2] = kHidden;
  std::mt19937_64 rng(options.seed);
  std::uniform_real_distribution<float> ux(options.box_min[0], options.box_max[0]),
      uy(options.box_min[1], options.box_max[1]), yaw(-3.14159265f, 3.14159265f), unit(0.0f, 1.0f);
  const double cx = 0.5 * w_, cy = 0.5 * h_;
  // The cut fits draw from their own stream, so that the plain fits stay those of the same seed.
  std::mt19937_64 cut_rng(options.seed ^ 0x9e3779b97f4a7c15ull);
  // Body k alone at x, y (its reset height) turned by a yaw drawn from `gen`: its ids' centroid.
  const auto shoot = [&](int k, float x, float y, std::mt19937_64& gen) {
    std::vector<float> pose = hidden;
    float* b = pose.data() + k * 7;
    b[0] = x, b[1] = y;
    b[2] = poses[k * 7 + 2];
    const float half = 0.5f * yaw(gen);
    const auto q = multiply({0.0f, 0.0f, std::sin(half), std::cos(half)}, poses.data() + k * 7 + 3);
    std::copy(q.begin(), q.end(), b + 3);
    renderer.render(sim::RenderInputs{.n = 1,
                                      .poses = pose.data(),
                                      .markers = hidden_markers.data(),
                                      .colors = colors.data(),
                                      .scales = scales.data()},
                    rgb.data(), ids.data());
    return id_centroids(ids.data(), h_, w_, finder_->num_classes())[k + 1];
  };
  for (std::size_t p = 0; p < index_.size(); ++p) {
    const int k = index_[p];
    struct Sample {
      double u, v, x, y;
      int pixels;
    };
    std::vector<Sample> all;
    for (int s = 0; s < options.samples; ++s) {
      const float x = ux(rng), y = uy(rng);
      const auto c = shoot(k, x, y, rng);
      if (!c.border && c.pixels > 0) all.push_back({c.x, c.y, x, y, c.pixels});
    }
    std::vector<int> counts;
    for (const auto& s : all) counts.push_back(s.pixels);
    Fit fit;
    if (!counts.empty()) {
      std::nth_element(counts.begin(), counts.begin() + counts.size() / 2, counts.end());
      fit.reference_pixels = counts[counts.size() / 2];
    }
    std::vector<Sample> used;
    for (const auto& s : all)
      if (2 * s.pixels >= fit.reference_pixels) used.push_back(s);
    fit.samples = static_cast<int>(used.size());
    if (fit.samples < 16)
      refuse(names_[p], "only " + std::to_string(fit.samples) + " of " +
                            std::to_string(options.samples) +
                            " calibration renders show it whole (calibration box too large?)");
    // x = (h0 u + h1 v + h2) / (h6 u + h7 v + 1), y = (h3 u + h4 v + h5) / (same), u and v
    // normalised to [-1, 1]: linear in h; normal equations.
    std::vector<double> ata(64, 0.0), atb(8, 0.0);
    const auto add_row = [&](const double row[8], double rhs) {
      for (int i = 0; i < 8; ++i) {
        for (int j = 0; j < 8; ++j) ata[i * 8 + j] += row[i] * row[j];
        atb[i] += row[i] * rhs;
      }
    };
    for (const auto& s : used) {
      const double u = (s.u - cx) / cx, v = (s.v - cy) / cy;
      const double rx[8] = {u, v, 1, 0, 0, 0, -u * s.x, -v * s.x};
      const double ry[8] = {0, 0, 0, u, v, 1, -u * s.y, -v * s.y};
      add_row(rx, s.x);
      add_row(ry, s.y);
    }
    if (!solve(ata, atb, 8)) refuse(names_[p], "the calibration's homography is singular");
    std::copy(atb.begin(), atb.end(), fit.h);
    fit.h[8] = 1.0;
    fit.radius = std::sqrt(std::max(fit.reference_pixels, 1) / 3.14159265358979);
    fits_.push_back(fit);
    double se = 0;
    for (const auto& s : used) {
      float xy[2];
      map(static_cast<int>(p), s.u, s.v, xy);
      se += (xy[0] - s.x) * (xy[0] - s.x) + (xy[1] - s.y) * (xy[1] - s.y);
    }
    fits_.back().rms = std::sqrt(se / static_cast<double>(used.size()));

    // Cut fits, one per border side: virtual centroids drawn across the border, mapped to x, y.
    Fit& f = fits_.back();
    double cut_se = 0;
    for (int side = 0; side < 4; ++side) {
      const double length = side < 2 ? h_ : w_;
      struct CutSample {
        std::array<double, kCutFeatures> f;
        double t[2];
        float x, y;
      };
      std::vector<CutSample> cs;
      for (int s = 0; s < options.cut_samples; ++s) {
        const double out = f.radius * (3.0 * unit(cut_rng) - 2.0), along = length * unit(cut_rng);
        const auto uv = from_side(side, out, along, w_, h_);
        float xy[2];
        map(static_cast<int>(p), uv[0], uv[1], xy);
        const auto c = shoot(k, xy[0], xy[1], cut_rng);
        if (c.pixels < kMinCutPixels || c.edge[side] == 0 ||
            *std::max_element(c.edge, c.edge + 4) != c.edge[side])
          continue;
        const auto sc = to_side(side, c.x, c.y, w_, h_);
        cs.push_back(
            {cut_features(sc, f.radius, length, static_cast<double>(c.pixels) / f.reference_pixels),
             {out / f.radius, 2.0 * along / length - 1.0},
             xy[0],
             xy[1]});
      }
      Cut& cut = f.cut[side];
      if (static_cast<int>(cs.size()) < 3 * kCutFeatures) continue;
      for (int t = 0; t < 2; ++t) {
        std::vector<double> m(kCutFeatures * kCutFeatures, 0.0), r(kCutFeatures, 0.0);
        for (const auto& c : cs)
          for (int i = 0; i < kCutFeatures; ++i) {
            for (int j = 0; j < kCutFeatures; ++j) m[i * kCutFeatures + j] += c.f[i] * c.f[j];
            r[i] += c.f[i] * c.t[t];
          }
        if (!solve(m, r, kCutFeatures)) break;
        std::copy(r.begin(), r.end(), cut.coef[t]);
        cut.ok = t == 1;
      }
      if (!cut.ok) continue;
      for (const auto& c : cs) cut.a_max = std::max(cut.a_max, c.f[1]);
      for (const auto& c : cs) {
        double t[2] = {0, 0};
        for (int i = 0; i < kCutFeatures; ++i)
          t[0] += cut.coef[0][i] * c.f[i], t[1] += cut.coef[1][i] * c.f[i];
        const auto uv = from_side(side, t[0] * f.radius, 0.5 * (t[1] + 1.0) * length, w_, h_);
        float xy[2];
        map(static_cast<int>(p), uv[0], uv[1], xy);
        cut_se += (xy[0] - c.x) * (xy[0] - c.x) + (xy[1] - c.y) * (xy[1] - c.y);
      }
      f.cut_used += static_cast<int>(cs.size());
    }
    if (f.cut_used > 0) f.cut_rms = std::sqrt(cut_se / f.cut_used);
  }
}

bool FramePoses::cut_centroid(int p, int side, const Centroid& c, double uv[2]) const {
  const Fit& f = fits_[p];
  const Cut& cut = f.cut[side];
  if (!cut.ok) return false;
  const double length = side < 2 ? h_ : w_;
  const auto feat = cut_features(to_side(side, c.x, c.y, w_, h_), f.radius, length,
                                 static_cast<double>(c.pixels) / f.reference_pixels);
  if (feat[1] > cut.a_max) return false;
  double t[2] = {0, 0};
  for (int i = 0; i < kCutFeatures; ++i)
    t[0] += cut.coef[0][i] * feat[i], t[1] += cut.coef[1][i] * feat[i];
  const auto out = from_side(side, t[0] * f.radius, 0.5 * (t[1] + 1.0) * length, w_, h_);
  uv[0] = out[0], uv[1] = out[1];
  return true;
}

void FramePoses::map(int p, double u, double v, float out[2]) const {
  const double* h = fits_[p].h;
  const double un = (u - 0.5 * w_) / (0.5 * w_), vn = (v - 0.5 * h_) / (0.5 * h_);
  const double d = h[6] * un + h[7] * vn + h[8];
  out[0] = static_cast<float>((h[0] * un + h[1] * vn + h[2]) / d);
  out[1] = static_cast<float>((h[3] * un + h[4] * vn + h[5]) / d);
}

void FramePoses::find(const std::uint8_t* rgb, std::span<float> xy, std::span<std::uint8_t> found,
                      std::span<std::uint8_t> border) const {
  if (xy.size() != 2 * index_.size() || found.size() != index_.size() ||
      (!border.empty() && border.size() != index_.size()))
    throw std::invalid_argument("poses from frames: find() needs " + std::to_string(index_.size()) +
                                " bodies' buffers");
  const auto c = finder_->find(rgb, h_, w_);
  for (std::size_t p = 0; p < index_.size(); ++p) {
    const auto& b = c[index_[p] + 1];
    double uv[2] = {b.x, b.y};
    bool cut = false;
    if (cut_reading_ && b.border && b.pixels >= kMinCutPixels) {
      const int side = static_cast<int>(std::max_element(b.edge, b.edge + 4) - b.edge);
      cut = cut_centroid(static_cast<int>(p), side, b, uv);
    }
    found[p] = cut || (4 * b.pixels >= fits_[p].reference_pixels && b.pixels > 0);
    if (found[p]) map(static_cast<int>(p), uv[0], uv[1], xy.data() + 2 * p);
    if (!border.empty()) border[p] = b.border;
  }
}

}  // namespace parallax::agents
