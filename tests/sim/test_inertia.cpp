// Exact inertias of every shape against an independent numerical integration: the solid is
// voxelised on a fine grid (a voxel counts when its centre lies inside the shape, tested with
// nothing but the shape's definition) and the second moments are summed. No formula from
// inertia.cpp is used here.
#include <catch2/catch.hpp>
#include <cmath>
#include <functional>

#include "parallax/sim/inertia.hpp"

using namespace parallax::sim;

namespace {

// Moments about the centre of a uniform solid of total mass m whose points p satisfy inside(p),
// within the box [-ext, ext]^3, by midpoint voxel sums on an n^3 grid.
Vec3 voxel_inertia(const std::function<bool(double, double, double)>& inside, const Vec3& ext,
                   double m, int n) {
  double ixx = 0, iyy = 0, izz = 0;
  long count = 0;
  for (int i = 0; i < n; ++i) {
    const double x = ext[0] * (2.0 * (i + 0.5) / n - 1);
    for (int j = 0; j < n; ++j) {
      const double y = ext[1] * (2.0 * (j + 0.5) / n - 1);
      for (int k = 0; k < n; ++k) {
        const double z = ext[2] * (2.0 * (k + 0.5) / n - 1);
        if (!inside(x, y, z)) continue;
        ++count;
        ixx += y * y + z * z, iyy += x * x + z * z, izz += x * x + y * y;
      }
    }
  }
  // Each voxel carries m / count: the voxel count also estimates the volume, so the boundary
  // error of the volume and of the moments largely cancels.
  return {ixx * m / count, iyy * m / count, izz * m / count};
}

BodyDef body(Shape s) {
  BodyDef d;
  d.shape = s;
  return d;
}

// The voxel sums converge to the integrals as the grid is refined (like 1/n^2 for the box, whose
// faces fall on voxel boundaries; about 1/n^1.5 at curved surfaces, where voxels cut by the
// surface are counted in or out with errors of both signs). At n = 240 they differ from the
// exact moments by 1e-5 to 1.2e-4 (relative); we allow 1e-3. Bullet's bounding-box capsule
// inertia is 40 % off.
constexpr int kGrid = 240;
constexpr double kTol = 1e-3;

void check_close(const Vec3& exact, const Vec3& numeric) {
  for (int a = 0; a < 3; ++a) {
    INFO("axis " << a << ": exact " << exact[a] << ", voxel sum " << numeric[a]);
    CHECK(std::abs(exact[a] - numeric[a]) <= kTol * numeric[a]);
  }
}

}  // namespace

TEST_CASE("inertia: box matches voxel integration", "[inertia]") {
  BodyDef d = body(Shape::kBox);
  d.half_extents = {0.03, 0.05, 0.08};
  const double m = 0.7;
  auto in = [&](double x, double y, double z) {
    return std::abs(x) <= 0.03 && std::abs(y) <= 0.05 && std::abs(z) <= 0.08;
  };
  check_close(solid_inertia(d, m), voxel_inertia(in, d.half_extents, m, kGrid));
}

TEST_CASE("inertia: sphere matches voxel integration", "[inertia]") {
  BodyDef d = body(Shape::kSphere);
  d.radius = 0.04;
  const double m = 0.3, r = 0.04;
  auto in = [&](double x, double y, double z) { return x * x + y * y + z * z <= r * r; };
  check_close(solid_inertia(d, m), voxel_inertia(in, {r, r, r}, m, kGrid));
}

TEST_CASE("inertia: cylinder matches voxel integration", "[inertia]") {
  BodyDef d = body(Shape::kCylinder);
  d.radius = 0.05;
  d.half_height = 0.02;
  const double m = 1.3, r = 0.05, h = 0.02;
  auto in = [&](double x, double y, double z) {
    return x * x + y * y <= r * r && std::abs(z) <= h;
  };
  check_close(solid_inertia(d, m), voxel_inertia(in, {r, r, h}, m, kGrid));
}

TEST_CASE("inertia: capsule matches voxel integration and not its bounding box", "[inertia]") {
  BodyDef d = body(Shape::kCapsule);
  d.radius = 0.03;
  d.half_height = 0.06;
  const double m = 0.5, r = 0.03, h = 0.06;
  // Inside: within r of the axis segment from (0, 0, -h) to (0, 0, h).
  auto in = [&](double x, double y, double z) {
    const double dz = std::max(0.0, std::abs(z) - h);
    return x * x + y * y + dz * dz <= r * r;
  };
  const Vec3 exact = solid_inertia(d, m);
  check_close(exact, voxel_inertia(in, {r, r, h + r}, m, kGrid));
  // Bullet's approximation: the box 2r x 2r x 2(h + r) of the same mass.
  const double box_axial = m * (4 * r * r + 4 * r * r) / 12;
  CHECK(exact[2] < 0.8 * box_axial);
}

TEST_CASE("inertia: size scale multiplies every moment by its square", "[inertia]") {
  BodyDef d = body(Shape::kCapsule);
  d.radius = 0.02;
  d.half_height = 0.05;
  const Vec3 a = solid_inertia(d, 1.0, 1.0), b = solid_inertia(d, 1.0, 1.5);
  for (int k = 0; k < 3; ++k) CHECK(b[k] == Approx(a[k] * 2.25).epsilon(1e-12));
  const Vec3 p = solid_inertia(body(Shape::kPlane), 1.0);
  CHECK((p[0] == 0 && p[1] == 0 && p[2] == 0));
}
