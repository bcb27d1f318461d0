// World::perturb: the physical-variance reference of fidelity (world.hpp).
#include <cmath>
#include <random>
#include <stdexcept>
#include <string>

#include "world_impl.hpp"

namespace parallax::sim {

void World::perturb(float position_m, float yaw_deg, std::uint64_t seed) {
  Impl& m = *impl_;
  if (!std::isfinite(position_m) || !std::isfinite(yaw_deg) || position_m < 0 || yaw_deg < 0)
    throw std::invalid_argument("perturb: position_m and yaw_deg must be finite and >= 0, got " +
                                std::to_string(position_m) + " and " + std::to_string(yaw_deg));
  std::vector<char> on_joint(m.bodies.size(), 0);
  for (const auto& j : m.joints) {
    if (j.ia >= 0) on_joint[j.ia] = 1;
    if (j.ib >= 0) on_joint[j.ib] = 1;
  }
  std::mt19937_64 rng(seed);
  m.detach();
  for (std::size_t i = 0; i < m.bodies.size(); ++i) {
    auto& b = m.bodies[i];
    const double dir = uniform(rng, 0.0, 2.0 * M_PI);
    const double sign = uniform(rng, 0.0, 1.0) < 0.5 ? -1.0 : 1.0;
    if (!(b.dynamic || b.kinematic) || on_joint[i]) continue;
    btRigidBody* rb = b.rb.get();
    btTransform t = rb->getWorldTransform();
    t.setOrigin(t.getOrigin() + btVector3(static_cast<btScalar>(position_m * std::cos(dir)),
                                          static_cast<btScalar>(position_m * std::sin(dir)), 0));
    const btQuaternion qz(btVector3(0, 0, 1), static_cast<btScalar>(sign * yaw_deg * M_PI / 180.0));
    t.setRotation(qz * t.getRotation());
    rb->setWorldTransform(t);
    rb->setInterpolationWorldTransform(t);
  }
  m.attach();
}

}  // namespace parallax::sim
