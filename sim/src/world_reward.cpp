// Rewards: the weighted terms of the scene's reward, evaluated after a control step. A new
// reward term is a case in evaluate_rewards() (and its parser in scene_parse_reward.cpp).
#include <cmath>

#include "world_impl.hpp"

namespace parallax::sim {

btVector3 World::Impl::point_of(int body, int marker, const Vec3& offset) const {
  if (body >= 0) return bodies[body].rb->getWorldTransform() * bt(offset);
  return btVector3(markers[marker * 3], markers[marker * 3 + 1], markers[marker * 3 + 2]);
}

bool World::Impl::touching(int a, int b) const {
  const btCollisionObject* oa = bodies[a].rb.get();
  const btCollisionObject* ob = bodies[b].rb.get();
  int n = dispatcher->getNumManifolds();
  for (int i = 0; i < n; ++i) {
    const btPersistentManifold* m = dispatcher->getManifoldByIndexInternal(i);
    bool pair = (m->getBody0() == oa && m->getBody1() == ob) ||
                (m->getBody0() == ob && m->getBody1() == oa);
    if (!pair) continue;
    for (int k = 0; k < m->getNumContacts(); ++k)
      if (m->getContactPoint(k).getDistance() <= btScalar(1e-3)) return true;
  }
  return false;
}

double World::Impl::evaluate_rewards(bool& terminated) {
  double reward = 0;
  for (std::size_t r = 0; r < rewards.size(); ++r) {
    const Reward& rw = rewards[r];
    const RewardTerm& t = *rw.def;
    auto dist = [&] {
      btVector3 pa = point_of(rw.a_body, rw.a_marker, t.offset_a);
      btVector3 pb = t.point ? bt(*t.point) : point_of(rw.b_body, rw.b_marker, Vec3{0, 0, 0});
      btVector3 d = pa - pb;
      double s2 = 0;
      for (int c = 0; c < 3; ++c)
        if (t.axes[c]) s2 += static_cast<double>(d[c]) * d[c];
      return std::sqrt(s2);
    };
    switch (t.type) {
      case RewardType::kDistance:
        reward += t.weight * dist();
        break;
      case RewardType::kHeight:
        reward += t.weight * bodies[rw.a_body].rb->getWorldTransform().getOrigin().z();
        break;
      case RewardType::kJointCos:
        reward += t.weight * std::cos(joint_position(joints[rw.joint]));
        break;
      case RewardType::kVelocity:
        reward += t.weight * bodies[rw.a_body].rb->getLinearVelocity().length();
        break;
      case RewardType::kContact:
        if (touching(rw.a_body, rw.b_body)) reward += t.weight;
        break;
      case RewardType::kSuccess:
        if (dist() < t.within) {
          if (!success_fired[r]) reward += t.bonus;
          success_fired[r] = 1;
          if (t.terminate) terminated = true;
        }
        break;
    }
  }
  return reward;
}

}  // namespace parallax::sim
