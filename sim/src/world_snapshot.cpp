// Snapshots: WorldState holds every body's pose, velocities and episode parameters, markers and
// reward bookkeeping as raw floats; saving and restoring both canonicalise the Bullet world
// (world_impl.hpp), so a restored copy and the live world step on bit-identically.
#include <stdexcept>
#include <string>

#include "world_impl.hpp"

namespace parallax::sim {

namespace {

constexpr int kBodyFloats = 36;  // transform 12, interpolation transform 12, 4 velocities x 3
constexpr int kParamFloats = 6;  // size scale, mass scale, friction, colour rgb

void put_transform(float* out, const btTransform& t) {
  const btMatrix3x3& b = t.getBasis();
  for (int r = 0; r < 3; ++r)
    for (int c = 0; c < 3; ++c) out[r * 3 + c] = b[r][c];
  for (int i = 0; i < 3; ++i) out[9 + i] = t.getOrigin()[i];
}
btTransform get_transform(const float* in) {
  btMatrix3x3 b(in[0], in[1], in[2], in[3], in[4], in[5], in[6], in[7], in[8]);
  return btTransform(b, btVector3(in[9], in[10], in[11]));
}

}  // namespace

WorldState World::save_state() const {
  Impl& m = *impl_;
  const std::size_t K = m.bodies.size();
  WorldState s;
  s.layout = m.layout;
  s.data.resize(3 + K * (kBodyFloats + kParamFloats) + m.markers.size() + m.success_fired.size());
  float* p = s.data.data();
  *p++ = static_cast<float>(m.steps);  // exact below 2^24 steps
  *p++ = m.diverged ? 1.0f : 0.0f;
  *p++ = 0.0f;  // reserved
  for (const auto& b : m.bodies) {
    const btRigidBody* rb = b.rb.get();
    put_transform(p, rb->getWorldTransform()), p += 12;
    put_transform(p, rb->getInterpolationWorldTransform()), p += 12;
    put_vec(p, rb->getLinearVelocity()), p += 3;
    put_vec(p, rb->getAngularVelocity()), p += 3;
    put_vec(p, rb->getInterpolationLinearVelocity()), p += 3;
    put_vec(p, rb->getInterpolationAngularVelocity()), p += 3;
    *p++ = b.size_scale, *p++ = b.mass_scale, *p++ = b.friction;
    *p++ = b.color[0], *p++ = b.color[1], *p++ = b.color[2];
  }
  for (float v : m.markers) *p++ = v;
  for (auto f : m.success_fired) *p++ = f;
  // The live world drops its caches too, so that its future equals a restored copy's.
  m.canonicalize();
  return s;
}

void World::restore_state(const WorldState& s) {
  Impl& m = *impl_;
  const std::size_t K = m.bodies.size();
  const std::size_t need =
      3 + K * (kBodyFloats + kParamFloats) + m.markers.size() + m.success_fired.size();
  if (s.layout != m.layout || s.data.size() != need) {
    throw std::invalid_argument(
        "restore_state: the snapshot was taken from a world of another "
        "scene than '" +
        m.scene->name + "'");
  }
  m.detach();  // before any shape is rebuilt
  const float* p = s.data.data();
  m.steps = static_cast<int>(*p++);
  m.diverged = *p++ != 0.0f;
  ++p;
  for (std::size_t i = 0; i < K; ++i) {
    auto& b = m.bodies[i];
    btRigidBody* rb = b.rb.get();
    btTransform t = get_transform(p);
    btTransform ti = get_transform(p + 12);
    btVector3 v = get_vec(p + 24), w = get_vec(p + 27), vi = get_vec(p + 30), wi = get_vec(p + 33);
    p += kBodyFloats;
    float size = *p++;
    b.mass_scale = *p++;
    b.friction = *p++;
    for (int c = 0; c < 3; ++c) b.color[c] = *p++;
    if (size != b.size_scale) m.build_shape(static_cast<int>(i), size);
    m.apply_params(static_cast<int>(i));
    rb->setWorldTransform(t);
    rb->setInterpolationWorldTransform(ti);
    rb->setLinearVelocity(v);
    rb->setAngularVelocity(w);
    rb->setInterpolationLinearVelocity(vi);
    rb->setInterpolationAngularVelocity(wi);
    rb->clearForces();
    rb->updateInertiaTensor();
  }
  for (float& v : m.markers) v = *p++;
  for (auto& f : m.success_fired) f = static_cast<std::uint8_t>(*p++);
  m.attach();
}

}  // namespace parallax::sim
