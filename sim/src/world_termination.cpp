// Terminations: conditions on bodies and joints that end an episode.
#include <cmath>

#include "world_impl.hpp"

namespace parallax::sim {

bool World::Impl::any_termination() const {
  const SceneModel& sc = *scene;
  bool terminated = false;
  for (std::size_t k = 0; k < sc.terminations.size(); ++k) {
    const TerminationDef& t = sc.terminations[k];
    switch (t.type) {
      case TerminationType::kHeightBelow:
        if (bodies[term_body[k]].rb->getWorldTransform().getOrigin().z() < t.value)
          terminated = true;
        break;
      case TerminationType::kHeightAbove:
        if (bodies[term_body[k]].rb->getWorldTransform().getOrigin().z() > t.value)
          terminated = true;
        break;
      case TerminationType::kOutOfBounds: {
        const btVector3& p = bodies[term_body[k]].rb->getWorldTransform().getOrigin();
        if (std::abs(p.x()) > t.value || std::abs(p.y()) > t.value) terminated = true;
        break;
      }
      case TerminationType::kJointAbsAbove:
        if (std::abs(joint_position(joints[term_joint[k]])) > t.value) terminated = true;
        break;
    }
  }
  return terminated;
}

}  // namespace parallax::sim
