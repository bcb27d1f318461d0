// Bodies' and markers' x, y by render and compare (body_locator.hpp).
#include "parallax/agents/body_locator.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>

#include "parallax/agents/body_finder.hpp"
#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {
namespace {

constexpr float kHidden = -50.0f;  // z that puts a body under the table, out of view
constexpr int kMinPixels = 4;      // colour pixels for a body or marker to count as found
constexpr int kCandidates = 9;     // the 3 x 3 grid
// A caller's guess farther than this from the colour finder's is not trusted (metres; the finder's
// guess is off by about a millimetre on billiards, a body the caller mispredicted by more is
// searched from the finder's).
constexpr double kGuessReach = 0.004;
constexpr double kMarkerReach = 0.1;  // metres: a fixed marker's search box half size
constexpr double kMarkerGrid = 0.01;  // metres: the grid of a marker the colours do not show

struct V3 {
  double x = 0, y = 0, z = 0;
};
V3 v3(const sim::Vec3& a) {
  return {a[0], a[1], a[2]};
}
V3 sub(V3 a, V3 b) {
  return {a.x - b.x, a.y - b.y, a.z - b.z};
}
V3 add(V3 a, V3 b) {
  return {a.x + b.x, a.y + b.y, a.z + b.z};
}
V3 mul(V3 a, double s) {
  return {a.x * s, a.y * s, a.z * s};
}
double dot(V3 a, V3 b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
V3 cross(V3 a, V3 b) {
  return {a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
V3 unit(V3 a) {
  return mul(a, 1.0 / std::sqrt(dot(a, a)));
}

}  // namespace

struct BodyLocator::Impl {
  std::shared_ptr<const sim::SceneModel> scene;
  BodyLocatorOptions options;
  std::unique_ptr<sim::Renderer> renderer;
  std::unique_ptr<BodyFinder> finder;
  int h = 0, w = 0, nk = 0, nm = 0;
  std::vector<int> index;       // [P] scene body index
  std::vector<float> z;         // [P] reset height of each body
  std::vector<float> radius;    // [P + M] metres: bodies, then markers
  std::vector<float> marker_z;  // [M]
  std::vector<float> poses0;    // [K, 7] the reset poses (static bodies stay there)
  std::vector<float> markers0;  // [M, 3]
  // Camera (the renderer's conventions, render_setup.cpp).
  V3 eye, fwd, right, up;
  double sx = 1, sy = 1;
  bool ortho = false;
  // Scratch for one search step.
  mutable std::vector<float> poses_n, markers_n;
  mutable std::vector<std::uint8_t> rgb_n;

  // Pixel (u, v) -> the point on the plane z = height.
  bool unproject(double u, double v, double height, double* x, double* y) const {
    const double nx = (2.0 * u / w - 1.0) * sx, ny = (1.0 - 2.0 * v / h) * sy;
    V3 origin = eye, dir;
    if (ortho) {
      origin = add(eye, add(mul(right, nx), mul(up, ny)));
      dir = fwd;
    } else {
      dir = add(fwd, add(mul(right, nx), mul(up, ny)));
    }
    if (std::fabs(dir.z) < 1e-9) return false;
    const double t = (height - origin.z) / dir.z;
    if (t <= 0) return false;
    *x = origin.x + t * dir.x, *y = origin.y + t * dir.y;
    return true;
  }
  // A world point -> pixel (u, v) and the pixels per metre there.
  void project(V3 p, double* u, double* v, double* px_per_m) const {
    const V3 d = sub(p, eye);
    const double zc = ortho ? 1.0 : std::max(dot(d, fwd), 1e-6);
    *u = (dot(d, right) / zc / sx + 1.0) * 0.5 * w;
    *v = (1.0 - dot(d, up) / zc / sy) * 0.5 * h;
    *px_per_m = 0.5 * h / (sy * zc);
  }
};

BodyLocator::BodyLocator(std::shared_ptr<const sim::SceneModel> scene,
                         std::vector<std::string> bodies, BodyLocatorOptions options)
    : impl_(std::make_unique<Impl>()), names_(std::move(bodies)) {
  auto& m = *impl_;
  m.scene = std::move(scene);
  m.options = options;
  const sim::SceneModel& sc = *m.scene;
  auto refuse = [&](const std::string& body, const std::string& why) {
    throw std::invalid_argument("body locator: scene '" + sc.name + "', body '" + body +
                                "': " + why);
  };
  if (!(options.final_step_m > 0) || !(options.start_step_m >= options.final_step_m) ||
      !(options.guess_step_m >= options.final_step_m) || options.passes < 1 ||
      options.max_moves < 1)
    throw std::invalid_argument("body locator: bad options (steps must be positive and decrease)");
  m.nk = static_cast<int>(sc.bodies.size());
  m.nm = nm_ = static_cast<int>(sc.markers.size());
  for (const auto& name : names_) {
    const int k = sc.body_index(name);
    if (k < 0) refuse(name, "no such body");
    const auto& b = sc.bodies[k];
    if (b.shape != sim::Shape::kSphere) refuse(name, "not a sphere (its look depends on its yaw)");
    if (b.randomize.color) refuse(name, "its colour is randomised per episode");
    if (b.randomize.size_scale) refuse(name, "its size is randomised per episode");
    m.index.push_back(k);
  }
  m.renderer = std::make_unique<sim::Renderer>(m.scene, sim::RenderOptions{.threads = 1});
  m.h = m.renderer->height(), m.w = m.renderer->width();
  const std::size_t npx = static_cast<std::size_t>(m.h) * m.w;

  // The reference scene (reset with seed 0) calibrates the colour finder.
  sim::World world(m.scene, 0);
  sim::WorldRenderInputs gather(sc);
  const sim::RenderInputs ref = gather.gather(world);
  m.poses0.assign(ref.poses, ref.poses + m.nk * 7);
  m.markers0.assign(ref.markers, ref.markers + m.nm * 3);
  std::vector<std::uint8_t> rgb(npx * 3), ids(npx);
  m.renderer->render(ref, rgb.data(), ids.data());
  m.finder = std::make_unique<BodyFinder>(sc, ref.colors);
  m.finder->calibrate(rgb.data(), ids.data(), m.h, m.w);
  for (int k : m.index) {
    m.z.push_back(m.poses0[k * 7 + 2]);
    m.radius.push_back(static_cast<float>(sc.bodies[k].radius));
  }
  for (int j = 0; j < m.nm; ++j) {
    m.marker_z.push_back(m.markers0[j * 3 + 2]);
    m.radius.push_back(static_cast<float>(sc.markers[j].radius));
  }
  const auto& cd = sc.camera;
  m.eye = v3(cd.eye);
  m.fwd = unit(sub(v3(cd.target), m.eye));
  m.right = unit(cross(m.fwd, v3(cd.up)));
  m.up = cross(m.right, m.fwd);
  m.ortho = cd.ortho_half_extent > 0;
  m.sy = m.ortho ? cd.ortho_half_extent : std::tan(cd.fov_deg * M_PI / 360.0);
  m.sx = m.sy * static_cast<double>(m.w) / m.h;
  m.poses_n.resize(static_cast<std::size_t>(kCandidates) * m.nk * 7);
  m.markers_n.resize(static_cast<std::size_t>(kCandidates) * std::max(m.nm, 1) * 3);
  m.rgb_n.resize(kCandidates * npx * 3);
}

BodyLocator::~BodyLocator() = default;

void BodyLocator::scene_at(std::span<const float> xy, std::span<const std::uint8_t> visible,
                           std::span<const float> markers, float* poses, float* marker_xyz) const {
  const auto& m = *impl_;
  std::copy(m.poses0.begin(), m.poses0.end(), poses);
  std::copy(m.markers0.begin(), m.markers0.end(), marker_xyz);
  for (std::size_t p = 0; p < m.index.size(); ++p) {
    float* q = poses + m.index[p] * 7;
    q[0] = xy[p * 2], q[1] = xy[p * 2 + 1], q[2] = visible[p] ? m.z[p] : kHidden;
    q[3] = 0, q[4] = 0, q[5] = 0, q[6] = 1;
  }
  for (int j = 0; j < m.nm; ++j)
    marker_xyz[j * 3] = markers[j * 2], marker_xyz[j * 3 + 1] = markers[j * 2 + 1];
}

void BodyLocator::locate(const std::uint8_t* rgb, std::span<float> xy,
                         std::span<std::uint8_t> found, std::span<float> markers,
                         bool guess) const {
  const auto& m = *impl_;
  const int np = static_cast<int>(m.index.size());
  if (xy.size() != static_cast<std::size_t>(np) * 2 ||
      found.size() != static_cast<std::size_t>(np) ||
      markers.size() != static_cast<std::size_t>(m.nm) * 2)
    throw std::invalid_argument("body locator: locate() buffers of the wrong size");
  const auto cents = m.finder->find(rgb, m.h, m.w);
  const double first = guess ? m.options.guess_step_m : m.options.start_step_m;
  // Each target starts from the caller's guess where the colour finder agrees with it (within
  // kGuessReach), else from the colour finder's own guess with the coarse step.
  std::vector<double> start(m.nm + np, m.options.start_step_m);
  std::vector<std::uint8_t> marker_found(m.nm, 0);
  auto first_guess = [&](const Centroid& c, double height, float* target, double* step) {
    double x, y;
    if (!m.unproject(c.x, c.y, height, &x, &y)) return;
    if (guess && std::hypot(x - target[0], y - target[1]) < kGuessReach) {
      *step = first;
      return;
    }
    target[0] = static_cast<float>(x), target[1] = static_cast<float>(y);
  };
  for (int p = 0; p < np; ++p) {
    const auto& c = cents[m.index[p] + 1];
    found[p] = c.pixels >= kMinPixels;
    if (found[p]) first_guess(c, m.z[p], &xy[p * 2], &start[m.nm + p]);
  }
  for (int j = 0; j < m.nm; ++j) {
    const auto& c = cents[m.nk + 1 + j];
    marker_found[j] = c.pixels >= kMinPixels;
    if (marker_found[j]) first_guess(c, m.marker_z[j], &markers[j * 2], &start[j]);
  }
  const std::size_t frame = static_cast<std::size_t>(m.h) * m.w * 3;
  std::vector<float> poses(m.nk * 7), mk(std::max(m.nm, 1) * 3);
  // A marker the colour finder cannot tell (too dark: billiards' black pocket) is searched over
  // its randomisation box (its nominal position +- kMarkerReach without one) on a 1 cm grid,
  // scored on the whole frame, then refined as the others; with a caller's guess it keeps it.
  for (int j = 0; j < m.nm && !guess; ++j) {
    if (marker_found[j]) continue;
    const auto& def = m.scene->markers[j];
    double lo[2] = {def.position[0] - kMarkerReach, def.position[1] - kMarkerReach};
    double hi[2] = {def.position[0] + kMarkerReach, def.position[1] + kMarkerReach};
    if (def.randomize_position)
      for (int a = 0; a < 2; ++a)
        lo[a] = def.randomize_position->low[a], hi[a] = def.randomize_position->high[a];
    std::vector<std::array<float, 2>> grid;
    for (double x = lo[0]; x <= hi[0] + 1e-9; x += kMarkerGrid)
      for (double y = lo[1]; y <= hi[1] + 1e-9; y += kMarkerGrid)
        grid.push_back({static_cast<float>(x), static_cast<float>(y)});
    scene_at(xy, found, markers, poses.data(), mk.data());
    double best_sse = std::numeric_limits<double>::infinity();
    for (std::size_t g0 = 0; g0 < grid.size(); g0 += kCandidates) {
      const int n = static_cast<int>(std::min<std::size_t>(kCandidates, grid.size() - g0));
      for (int i = 0; i < n; ++i) {
        std::copy(poses.begin(), poses.end(),
                  m.poses_n.begin() + static_cast<std::ptrdiff_t>(i) * m.nk * 7);
        float* r = m.markers_n.data() + static_cast<std::size_t>(i) * m.nm * 3;
        std::copy(mk.begin(), mk.begin() + m.nm * 3, r);
        r[j * 3] = grid[g0 + i][0], r[j * 3 + 1] = grid[g0 + i][1];
      }
      m.renderer->render(
          sim::RenderInputs{.n = n, .poses = m.poses_n.data(), .markers = m.markers_n.data()},
          m.rgb_n.data());
      for (int i = 0; i < n; ++i) {
        double sse = 0;
        const std::uint8_t* out = m.rgb_n.data() + i * frame;
        for (std::size_t o = 0; o < frame; ++o) {
          const double d = static_cast<double>(out[o]) - rgb[o];
          sse += d * d;
        }
        if (sse < best_sse) {
          best_sse = sse;
          markers[j * 2] = grid[g0 + i][0], markers[j * 2 + 1] = grid[g0 + i][1];
        }
      }
    }
    marker_found[j] = 1;
    start[j] = kMarkerGrid * 0.5;
  }

  // One target (t < M: marker t; else body t - M): coarse-to-fine search of its x, y.
  auto refine = [&](int t, double step) {
    const bool is_marker = t < m.nm;
    const int p = t - m.nm;
    float* target = is_marker ? &markers[t * 2] : &xy[p * 2];
    const double height = is_marker ? m.marker_z[t] : m.z[p];
    for (; step >= m.options.final_step_m * 0.999; step *= 0.5) {
      for (int move = 0; move < m.options.max_moves; ++move) {
        // The window: the target's projected extent at its estimate, two pixels of margin.
        double u, v, ppm;
        m.project({target[0], target[1], height}, &u, &v, &ppm);
        const double reach = m.radius[is_marker ? np + t : p] * ppm + 2.0 + 2.0 * step * ppm;
        const int x0 = std::clamp(static_cast<int>(std::floor(u - reach)), 0, m.w - 1);
        const int x1 = std::clamp(static_cast<int>(std::ceil(u + reach)), 0, m.w - 1);
        const int y0 = std::clamp(static_cast<int>(std::floor(v - reach)), 0, m.h - 1);
        const int y1 = std::clamp(static_cast<int>(std::ceil(v + reach)), 0, m.h - 1);
        scene_at(xy, found, markers, poses.data(), mk.data());
        for (int i = 0; i < kCandidates; ++i) {
          float* q = m.poses_n.data() + static_cast<std::size_t>(i) * m.nk * 7;
          float* r = m.markers_n.data() + static_cast<std::size_t>(i) * std::max(m.nm, 1) * 3;
          std::copy(poses.begin(), poses.end(), q);
          std::copy(mk.begin(), mk.end(), r);
          const float dx = static_cast<float>((i % 3 - 1) * step);
          const float dy = static_cast<float>((i / 3 - 1) * step);
          if (is_marker) {
            r[t * 3] += dx, r[t * 3 + 1] += dy;
          } else {
            q[m.index[p] * 7] += dx, q[m.index[p] * 7 + 1] += dy;
          }
        }
        m.renderer->render(sim::RenderInputs{.n = kCandidates,
                                             .poses = m.poses_n.data(),
                                             .markers = m.nm ? m.markers_n.data() : nullptr},
                           m.rgb_n.data());
        int best = 4;
        double best_sse = std::numeric_limits<double>::infinity();
        double centre_sse = 0;
        for (int i = 0; i < kCandidates; ++i) {
          const std::uint8_t* out = m.rgb_n.data() + i * frame;
          double sse = 0;
          for (int yy = y0; yy <= y1; ++yy)
            for (int xx = x0; xx <= x1; ++xx)
              for (int ch = 0; ch < 3; ++ch) {
                const std::size_t o = (static_cast<std::size_t>(yy) * m.w + xx) * 3 + ch;
                const double d = static_cast<double>(out[o]) - rgb[o];
                sse += d * d;
              }
          if (i == 4) centre_sse = sse;
          if (sse < best_sse) best_sse = sse, best = i;
        }
        if (centre_sse <= best_sse) best = 4;  // ties keep the estimate
        if (centre_sse == 0) return;           // matches to the bit: nothing to gain
        if (best == 4) break;
        target[0] += static_cast<float>((best % 3 - 1) * step);
        target[1] += static_cast<float>((best / 3 - 1) * step);
      }
    }
  };
  for (int pass = 0; pass < m.options.passes; ++pass) {
    // Later passes start small: the estimates are close, only neighbours' moves changed things.
    // Markers (flat discs: only their edges tell where they are, and bodies may hide part of
    // them) are searched again from the coarse step once the bodies stand where they are.
    auto step = [&](int t) { return pass == 0 ? start[t] : m.options.guess_step_m * 0.25; };
    for (int j = 0; j < m.nm; ++j)
      if (marker_found[j])
        refine(j, pass == 0 ? start[j] : std::max(start[j], m.options.start_step_m));
    for (int p = 0; p < np; ++p)
      if (found[p]) refine(m.nm + p, step(m.nm + p));
  }
}

}  // namespace parallax::agents
