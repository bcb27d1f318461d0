// Bullet collision shapes for scene bodies (collision_shape.hpp).
#include "collision_shape.hpp"

#include <algorithm>

namespace parallax::sim {

namespace {

btVector3 bt(const Vec3& v) {
  return btVector3(static_cast<btScalar>(v[0]), static_cast<btScalar>(v[1]),
                   static_cast<btScalar>(v[2]));
}

}  // namespace

std::unique_ptr<btCollisionShape> make_collision_shape(const BodyDef& d, float size_scale) {
  const btScalar s = size_scale;
  auto auto_margin = [&](double smallest) {
    return static_cast<btScalar>(d.margin >= 0 ? d.margin : std::min(0.04, 0.1 * smallest * s));
  };
  switch (d.shape) {
    case Shape::kPlane:
      return std::make_unique<btStaticPlaneShape>(bt(d.plane_normal), btScalar(0));
    case Shape::kBox: {
      auto box = std::make_unique<btBoxShape>(bt(d.half_extents) * s);
      box->setMargin(
          auto_margin(std::min({d.half_extents[0], d.half_extents[1], d.half_extents[2]})));
      return box;
    }
    case Shape::kSphere:
      return std::make_unique<btSphereShape>(static_cast<btScalar>(d.radius) * s);
    case Shape::kCylinder: {
      btVector3 he(static_cast<btScalar>(d.radius), static_cast<btScalar>(d.radius),
                   static_cast<btScalar>(d.half_height));
      auto cyl = std::make_unique<btCylinderShapeZ>(he * s);
      cyl->setMargin(auto_margin(std::min(d.radius, d.half_height)));
      return cyl;
    }
    case Shape::kCapsule:
      return std::make_unique<btCapsuleShapeZ>(static_cast<btScalar>(d.radius) * s,
                                               static_cast<btScalar>(2 * d.half_height) * s);
  }
  return nullptr;  // unreachable: every Shape is handled above
}

}  // namespace parallax::sim
