// Scene -> renderer setup: static primitives, camera basis, light.
#include "render_setup.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace parallax::sim {
namespace {

rk::F3 to_f3(const Vec3& v) {
  return rk::F3{static_cast<float>(v[0]), static_cast<float>(v[1]), static_cast<float>(v[2])};
}

void check_size(const char* what, int value) {
  if (value < 16 || value > 1024) {
    throw std::invalid_argument(std::string("renderer: ") + what + " " + std::to_string(value) +
                                " is out of range (expected 16..1024 pixels)");
  }
}

}  // namespace

std::vector<float> initial_poses(const SceneModel& scene) {
  std::vector<float> poses;  // [K, 7] f32
  poses.reserve(scene.bodies.size() * 7);
  for (const BodyDef& b : scene.bodies) {
    for (double v : b.position) poses.push_back(static_cast<float>(v));
    for (double v : b.orientation) poses.push_back(static_cast<float>(v));
  }
  return poses;
}

std::vector<float> initial_markers(const SceneModel& scene) {
  std::vector<float> markers;  // [M, 3] f32
  markers.reserve(scene.markers.size() * 3);
  for (const MarkerDef& m : scene.markers) {
    for (double v : m.position) markers.push_back(static_cast<float>(v));
  }
  return markers;
}

RenderSetup make_render_setup(const SceneModel& scene, const RenderOptions& options) {
  RenderSetup s;
  rk::Frame& f = s.frame;
  f.width = options.width > 0 ? options.width : scene.camera.width;
  f.height = options.height > 0 ? options.height : scene.camera.height;
  check_size("width", f.width);
  check_size("height", f.height);
  if (options.spp != 1 && options.spp != 4) {
    throw std::invalid_argument("renderer: spp " + std::to_string(options.spp) +
                                " is not supported (expected 1 or 4 samples per pixel)");
  }
  if (options.threads < 1) {
    throw std::invalid_argument("renderer: threads " + std::to_string(options.threads) +
                                " is out of range (expected >= 1)");
  }
  const int k = static_cast<int>(scene.bodies.size());
  const int m = static_cast<int>(scene.markers.size());
  if (k + m > rk::kMaxPrims) {
    throw std::invalid_argument("renderer: scene '" + scene.name + "' has " +
                                std::to_string(k + m) +
                                " bodies and markers (expected at most 254: ids are u8)");
  }
  f.spp = options.spp;
  f.shadows = options.shadows ? 1 : 0;
  f.num_bodies = k;
  f.num_markers = m;
  f.background = rk::F3{kBackground[0], kBackground[1], kBackground[2]};
  f.ambient = static_cast<float>(scene.light.ambient);
  f.to_light = rk::normalize(rk::mul(to_f3(scene.light.direction), -1.f));

  // Camera basis: forward toward the target, right = forward x up, up re-orthogonalised.
  const CameraDef& cd = scene.camera;
  rk::Camera& c = f.cam;
  c.eye = to_f3(cd.eye);
  c.forward = rk::normalize(rk::sub(to_f3(cd.target), c.eye));
  c.right = rk::normalize(rk::cross(c.forward, to_f3(cd.up)));
  c.up = rk::cross(c.right, c.forward);
  const float aspect = static_cast<float>(f.width) / static_cast<float>(f.height);
  c.ortho = cd.ortho_half_extent > 0.0 ? 1 : 0;
  c.sy = c.ortho ? static_cast<float>(cd.ortho_half_extent)
                 : static_cast<float>(std::tan(cd.fov_deg * M_PI / 360.0));
  c.sx = c.sy * aspect;
  c.ku = 2.f * c.sx / static_cast<float>(f.width);
  c.kv = 2.f * c.sy / static_cast<float>(f.height);
  // Light basis: any two unit vectors perpendicular to the light and to each other.
  const rk::F3 l = f.to_light;
  const rk::F3 helper = std::fabs(l.z) < 0.9f ? rk::F3{0.f, 0.f, 1.f} : rk::F3{1.f, 0.f, 0.f};
  f.light_u = rk::normalize(rk::cross(helper, l));
  f.light_v = rk::cross(l, f.light_u);

  // Static primitives: bodies in file order, then the marker discs.
  for (int i = 0; i < k; ++i) {
    const BodyDef& b = scene.bodies[i];
    rk::StaticPrim p{};
    p.source = i;
    p.color = to_f3(b.color);
    const float r = static_cast<float>(b.radius), hh = static_cast<float>(b.half_height);
    switch (b.shape) {
      case Shape::kPlane: {
        p.type = rk::kPlane;
        const rk::F3 n = rk::normalize(to_f3(b.plane_normal));
        p.dims[0] = n.x;
        p.dims[1] = n.y;
        p.dims[2] = n.z;
        p.bound = -1.f;
        break;
      }
      case Shape::kBox: {
        p.type = rk::kBox;
        const rk::F3 h = to_f3(b.half_extents);
        p.dims[0] = h.x;
        p.dims[1] = h.y;
        p.dims[2] = h.z;
        p.bound = std::sqrt(rk::dot(h, h));
        break;
      }
      case Shape::kSphere:
        p.type = rk::kSphere;
        p.dims[0] = r;
        p.bound = r;
        break;
      case Shape::kCylinder:
        p.type = rk::kCylinder;
        p.dims[0] = r;
        p.dims[1] = hh;
        p.bound = std::sqrt(r * r + hh * hh);
        break;
      case Shape::kCapsule:
        p.type = rk::kCapsule;
        p.dims[0] = r;
        p.dims[1] = hh;
        p.bound = r + hh;
        break;
    }
    // A little slack so float rounding in the rectangle never clips a silhouette.
    if (p.bound > 0.f) p.bound *= 1.001f;
    s.prims.push_back(p);
  }
  for (int i = 0; i < m; ++i) {
    const MarkerDef& md = scene.markers[i];
    rk::StaticPrim p{};
    p.type = rk::kDisc;
    p.source = i;
    p.color = to_f3(md.color);
    p.dims[0] = static_cast<float>(md.radius);
    p.bound = p.dims[0] * 1.001f + rk::kMarkerLift;
    s.prims.push_back(p);
  }
  s.nominal_markers = initial_markers(scene);
  // Ray table: the same camera_ray() the CUDA path evaluates per pixel, done once here.
  const long long samples = static_cast<long long>(f.width) * f.height * f.spp;
  if (!c.ortho && samples <= (1 << 18)) {
    s.rays.resize(static_cast<std::size_t>(samples));
    for (int y = 0; y < f.height; ++y) {
      for (int x = 0; x < f.width; ++x) {
        for (int k = 0; k < f.spp; ++k) {
          rk::F3 o;
          rk::camera_ray(f, x + rk::sample_dx(f.spp, k), y + rk::sample_dy(f.spp, k), &o,
                         &s.rays[(static_cast<std::size_t>(y) * f.width + x) * f.spp + k]);
        }
      }
    }
  }
  return s;
}

}  // namespace parallax::sim
