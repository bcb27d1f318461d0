// Batch renderer: analytic coverage, shading and shadows, object ids, threads and batching,
// options. Every expected value comes from closed-form geometry computed here in double
// precision, independently of the renderer's float code.
#include <catch2/catch.hpp>

#include <algorithm>

#include <cmath>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <random>
#include <stdexcept>
#include <vector>

#include "parallax/sim/image_io.hpp"
#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"

namespace ps = parallax::sim;

namespace {

constexpr double kPi = 3.14159265358979323846;

// A scene with no bodies seen from straight above by an orthographic camera: 2 * half metres
// tall, image y up = world +y, image x right = world +x.
ps::SceneModel top_ortho_scene(double half, int width, int height) {
  ps::SceneModel s;
  s.name = "test";
  s.camera.eye = {0, 0, 5};
  s.camera.target = {0, 0, 0};
  s.camera.up = {0, 1, 0};
  s.camera.ortho_half_extent = half;
  s.camera.width = width;
  s.camera.height = height;
  s.light.direction = {0, 0, -1};
  s.light.ambient = 0.4;
  return s;
}

ps::BodyDef body(ps::Shape shape, ps::Vec3 position, ps::Vec3 color = {0.8, 0.2, 0.2}) {
  ps::BodyDef b;
  b.shape = shape;
  b.position = position;
  b.color = color;
  return b;
}

struct Frames {
  int n = 0, w = 0, h = 0;
  std::vector<std::uint8_t> rgb;  // [N, H, W, 3] u8
  std::vector<std::uint8_t> ids;  // [N, H, W] u8
  int id(int env, int x, int y) const { return ids[(static_cast<size_t>(env) * h + y) * w + x]; }
  const std::uint8_t* px(int env, int x, int y) const {
    return &rgb[((static_cast<size_t>(env) * h + y) * w + x) * 3];
  }
};

Frames render(const ps::SceneModel& scene, ps::RenderOptions opt = {}, int n = 1,
              const std::vector<float>* poses = nullptr,
              const std::vector<float>* markers = nullptr) {
  ps::Renderer r(std::make_shared<const ps::SceneModel>(scene), opt);
  Frames f;
  f.n = n;
  f.w = r.width();
  f.h = r.height();
  std::vector<float> p;  // [N, K, 7] f32
  if (poses) {
    p = *poses;
  } else {
    const std::vector<float> one = ps::initial_poses(scene);
    for (int i = 0; i < n; ++i) p.insert(p.end(), one.begin(), one.end());
  }
  f.rgb.assign(static_cast<size_t>(n) * f.h * f.w * 3, 0);
  f.ids.assign(static_cast<size_t>(n) * f.h * f.w, 255);
  r.render({.n = n, .poses = p.data(), .markers = markers ? markers->data() : nullptr},
           f.rgb.data(), f.ids.data());
  return f;
}

// World point (x, y) under pixel centre (px, py) of top_ortho_scene.
void pixel_to_world(double half, int w, int h, int px, int py, double* x, double* y) {
  const double aspect = static_cast<double>(w) / h;
  *x = (2.0 * (px + 0.5) / w - 1.0) * half * aspect;
  *y = (1.0 - 2.0 * (py + 0.5) / h) * half;
}

// Checks coverage of one body: pixels whose centre lies deeper than one pixel inside the
// analytic footprint must carry `id`, those more than one pixel outside must be background.
// `signed_dist(x, y)` is the signed distance to the footprint's edge in metres (< 0 inside).
template <class F>
void check_coverage(const Frames& f, double half, int id, F signed_dist) {
  const double pixel = 2.0 * half / f.h;  // metres per pixel
  int inside = 0, outside = 0;
  for (int y = 0; y < f.h; ++y) {
    for (int x = 0; x < f.w; ++x) {
      double wx, wy;
      pixel_to_world(half, f.w, f.h, x, y, &wx, &wy);
      const double d = signed_dist(wx, wy);
      if (d < -pixel) {
        ++inside;
        INFO("pixel " << x << "," << y << " is inside by " << -d / pixel << " px");
        REQUIRE(f.id(0, x, y) == id);
      } else if (d > pixel) {
        ++outside;
        INFO("pixel " << x << "," << y << " is outside by " << d / pixel << " px");
        REQUIRE(f.id(0, x, y) == 0);
      }
    }
  }
  REQUIRE(inside > 20);
  REQUIRE(outside > 20);
}

}  // namespace

TEST_CASE("renderer: sphere under an orthographic camera covers its disc of pixels", "[render]") {
  const double half = 1.0, r = 0.3, cx = 0.2, cy = -0.1;
  ps::SceneModel s = top_ortho_scene(half, 96, 64);  // non-square on purpose
  auto b = body(ps::Shape::kSphere, {cx, cy, 0});
  b.radius = r;
  s.bodies.push_back(b);
  const Frames f = render(s);
  check_coverage(f, half, 1, [&](double x, double y) { return std::hypot(x - cx, y - cy) - r; });
  // The pixel count matches the disc area to within one pixel ring.
  int count = 0;
  for (std::uint8_t v : f.ids) count += v == 1;
  const double rpx = r / (2.0 * half / f.h);
  CHECK(std::abs(count - kPi * rpx * rpx) < 2.0 * kPi * rpx);
}

TEST_CASE("renderer: box face-on covers its rectangle and rotated with its pose", "[render]") {
  const double half = 1.0;
  ps::SceneModel s = top_ortho_scene(half, 64, 64);
  auto b = body(ps::Shape::kBox, {0.1, -0.2, 0});
  b.half_extents = {0.4, 0.2, 0.1};
  SECTION("axis aligned") {
    s.bodies.push_back(b);
    const Frames f = render(s);
    check_coverage(f, half, 1, [](double x, double y) {
      return std::max(std::abs(x - 0.1) - 0.4, std::abs(y + 0.2) - 0.2);
    });
  }
  SECTION("yawed 90 degrees: the rectangle turns") {
    b.orientation = {0, 0, std::sin(kPi / 4), std::cos(kPi / 4)};
    s.bodies.push_back(b);
    const Frames f = render(s);
    check_coverage(f, half, 1, [](double x, double y) {
      return std::max(std::abs(x - 0.1) - 0.2, std::abs(y + 0.2) - 0.4);
    });
  }
}

TEST_CASE("renderer: cylinder and capsule and disc marker cover their footprints", "[render]") {
  const double half = 1.0;
  ps::SceneModel s = top_ortho_scene(half, 64, 80);
  SECTION("upright cylinder: a disc") {
    auto b = body(ps::Shape::kCylinder, {-0.3, 0.2, 0});
    b.radius = 0.25;
    b.half_height = 0.3;
    s.bodies.push_back(b);
    const Frames f = render(s);
    check_coverage(f, half, 1,
                   [](double x, double y) { return std::hypot(x + 0.3, y - 0.2) - 0.25; });
  }
  SECTION("lying cylinder: a rectangle") {
    auto b = body(ps::Shape::kCylinder, {0, 0, 0});
    b.radius = 0.2;
    b.half_height = 0.5;
    b.orientation = {0, std::sin(kPi / 4), 0, std::cos(kPi / 4)};  // local z -> world x
    s.bodies.push_back(b);
    const Frames f = render(s);
    check_coverage(f, half, 1, [](double x, double y) {
      return std::max(std::abs(x) - 0.5, std::abs(y) - 0.2);
    });
  }
  SECTION("lying capsule: a stadium") {
    auto b = body(ps::Shape::kCapsule, {0.1, 0.1, 0});
    b.radius = 0.2;
    b.half_height = 0.4;
    b.orientation = {0, std::sin(kPi / 4), 0, std::cos(kPi / 4)};
    s.bodies.push_back(b);
    const Frames f = render(s);
    check_coverage(f, half, 1, [](double x, double y) {
      const double sx = std::clamp(x - 0.1, -0.4, 0.4);
      return std::hypot(x - 0.1 - sx, y - 0.1) - 0.2;
    });
  }
  SECTION("disc marker on a plane: id K + 1 + m where the disc lies") {
    auto plane = body(ps::Shape::kPlane, {0, 0, 0}, {0.8, 0.8, 0.8});
    s.bodies.push_back(plane);
    ps::MarkerDef m;
    m.name = "goal";
    m.radius = 0.3;
    m.position = {0.2, -0.3, 0};
    s.markers.push_back(m);
    const Frames f = render(s);
    // Outside the disc the plane (id 1) is seen instead of background: shift ids to compare.
    Frames g = f;
    for (auto& v : g.ids) v = v == 2 ? 1 : (v == 1 ? 0 : 255);
    check_coverage(g, half, 1,
                   [](double x, double y) { return std::hypot(x - 0.2, y + 0.3) - 0.3; });
    // Markers given per env move the disc.
    const std::vector<float> moved = {-0.4f, 0.4f, 0.f};
    const Frames h = render(s, {}, 1, nullptr, &moved);
    Frames k = h;
    for (auto& v : k.ids) v = v == 2 ? 1 : (v == 1 ? 0 : 255);
    check_coverage(k, half, 1,
                   [](double x, double y) { return std::hypot(x + 0.4, y - 0.4) - 0.3; });
  }
}

TEST_CASE("renderer: per-env colours and size scales change the bodies' appearance", "[render]") {
  const double half = 1.0;
  ps::SceneModel s = top_ortho_scene(half, 64, 64);
  auto b = body(ps::Shape::kSphere, {0, 0, 0}, {0.8, 0.2, 0.2});
  b.radius = 0.2;
  s.bodies.push_back(b);
  ps::Renderer r(std::make_shared<const ps::SceneModel>(s));
  const std::vector<float> poses = {0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1};  // [2, 1, 7]
  const std::vector<float> colors = {0, 1, 0, 0, 0, 1};                         // [2, 1, 3]
  const std::vector<float> scales = {2.0f, 1.0f};                               // [2, 1]
  Frames f;
  f.n = 2;
  f.w = f.h = 64;
  f.rgb.resize(2 * 64 * 64 * 3);
  f.ids.resize(2 * 64 * 64);
  r.render({.n = 2, .poses = poses.data(), .colors = colors.data(), .scales = scales.data()},
           f.rgb.data(), f.ids.data());
  // Env 0: radius 0.4, green; the top of the sphere faces the light: shade 1.
  check_coverage(f, half, 1, [](double x, double y) { return std::hypot(x, y) - 0.4; });
  CHECK(f.px(0, 32, 32)[0] == 0);
  CHECK(f.px(0, 32, 32)[1] == 255);
  CHECK(f.px(1, 32, 32)[2] >= 253);  // r = 0.2: the normal at the pixel centre tilts slightly
  CHECK(f.px(1, 32, 32)[0] == 0);
  int count1 = 0;
  for (int i = 64 * 64; i < 2 * 64 * 64; ++i) count1 += f.ids[i] == 1;
  const double rpx = 0.2 / (2.0 * half / 64);
  CHECK(std::abs(count1 - kPi * rpx * rpx) < 2.0 * kPi * rpx);
}

TEST_CASE("renderer: sphere under a perspective camera has the analytic silhouette radius",
          "[render]") {
  ps::SceneModel s;
  s.camera.eye = {0, -3, 0};
  s.camera.target = {0, 0, 0};
  s.camera.up = {0, 0, 1};
  s.camera.fov_deg = 40;
  s.camera.width = 128;
  s.camera.height = 128;
  auto b = body(ps::Shape::kSphere, {0, 0, 0});
  b.radius = 0.5;
  s.bodies.push_back(b);
  const Frames f = render(s);
  // Silhouette: a cone of half-angle asin(r / D) about the axis; on the image plane the circle
  // has radius tan(asin(r / D)) / tan(fov / 2) * H / 2 pixels about the centre.
  const double ang = std::asin(0.5 / 3.0);
  const double rpx = std::tan(ang) / std::tan(20.0 * kPi / 180.0) * f.h / 2.0;
  for (int y = 0; y < f.h; ++y) {
    for (int x = 0; x < f.w; ++x) {
      const double d = std::hypot(x + 0.5 - f.w / 2.0, y + 0.5 - f.h / 2.0) - rpx;
      if (d < -1.0) REQUIRE(f.id(0, x, y) == 1);
      if (d > 1.0) REQUIRE(f.id(0, x, y) == 0);
    }
  }
}

TEST_CASE("renderer: Lambert shading and hard shadows match the closed form", "[render]") {
  const double half = 1.0, ambient = 0.3;
  ps::SceneModel s = top_ortho_scene(half, 64, 64);
  s.light.ambient = ambient;
  s.light.direction = {1, 0, -1};  // travels toward +x and down: cos(45 deg) on the floor
  const ps::Vec3 grey = {0.8, 0.8, 0.8};
  s.bodies.push_back(body(ps::Shape::kPlane, {0, 0, 0}, grey));
  auto b = body(ps::Shape::kBox, {-0.3, 0, 0.4}, {0.2, 0.4, 0.9});  // floating box
  b.half_extents = {0.1, 0.1, 0.1};
  s.bodies.push_back(b);
  const Frames f = render(s);
  auto byte = [](double v) {
    return static_cast<int>(std::floor(std::clamp(v, 0.0, 1.0) * 255 + 0.5));
  };
  auto world_px = [&](double x, double y, int* px, int* py) {
    *px = static_cast<int>(std::floor((x / half + 1.0) * 0.5 * f.w));
    *py = static_cast<int>(std::floor((1.0 - y / half) * 0.5 * f.h));
  };
  // The shadow of the box's centre falls 0.4 m further along +x (light at 45 degrees).
  int sx, sy, lx, ly;
  world_px(-0.3 + 0.4, 0.0, &sx, &sy);
  world_px(0.6, 0.6, &lx, &ly);
  REQUIRE(f.id(0, sx, sy) == 1);
  REQUIRE(f.id(0, lx, ly) == 1);
  const double lit = 0.8 * (ambient + (1 - ambient) * std::sqrt(0.5));
  const double dark = 0.8 * ambient;
  CHECK(std::abs(f.px(0, lx, ly)[0] - byte(lit)) <= 1);
  CHECK(std::abs(f.px(0, sx, sy)[0] - byte(dark)) <= 1);
  CHECK(f.px(0, sx, sy)[0] < f.px(0, lx, ly)[0]);
  // Without shadows the same floor point is lit.
  ps::RenderOptions no_shadow;
  no_shadow.shadows = false;
  const Frames g = render(s, no_shadow);
  CHECK(std::abs(g.px(0, sx, sy)[0] - byte(lit)) <= 1);
  // The box top (normal +z) gets cos 45 degrees as well.
  int bx, by;
  world_px(-0.3, 0.0, &bx, &by);
  REQUIRE(f.id(0, bx, by) == 2);
  CHECK(std::abs(f.px(0, bx, by)[2] - byte(0.9 * (ambient + (1 - ambient) * std::sqrt(0.5)))) <= 1);
}

TEST_CASE("renderer: curved surfaces are shaded with their analytic normals", "[render]") {
  // Orthographic from above, light travelling along (-1, 0, -1): toward the light is
  // L = (1, 0, 1) / sqrt(2). Every pixel deep inside a footprint must have the Lambert value of
  // the analytic normal at the surface point under its centre.
  const double half = 1.0, ambient = 0.25, c = 0.8;
  ps::SceneModel s = top_ortho_scene(half, 64, 64);
  s.light.direction = {-1, 0, -1};
  s.light.ambient = ambient;
  const double L[3] = {std::sqrt(0.5), 0, std::sqrt(0.5)};
  auto expect = [&](double nx, double ny, double nz) {
    const double d = std::max(0.0, nx * L[0] + ny * L[1] + nz * L[2]);
    return std::floor(c * (ambient + (1 - ambient) * d) * 255 + 0.5);
  };
  // normal(x, y, n[3]) fills the unit normal seen at (x, y) and returns the signed distance to
  // the footprint's edge (< 0 inside).
  auto check_shading = [&](const ps::BodyDef& b, auto normal) {
    s.bodies = {b};
    const Frames f = render(s);
    const double pixel = 2.0 * half / f.h;
    int checked = 0;
    for (int y = 0; y < f.h; ++y) {
      for (int x = 0; x < f.w; ++x) {
        double wx, wy, n[3];
        pixel_to_world(half, f.w, f.h, x, y, &wx, &wy);
        if (normal(wx, wy, n) > -2 * pixel) continue;  // silhouettes: normals change too fast
        INFO("pixel " << x << "," << y << " world " << wx << "," << wy);
        REQUIRE(std::abs(f.px(0, x, y)[0] - expect(n[0], n[1], n[2])) <= 2);
        ++checked;
      }
    }
    CHECK(checked > 50);
  };
  SECTION("sphere") {
    auto b = body(ps::Shape::kSphere, {0.1, 0, 0}, {c, c, c});
    b.radius = 0.6;
    check_shading(b, [](double x, double y, double* n) {
      const double r2 = 0.36 - (x - 0.1) * (x - 0.1) - y * y;
      n[0] = (x - 0.1) / 0.6;
      n[1] = y / 0.6;
      n[2] = std::sqrt(std::max(r2, 0.0)) / 0.6;
      return std::hypot(x - 0.1, y) - 0.6;
    });
  }
  SECTION("upright cylinder: its cap") {
    auto b = body(ps::Shape::kCylinder, {0, 0, 0}, {c, c, c});
    b.radius = 0.5;
    b.half_height = 0.2;
    check_shading(b, [](double x, double y, double* n) {
      n[0] = n[1] = 0;
      n[2] = 1;
      return std::hypot(x, y) - 0.5;
    });
  }
  SECTION("lying cylinder: its side") {
    auto b = body(ps::Shape::kCylinder, {0, 0, 0}, {c, c, c});
    b.radius = 0.4;
    b.half_height = 0.6;
    b.orientation = {std::sin(kPi / 4), 0, 0, std::cos(kPi / 4)};  // local z -> world -y
    check_shading(b, [](double x, double y, double* n) {
      // The side's normal is perpendicular to the axis (world y): it lies in the x-z plane.
      n[0] = x / 0.4;
      n[1] = 0;
      n[2] = std::sqrt(std::max(0.16 - x * x, 0.0)) / 0.4;
      return std::max(std::abs(x) - 0.4, std::abs(y) - 0.6);
    });
  }
  SECTION("lying capsule: side and end caps") {
    auto b = body(ps::Shape::kCapsule, {0, 0, 0}, {c, c, c});
    b.radius = 0.3;
    b.half_height = 0.4;
    b.orientation = {0, std::sin(kPi / 4), 0, std::cos(kPi / 4)};  // local z -> world x
    check_shading(b, [](double x, double y, double* n) {
      const double cx = std::clamp(x, -0.4, 0.4);  // nearest point on the axis segment
      const double dx = x - cx, r2 = 0.09 - dx * dx - y * y;
      n[0] = dx / 0.3;
      n[1] = y / 0.3;
      n[2] = std::sqrt(std::max(r2, 0.0)) / 0.3;
      return std::hypot(dx, y) - 0.3;
    });
  }
}

TEST_CASE("renderer: a face turned from the light is darker than one facing it", "[render]") {
  // A cube yawed 45 degrees seen from -y (orthographic): two faces visible, normals
  // (+-sqrt(1/2), -sqrt(1/2), 0). The light travels toward -x: the +x face is lit.
  ps::SceneModel s;
  s.camera.eye = {0, -5, 0};
  s.camera.target = {0, 0, 0};
  s.camera.up = {0, 0, 1};
  s.camera.ortho_half_extent = 1.0;
  s.camera.width = 64;
  s.camera.height = 64;
  s.light.direction = {-1, 0.5, 0};
  s.light.ambient = 0.2;
  auto b = body(ps::Shape::kBox, {0, 0, 0}, {1.0, 1.0, 1.0});
  b.half_extents = {0.4, 0.4, 0.4};
  b.orientation = {0, 0, std::sin(kPi / 8), std::cos(kPi / 8)};
  s.bodies.push_back(b);
  const Frames f = render(s);
  // Image x = world x here; the +x face occupies image x > centre.
  const int right = f.w / 2 + 8, left = f.w / 2 - 8, mid = f.h / 2;
  REQUIRE(f.id(0, right, mid) == 1);
  REQUIRE(f.id(0, left, mid) == 1);
  const double lx = 1.0 / std::sqrt(1.25), ly = -0.5 / std::sqrt(1.25);  // toward the light
  const double c = std::sqrt(0.5);
  const double lit_right = 0.2 + 0.8 * std::max(0.0, c * lx + -c * ly);  // normal (c, -c, 0)
  const double lit_left = 0.2 + 0.8 * std::max(0.0, -c * lx + -c * ly);  // normal (-c, -c, 0)
  CHECK(std::abs(f.px(0, right, mid)[0] - std::floor(lit_right * 255 + 0.5)) <= 1);
  CHECK(std::abs(f.px(0, left, mid)[0] - std::floor(lit_left * 255 + 0.5)) <= 1);
  CHECK(f.px(0, left, mid)[0] < f.px(0, right, mid)[0]);
}

TEST_CASE("renderer: object ids agree with where each body projects", "[render]") {
  // Perspective camera, three separated bodies on a plane; each body's centre is projected
  // with an independent pinhole model and its pixel must carry that body's id.
  ps::SceneModel s;
  s.camera.eye = {0, -1.2, 1.0};
  s.camera.target = {0, 0, 0};
  s.camera.up = {0, 0, 1};
  s.camera.fov_deg = 50;
  s.camera.width = 80;
  s.camera.height = 64;
  s.bodies.push_back(body(ps::Shape::kPlane, {0, 0, 0}, {0.8, 0.8, 0.8}));
  auto cube = body(ps::Shape::kBox, {0.25, 0.1, 0.05});
  cube.half_extents = {0.05, 0.05, 0.05};
  auto ball = body(ps::Shape::kSphere, {-0.25, 0.0, 0.06});
  ball.radius = 0.06;
  auto can = body(ps::Shape::kCylinder, {0.0, 0.3, 0.05});
  can.radius = 0.05;
  can.half_height = 0.05;
  s.bodies.insert(s.bodies.end(), {cube, ball, can});
  ps::MarkerDef goal;
  goal.radius = 0.06;
  goal.position = {0.0, -0.25, 0.0};
  s.markers.push_back(goal);

  // Two environments: the second moves the bodies (poses [2, 4, 7]).
  std::vector<float> poses = ps::initial_poses(s);
  std::vector<float> second = poses;
  second[7 * 1 + 0] = -0.1f;  // cube x
  second[7 * 2 + 1] = 0.2f;   // ball y
  second[7 * 3 + 0] = 0.3f;   // can x
  poses.insert(poses.end(), second.begin(), second.end());
  const Frames f = render(s, {}, 2, &poses);

  const double fx = 0, fy = 1.2, fz = -1.0, fl = std::sqrt(fy * fy + fz * fz);
  const double F[3] = {fx / fl, fy / fl, fz / fl};  // forward
  const double R[3] = {1, 0, 0};                    // right = forward x up
  const double U[3] = {R[1] * F[2] - R[2] * F[1], R[2] * F[0] - R[0] * F[2],
                       R[0] * F[1] - R[1] * F[0]};
  const double t = std::tan(25.0 * kPi / 180.0), aspect = 80.0 / 64.0;
  auto project = [&](double x, double y, double z, int* px, int* py) {
    const double q[3] = {x - 0, y + 1.2, z - 1.0};
    const double cx = q[0] * R[0] + q[1] * R[1] + q[2] * R[2];
    const double cy = q[0] * U[0] + q[1] * U[1] + q[2] * U[2];
    const double cz = q[0] * F[0] + q[1] * F[1] + q[2] * F[2];
    *px = static_cast<int>(std::floor((cx / cz / (t * aspect) + 1) * 0.5 * 80));
    *py = static_cast<int>(std::floor((1 - cy / cz / t) * 0.5 * 64));
  };
  for (int env = 0; env < 2; ++env) {
    for (int k = 1; k <= 3; ++k) {
      const float* p = &poses[(env * 4 + k) * 7];
      int px, py;
      project(p[0], p[1], p[2], &px, &py);
      INFO("env " << env << " body " << k << " projects to " << px << "," << py);
      CHECK(f.id(env, px, py) == k + 1);
    }
    int px, py;
    project(0.0, -0.25, 0.0, &px, &py);
    CHECK(f.id(env, px, py) == 5);      // marker 0: K + 1 + 0 with K = 4
    CHECK(f.id(env, 0, f.h - 1) == 1);  // bottom corner: the table
  }
  // The second environment differs from the first.
  CHECK(std::vector<std::uint8_t>(f.ids.begin(), f.ids.begin() + 80 * 64) !=
        std::vector<std::uint8_t>(f.ids.begin() + 80 * 64, f.ids.end()));
}

namespace {

// A busy scene with random poses for the determinism tests: poses [n, K, 7].
ps::SceneModel busy_scene() {
  ps::SceneModel s;
  s.camera.eye = {0.3, -1.0, 0.9};
  s.camera.target = {0, 0, 0.05};
  s.camera.width = 72;
  s.camera.height = 48;
  s.bodies.push_back(body(ps::Shape::kPlane, {0, 0, 0}, {0.85, 0.85, 0.8}));
  const ps::Shape shapes[] = {ps::Shape::kBox, ps::Shape::kSphere, ps::Shape::kCylinder,
                              ps::Shape::kCapsule};
  for (int i = 0; i < 8; ++i) {
    auto b = body(shapes[i % 4], {0, 0, 0}, {0.1 * i, 0.9 - 0.1 * i, 0.5});
    b.half_extents = {0.05, 0.03, 0.04};
    b.radius = 0.04;
    b.half_height = 0.05;
    s.bodies.push_back(b);
  }
  ps::MarkerDef m;
  m.radius = 0.07;
  s.markers.push_back(m);
  return s;
}

std::vector<float> random_poses(int n, int k, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-0.35f, 0.35f), q(-1.f, 1.f);
  std::vector<float> p;
  for (int i = 0; i < n; ++i) {
    p.insert(p.end(), {0, 0, 0, 0, 0, 0, 1});  // the plane stays put
    for (int j = 1; j < k; ++j) {
      const float a = q(rng), b = q(rng), c = q(rng), d = q(rng);
      const float l = std::sqrt(a * a + b * b + c * c + d * d) + 1e-6f;
      p.insert(p.end(),
               {u(rng), u(rng), 0.05f + 0.1f * std::abs(u(rng)), a / l, b / l, c / l, d / l});
    }
  }
  return p;
}

}  // namespace

TEST_CASE("renderer: CPU output is identical for 1 and 2 and 3 threads and per-env calls",
          "[render]") {
  const ps::SceneModel s = busy_scene();
  const int n = 5, k = static_cast<int>(s.bodies.size());
  const std::vector<float> poses = random_poses(n, k, 7);
  for (int spp : {1, 4}) {
    ps::RenderOptions one;
    one.spp = spp;
    ps::RenderOptions two = one, three = one;
    two.threads = 2;
    three.threads = 3;
    const Frames a = render(s, one, n, &poses);
    const Frames b = render(s, two, n, &poses);
    const Frames c = render(s, three, n, &poses);
    CHECK(a.rgb == b.rgb);
    CHECK(a.ids == b.ids);
    CHECK(a.rgb == c.rgb);
    CHECK(a.ids == c.ids);
    // Rendering env i alone gives the same frame as rendering it in the batch.
    for (int i = 0; i < n; ++i) {
      const std::vector<float> pi(poses.begin() + i * k * 7, poses.begin() + (i + 1) * k * 7);
      const Frames single = render(s, one, 1, &pi);
      const size_t sz = single.rgb.size();
      CHECK(std::equal(single.rgb.begin(), single.rgb.end(), a.rgb.begin() + i * sz));
    }
    // Different poses, different frames.
    CHECK(std::vector<std::uint8_t>(a.rgb.begin(), a.rgb.begin() + a.rgb.size() / n) !=
          std::vector<std::uint8_t>(a.rgb.begin() + a.rgb.size() / n,
                                    a.rgb.begin() + 2 * a.rgb.size() / n));
  }
}

TEST_CASE("renderer: 4 samples per pixel blend edges and keep flat interiors", "[render]") {
  const double half = 1.0;
  ps::SceneModel s = top_ortho_scene(half, 64, 64);
  auto b = body(ps::Shape::kSphere, {0, 0, 0}, {1.0, 0.0, 0.0});
  b.radius = 0.5;
  s.bodies.push_back(b);
  s.light.direction = {0, 0, -1};
  ps::RenderOptions ss;
  ss.spp = 4;
  const Frames one = render(s), four = render(s, ss);
  int blended = 0;
  for (int y = 0; y < 64; ++y) {
    for (int x = 0; x < 64; ++x) {
      const std::uint8_t* p = four.px(0, x, y);
      // Blue is background only (0.85 * 255) and red 0 there; mixtures lie strictly between.
      if (p[2] > 0 && p[2] < 216) ++blended;
    }
  }
  CHECK(blended > 20);
  // Pixels well inside and well outside agree between 1 and 4 samples within rounding.
  CHECK(std::abs(one.px(0, 32, 32)[0] - four.px(0, 32, 32)[0]) <= 2);
  CHECK(std::equal(one.px(0, 0, 0), one.px(0, 0, 0) + 3, four.px(0, 0, 0)));
  CHECK(four.id(0, 32, 32) == 1);
  CHECK(four.id(0, 0, 0) == 0);
}

TEST_CASE("renderer: options are validated", "[render]") {
  auto s = std::make_shared<const ps::SceneModel>(top_ortho_scene(1, 64, 64));
  ps::RenderOptions o;
  o.width = 15;
  CHECK_THROWS_AS(ps::Renderer(s, o), std::invalid_argument);
  o.width = 1025;
  CHECK_THROWS_AS(ps::Renderer(s, o), std::invalid_argument);
  o.width = 1024;
  o.height = 16;
  CHECK_NOTHROW(ps::Renderer(s, o));
  o.spp = 2;
  CHECK_THROWS_AS(ps::Renderer(s, o), std::invalid_argument);
  o.spp = 1;
  o.threads = 0;
  CHECK_THROWS_AS(ps::Renderer(s, o), std::invalid_argument);
  // Sizes default to the scene camera's.
  ps::Renderer r(s);
  CHECK(r.width() == 64);
  CHECK(r.height() == 64);
}

TEST_CASE("renderer: extreme sizes 16x1024 and 1024x16 keep the geometry", "[render]") {
  // Orthographic, vertical extent fixed: a sphere of radius 0.5 at the centre spans half the
  // height in both images, and the horizontal extent scales with the aspect ratio.
  for (auto [w, h] : {std::pair{16, 1024}, std::pair{1024, 16}}) {
    INFO(w << "x" << h);
    ps::SceneModel s = top_ortho_scene(1.0, w, h);
    auto b = body(ps::Shape::kSphere, {0, 0, 0});
    b.radius = 0.5;
    s.bodies.push_back(b);
    const Frames f = render(s);
    REQUIRE(f.w == w);
    REQUIRE(f.h == h);
    check_coverage(f, 1.0, 1, [](double x, double y) { return std::hypot(x, y) - 0.5; });
  }
}

TEST_CASE("renderer: ray-test counter counts primary and shadow tests", "[render]") {
  ps::SceneModel s = top_ortho_scene(1.0, 32, 32);
  s.bodies.push_back(body(ps::Shape::kPlane, {0, 0, 0}));
  const std::vector<float> p = ps::initial_poses(s);
  ps::Renderer r(std::make_shared<const ps::SceneModel>(s));
  // One plane: one primary test per pixel and no shadow test (nothing else to hit).
  CHECK(r.count_ray_tests(1, p.data(), nullptr) == 32 * 32);
  std::vector<float> three;  // [3, 1, 7] f32
  for (int i = 0; i < 3; ++i) three.insert(three.end(), p.begin(), p.end());
  CHECK(r.count_ray_tests(3, three.data(), nullptr) == 3 * 32 * 32);
  // A sphere (radius 0.2 m) above the plane, counted by hand:
  // - primary rays: the plane at all 32 x 32 pixels; the sphere inside its screen rectangle. With
  //   the orthographic half extent 1 m over 16 px, its bounding square [-0.2, 0.2] m spans pixel
  //   coordinates (1 -+ 0.2) x 16 = 12.8 .. 19.2, floored and widened by the 1-pixel margin:
  //   columns 11..20 and rows 11..20, 10 x 10 = 100 tests.
  // - shadow rays (light straight down, so every lit point tests): a pixel that sees the sphere
  //   tests the plane (unbounded, never culled); a pixel that sees the plane tests the sphere only
  //   where its centre is within 0.2 m of the axis, and those pixels all see the sphere. Pixel
  //   centres are at (odd / 32) m; (a^2 + b^2) / 1024 < 0.04 for odd a, b holds for
  //   (1,1) (1,3) (3,1) (3,3) (1,5) (5,1) (3,5) (5,3) in each quadrant: 4 x 8 = 32 pixels.
  // Total 1024 + 100 + 32.
  auto ball = body(ps::Shape::kSphere, {0, 0, 0.3});
  ball.radius = 0.2;
  s.bodies.push_back(ball);
  const std::vector<float> q = ps::initial_poses(s);
  ps::Renderer r2(std::make_shared<const ps::SceneModel>(s));
  const std::int64_t tests = r2.count_ray_tests({.n = 1, .poses = q.data()});
  CHECK(tests == 32 * 32 + 100 + 32);
  // The 32 pixels are those the renderer shows as the sphere.
  std::vector<std::uint8_t> rgb(32 * 32 * 3), ids(32 * 32);
  r2.render({.n = 1, .poses = q.data()}, rgb.data(), ids.data());
  CHECK(std::count(ids.begin(), ids.end(), std::uint8_t{2}) == 32);
}

TEST_CASE("renderer: write_png and read_png round-trip and errors name the file", "[render][png]") {
  const auto dir = std::filesystem::temp_directory_path() / "parallax_test_png";
  std::filesystem::create_directories(dir);
  std::vector<std::uint8_t> img(20 * 17 * 3);  // [17, 20, 3] u8
  for (size_t i = 0; i < img.size(); ++i) img[i] = static_cast<std::uint8_t>(i * 7);
  const auto file = dir / "a.png";
  ps::write_png(file, 20, 17, 3, img.data());
  const ps::Image back = ps::read_png(file);
  CHECK(back.width == 20);
  CHECK(back.height == 17);
  CHECK(back.channels == 3);
  CHECK(back.pixels == img);
  const auto missing = dir / "no_such_dir" / "b.png";
  try {
    ps::write_png(missing, 20, 17, 3, img.data());
    FAIL("expected an exception");
  } catch (const std::runtime_error& e) {
    CHECK(std::string(e.what()).find(missing.string()) != std::string::npos);
  }
  CHECK_THROWS_AS(ps::read_png(missing), std::runtime_error);
  std::filesystem::remove_all(dir);
}

TEST_CASE("renderer: non-finite poses are drawn as nothing and never crash", "[render]") {
  // Bad numbers are data: a diverged body (NaN / inf pose) must not take the frame down.
  ps::SceneModel s = top_ortho_scene(1.0, 32, 32);
  s.bodies.push_back(body(ps::Shape::kPlane, {0, 0, -1}, {0.5, 0.5, 0.5}));
  auto cube = body(ps::Shape::kBox, {0, 0, 0});
  cube.half_extents = {0.3, 0.3, 0.3};
  s.bodies.push_back(cube);
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  const std::vector<float> poses = {
      0, 0, -1, 0, 0, 0, 1, nan, 0,    0, 0,   0,   0,   1,    // NaN x
      0, 0, -1, 0, 0, 0, 1, 0,   0,    0, nan, nan, nan, nan,  // NaN q
      0, 0, -1, 0, 0, 0, 1, inf, -inf, 0, 0,   0,   0,   1};   // inf
  const Frames f = render(s, {}, 3, &poses);
  // Env 0: the cube is gone, the plane is everywhere.
  for (int y = 0; y < 32; ++y) {
    for (int x = 0; x < 32; ++x) REQUIRE(f.id(0, x, y) == 1);
  }
  // Env 1: a NaN orientation falls back to identity; the cube is drawn where it is.
  CHECK(f.id(1, 16, 16) == 2);
  CHECK(f.id(2, 16, 16) == 1);
}
