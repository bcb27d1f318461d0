// Exact contact sets against static planes (see plane_contact.hpp).
#include "plane_contact.hpp"

#include <btBulletDynamicsCommon.h>

#include <BulletCollision/CollisionDispatch/btCollisionObjectWrapper.h>
#include <algorithm>
#include <array>
#include <cmath>

namespace parallax::sim {

namespace {

// At most 8 candidate points (a box's corners, two discs x 4 rim points); a manifold keeps 4.
constexpr int kMaxCandidates = 8;
constexpr int kManifoldPoints = 4;

struct Candidate {
  btVector3 local;  // point on the convex body, its local frame
  btScalar distance = 0;
  int feature = 0;  // stable id (corner, disc x rim slot) for warm starting
};

// Candidates in the convex body's local frame, given the plane's outward normal `n` in that
// frame. Returns the count.
int box_candidates(const btBoxShape& box, std::array<Candidate, kMaxCandidates>& out) {
  const btVector3 h = box.getHalfExtentsWithMargin();
  for (int k = 0; k < 8; ++k)
    out[k].local =
        btVector3(k & 1 ? h.x() : -h.x(), k & 2 ? h.y() : -h.y(), k & 4 ? h.z() : -h.z()),
    out[k].feature = k;
  return 8;
}

int cylinder_candidates(const btCylinderShapeZ& cyl, const btVector3& n,
                        std::array<Candidate, kMaxCandidates>& out) {
  const btVector3 he = cyl.getHalfExtentsWithMargin();
  const btScalar r = he.x(), h = he.z();
  // Deepest rim direction: against the normal's component across the axis. When the axis is
  // (nearly) along the normal, the whole rim is equally deep: any four points at right angles
  // support the disc symmetrically; take the local x axis.
  btVector3 u(-n.x(), -n.y(), 0);
  const btScalar s = u.length();
  u = s > btScalar(1e-6) ? u / s : btVector3(1, 0, 0);
  const btVector3 v(-u.y(), u.x(), 0);  // u rotated by 90 degrees about z
  int count = 0;
  for (int disc = 0; disc < 2; ++disc) {
    const btScalar z = disc == 0 ? -h : h;
    const btVector3 rim[4] = {u * r, v * r, -u * r, -v * r};
    for (int k = 0; k < 4; ++k) {
      out[count].local = rim[k] + btVector3(0, 0, z);
      out[count].feature = disc * 4 + k;
      ++count;
    }
  }
  return count;
}

int capsule_candidates(const btCapsuleShapeZ& cap, const btVector3& n,
                       std::array<Candidate, kMaxCandidates>& out) {
  const btScalar r = cap.getRadius(), h = cap.getHalfHeight();
  for (int end = 0; end < 2; ++end) {
    out[end].local = btVector3(0, 0, end == 0 ? -h : h) - n * r;
    out[end].feature = end;
  }
  return 2;
}

class PlaneContactAlgorithm : public btCollisionAlgorithm {
 public:
  PlaneContactAlgorithm(const btCollisionAlgorithmConstructionInfo& ci,
                        const btCollisionObjectWrapper* w0, const btCollisionObjectWrapper* w1,
                        bool swapped)
      : btCollisionAlgorithm(ci), swapped_(swapped) {
    const btCollisionObjectWrapper* convex = swapped_ ? w1 : w0;
    const btCollisionObjectWrapper* plane = swapped_ ? w0 : w1;
    if (m_dispatcher->needsCollision(convex->getCollisionObject(), plane->getCollisionObject()))
      manifold_ =
          m_dispatcher->getNewManifold(convex->getCollisionObject(), plane->getCollisionObject());
  }
  ~PlaneContactAlgorithm() override {
    if (manifold_) m_dispatcher->releaseManifold(manifold_);
  }

  void processCollision(const btCollisionObjectWrapper* w0, const btCollisionObjectWrapper* w1,
                        const btDispatcherInfo&, btManifoldResult* result) override {
    if (!manifold_) return;
    const btCollisionObjectWrapper* convex = swapped_ ? w1 : w0;
    const btCollisionObjectWrapper* plane = swapped_ ? w0 : w1;
    const auto* plane_shape = static_cast<const btStaticPlaneShape*>(plane->getCollisionShape());
    const btTransform& tc = convex->getWorldTransform();
    const btTransform& tp = plane->getWorldTransform();
    const btVector3 normal = tp.getBasis() * plane_shape->getPlaneNormal();  // world
    const btScalar offset =
        normal.dot(tp * (plane_shape->getPlaneNormal() * plane_shape->getPlaneConstant()));
    const btVector3 n_local = tc.getBasis().transpose() * normal;

    std::array<Candidate, kMaxCandidates> cand;
    int count = 0;
    const btCollisionShape* shape = convex->getCollisionShape();
    switch (shape->getShapeType()) {
      case BOX_SHAPE_PROXYTYPE:
        count = box_candidates(*static_cast<const btBoxShape*>(shape), cand);
        break;
      case CYLINDER_SHAPE_PROXYTYPE:
        count = cylinder_candidates(*static_cast<const btCylinderShapeZ*>(shape), n_local, cand);
        break;
      case CAPSULE_SHAPE_PROXYTYPE:
        count = capsule_candidates(*static_cast<const btCapsuleShapeZ*>(shape), n_local, cand);
        break;
      default:
        break;
    }
    for (int k = 0; k < count; ++k) cand[k].distance = normal.dot(tc * cand[k].local) - offset;
    // Deepest first; ties keep the feature order, so the choice is deterministic. (Insertion
    // sort: std::stable_sort may allocate, and a step allocates nothing.)
    for (int k = 1; k < count; ++k)
      for (int m = k; m > 0 && cand[m].distance < cand[m - 1].distance; --m)
        std::swap(cand[m], cand[m - 1]);

    // Warm-start state of the previous step's points, by feature.
    struct Saved {
      int feature;
      btScalar normal, lateral1, lateral2, prev_rhs;
      int life;
    };
    std::array<Saved, kManifoldPoints> saved{};
    const int old = manifold_->getNumContacts();
    for (int k = 0; k < old; ++k) {
      const btManifoldPoint& p = manifold_->getContactPoint(k);
      saved[k] = {
          p.m_index0,  p.m_appliedImpulse, p.m_appliedImpulseLateral1, p.m_appliedImpulseLateral2,
          p.m_prevRHS, p.getLifeTime()};
    }
    manifold_->clearManifold();
    result->setPersistentManifold(manifold_);
    const btScalar threshold = manifold_->getContactBreakingThreshold();
    for (int k = 0; k < count && manifold_->getNumContacts() < kManifoldPoints; ++k) {
      if (cand[k].distance >= threshold) break;
      const btVector3 on_plane = tc * cand[k].local - normal * cand[k].distance;
      const int before = manifold_->getNumContacts();
      result->addContactPoint(normal, on_plane, cand[k].distance);
      if (manifold_->getNumContacts() == before) continue;  // merged with a point already added
      btManifoldPoint& p = manifold_->getContactPoint(before);
      p.m_index0 = cand[k].feature;
      for (int s = 0; s < old; ++s) {
        if (saved[s].feature != cand[k].feature) continue;
        p.m_appliedImpulse = saved[s].normal;
        p.m_appliedImpulseLateral1 = saved[s].lateral1;
        p.m_appliedImpulseLateral2 = saved[s].lateral2;
        p.m_prevRHS = saved[s].prev_rhs;
        p.m_lifeTime = saved[s].life + 1;
      }
    }
  }

  btScalar calculateTimeOfImpact(btCollisionObject*, btCollisionObject*, const btDispatcherInfo&,
                                 btManifoldResult*) override {
    return 1;
  }
  void getAllContactManifolds(btManifoldArray& out) override {
    if (manifold_) out.push_back(manifold_);
  }

 private:
  btPersistentManifold* manifold_ = nullptr;
  bool swapped_;
};

struct CreateFunc : btCollisionAlgorithmCreateFunc {
  explicit CreateFunc(bool swapped) { m_swapped = swapped; }
  btCollisionAlgorithm* CreateCollisionAlgorithm(btCollisionAlgorithmConstructionInfo& ci,
                                                 const btCollisionObjectWrapper* w0,
                                                 const btCollisionObjectWrapper* w1) override {
    void* mem = ci.m_dispatcher1->allocateCollisionAlgorithm(sizeof(PlaneContactAlgorithm));
    return new (mem) PlaneContactAlgorithm(ci, w0, w1, m_swapped);
  }
};

}  // namespace

struct PlaneContacts::Funcs {
  CreateFunc convex_plane{false}, plane_convex{true};
};

PlaneContacts::PlaneContacts() : funcs_(std::make_unique<Funcs>()) {}
PlaneContacts::~PlaneContacts() = default;

void PlaneContacts::register_with(btCollisionDispatcher& dispatcher) {
  for (int shape : {BOX_SHAPE_PROXYTYPE, CYLINDER_SHAPE_PROXYTYPE, CAPSULE_SHAPE_PROXYTYPE}) {
    dispatcher.registerCollisionCreateFunc(shape, STATIC_PLANE_PROXYTYPE, &funcs_->convex_plane);
    dispatcher.registerCollisionCreateFunc(STATIC_PLANE_PROXYTYPE, shape, &funcs_->plane_convex);
  }
}

}  // namespace parallax::sim
