// Bullet collision shapes for scene bodies. A new shape is a case here, in inertia.cpp (its mass
// properties), in plane_contact.cpp (if it rests on planes), in the shape table
// (scene_enums.hpp) with its dimensions in scene_parse_body.cpp, and in the renderers.
#pragma once

#include <btBulletCollisionCommon.h>

#include <memory>

#include "parallax/sim/scene.hpp"

namespace parallax::sim {

// Body `d`'s shape with every dimension multiplied by `size_scale`. Boxes and cylinders get a
// collision margin suited to their size unless the scene gives one: Bullet's default 0.04 m
// would round a 0.04 m box into a sphere.
std::unique_ptr<btCollisionShape> make_collision_shape(const BodyDef& d, float size_scale);

}  // namespace parallax::sim
