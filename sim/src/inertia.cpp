// Exact inertia of uniform solids (see inertia.hpp; derivations in docs/sim.md).
#include "parallax/sim/inertia.hpp"

#include <cmath>

namespace parallax::sim {

namespace {

// Solid cylinder of radius r and half length h (axis z).
Vec3 cylinder(double m, double r, double h) {
  const double transverse = m * (r * r / 4 + h * h / 3);  // (2h)^2 / 12 = h^2 / 3
  return {transverse, transverse, m * r * r / 2};
}

// Solid capsule: a cylinder of radius r and half length h plus two solid hemispheres of radius r,
// one on each end, all of the same density. A hemisphere of mass mh has, about its flat face's
// centre, the moments of half a sphere: 2/5 mh r^2 about every axis through that point. Its
// centre of mass lies 3r/8 from the face, at distance h + 3r/8 from the capsule's centre, so by
// the parallel-axis theorem (twice: to its own centre, then out to the capsule's centre) its
// transverse moment about the capsule's centre is
//   mh (2/5 r^2 - (3r/8)^2) + mh (h + 3r/8)^2 = mh (2/5 r^2 + h^2 + 3/4 h r).
Vec3 capsule(double m, double r, double h) {
  const double v_cyl = M_PI * r * r * 2 * h;
  const double v_sph = 4.0 / 3.0 * M_PI * r * r * r;
  const double m_cyl = m * v_cyl / (v_cyl + v_sph);
  const double m_hemi = (m - m_cyl) / 2;
  const Vec3 c = cylinder(m_cyl, r, h);
  const double transverse = c[0] + 2 * m_hemi * (0.4 * r * r + h * h + 0.75 * h * r);
  const double axial = c[2] + 2 * m_hemi * 0.4 * r * r;
  return {transverse, transverse, axial};
}

}  // namespace

Vec3 solid_inertia(const BodyDef& d, double mass, double size_scale) {
  const double s = size_scale;
  switch (d.shape) {
    case Shape::kPlane:
      return {0, 0, 0};
    case Shape::kBox: {
      const double x = d.half_extents[0] * s, y = d.half_extents[1] * s, z = d.half_extents[2] * s;
      return {mass * (y * y + z * z) / 3, mass * (x * x + z * z) / 3, mass * (x * x + y * y) / 3};
    }
    case Shape::kSphere: {
      const double r = d.radius * s;
      const double i = 0.4 * mass * r * r;
      return {i, i, i};
    }
    case Shape::kCylinder:
      return cylinder(mass, d.radius * s, d.half_height * s);
    case Shape::kCapsule:
      return capsule(mass, d.radius * s, d.half_height * s);
  }
  return {0, 0, 0};
}

}  // namespace parallax::sim
