// Exact contact sets of boxes, cylinders and capsules resting on static planes.
//
// Bullet's generic convex-plane algorithm finds one support point per step; for boxes it adds
// points found by perturbing the orientation, and keeps all of them in a persistent manifold
// that drops a point once it has slid ~1.7 mm. A box sliding on a plane therefore stands on 1-3
// corners at a time and rocks, and a cylinder or capsule at rest stands on a single rim or end
// point and gets a kick. This algorithm rebuilds the manifold every step from the exact
// candidates: a box's corners, the rim points of a cylinder's end discs (the deepest one and the
// three at 90-degree steps from it), a capsule's two hemisphere bottoms. Impulses carry over
// (warm starting) per feature. Spheres keep Bullet's algorithm, which is exact for them.
#pragma once

#include <memory>

class btCollisionDispatcher;

namespace parallax::sim {

// Owns the algorithm factories; must outlive the dispatcher it was registered with.
class PlaneContacts {
 public:
  PlaneContacts();
  ~PlaneContacts();
  PlaneContacts(const PlaneContacts&) = delete;
  PlaneContacts& operator=(const PlaneContacts&) = delete;

  // Registers box, cylinder and capsule against static plane (both orders) with `dispatcher`.
  void register_with(btCollisionDispatcher& dispatcher);

 private:
  struct Funcs;
  std::unique_ptr<Funcs> funcs_;
};

}  // namespace parallax::sim
