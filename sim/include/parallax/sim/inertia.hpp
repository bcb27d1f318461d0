// Exact mass properties of the solid shapes a body can have (uniform density).
//
// Bullet's own btCapsuleShape::calculateLocalInertia uses the inertia of the capsule's bounding
// box; World uses these values for every shape instead. Formulas and derivations: docs/sim.md.
#pragma once

#include "parallax/sim/scene.hpp"

namespace parallax::sim {

// Principal moments of inertia (kg m^2) of body `d`'s solid shape with total mass `mass` (kg),
// every dimension multiplied by `size_scale`, about its centre of mass along its local axes
// (a cylinder's or capsule's axis is local +z). A plane has none: {0, 0, 0}.
Vec3 solid_inertia(const BodyDef& d, double mass, double size_scale = 1.0);

}  // namespace parallax::sim
