// The per-pixel code of the batch renderer, shared by the CPU path (compiled by g++, called from
// worker threads in render_cpu.cpp) and the CUDA path (compiled by nvcc in render_cuda.cu).
// Plain structs of floats and ints only: no CUDA, Bullet or std types, so both compilers see the
// same arithmetic. All lengths in metres, directions unit length unless said otherwise.
//
// Per frame: build_prim() turns each static primitive plus its pose into a world-space Prim with
// a conservative pixel rectangle (screen footprint of its bounding sphere); render_pixel() casts
// 1 or 4 primary rays, tests only primitives whose rectangle holds the pixel, shades the nearest
// hit with Lambert + ambient and one shadow ray toward the directional light.
#pragma once

#include <math.h>
#include <stdint.h>

#ifdef __CUDACC__
#define PARALLAX_HD __host__ __device__
#define PARALLAX_HD_INLINE __host__ __device__ __forceinline__
#else
#define PARALLAX_HD
#define PARALLAX_HD_INLINE __attribute__((always_inline)) inline
#endif

namespace parallax::sim::rk {

// Ids are u8 and 0 is the background: at most 254 bodies plus markers.
constexpr int kMaxPrims = 254;
constexpr float kInf = 1e30f;
constexpr float kPrimaryTmin = 1e-4f;   // metres along a primary ray
constexpr float kShadowOffset = 1e-4f;  // metres: shadow rays start this far off the surface
constexpr float kMarkerLift = 1e-3f;    // metres: discs are drawn this far above their plane so
                                        // they never z-fight the table they lie on

enum PrimType : int { kPlane = 0, kBox = 1, kSphere = 2, kCylinder = 3, kCapsule = 4, kDisc = 5 };

struct F3 {
  float x, y, z;
};
PARALLAX_HD inline F3 f3(float x, float y, float z) {
  return F3{x, y, z};
}
PARALLAX_HD inline F3 add(F3 a, F3 b) {
  return F3{a.x + b.x, a.y + b.y, a.z + b.z};
}
PARALLAX_HD inline F3 sub(F3 a, F3 b) {
  return F3{a.x - b.x, a.y - b.y, a.z - b.z};
}
PARALLAX_HD inline F3 mul(F3 a, float s) {
  return F3{a.x * s, a.y * s, a.z * s};
}
PARALLAX_HD inline float dot(F3 a, F3 b) {
  return a.x * b.x + a.y * b.y + a.z * b.z;
}
PARALLAX_HD inline F3 cross(F3 a, F3 b) {
  return F3{a.y * b.z - a.z * b.y, a.z * b.x - a.x * b.z, a.x * b.y - a.y * b.x};
}
PARALLAX_HD inline F3 normalize(F3 a) {
  const float len2 = dot(a, a);
  return len2 > 0.f ? mul(a, 1.f / sqrtf(len2)) : F3{0.f, 0.f, 1.f};
}

// One primitive as the scene describes it (pose-independent).
struct StaticPrim {
  int type;       // PrimType
  int source;     // body index k (bodies) or marker index m (discs)
  float dims[3];  // box: half extents; sphere: r; cylinder/capsule: r, half height; disc: r;
                  // plane: normal in the body frame
  F3 color;       // [0, 1]
  float bound;    // bounding-sphere radius about the centre; < 0 = unbounded (planes)
};

// One primitive of one environment in world space.
struct Prim {
  int type;            // PrimType
  int id;              // id byte written for pixels it covers
  int x0, x1, y0, y1;  // inclusive pixel rectangle that may see it (empty if x1 < x0)
  F3 c;                // centre (plane: a point on it)
  F3 ax, ay, az;       // body axes in world coordinates (plane: az is the normal)
  float d0, d1, d2;    // dims as in StaticPrim
  float bound;         // bounding-sphere radius, < 0 = unbounded
  F3 color;
  F3 lc;  // centre in the light basis: (c . light_u, c . light_v, c . to_light)
};

struct Camera {
  F3 eye, forward, right, up;  // orthonormal; right = forward x up
  float sx, sy;  // perspective: tan(fov/2) * aspect, tan(fov/2); orthographic: half extents (m)
  float ku, kv;  // view units per pixel: 2 sx / width, 2 sy / height
  int ortho;     // 1 = orthographic
};

struct Frame {
  Camera cam;
  int width, height;    // pixels
  int spp;              // 1 or 4
  int shadows;          // 1 = cast shadow rays
  F3 to_light;          // unit vector toward the light
  F3 light_u, light_v;  // unit vectors completing to_light to an orthonormal basis
  float ambient;        // [0, 1]
  F3 background;        // [0, 1]
  int num_bodies;       // K: prims [0, K) are bodies, [K, K + M) discs
  int num_markers;      // M
};

// min / max as plain comparisons: inlined everywhere (libm's fminf is a call on the host) and
// the same on host and device.
PARALLAX_HD inline float mn(float a, float b) {
  return a < b ? a : b;
}
PARALLAX_HD inline float mx(float a, float b) {
  return a > b ? a : b;
}
PARALLAX_HD inline float clampf(float v, float lo, float hi) {
  return mn(mx(v, lo), hi);
}

// Ray through pixel-space point (fx, fy) (0..width, 0..height, y down).
PARALLAX_HD inline void camera_ray(const Frame& f, float fx, float fy, F3* o, F3* d) {
  const Camera& c = f.cam;
  const float u = fx * c.ku - c.sx;
  const float v = c.sy - fy * c.kv;
  if (c.ortho) {
    *o = add(c.eye, add(mul(c.right, u), mul(c.up, v)));
    *d = c.forward;
  } else {
    *o = c.eye;
    *d = normalize(add(c.forward, add(mul(c.right, u), mul(c.up, v))));
  }
}

// Conservative pixel rectangle of a bounding sphere (centre p, radius r); full frame if r < 0 or
// the sphere reaches behind the eye of a perspective camera.
PARALLAX_HD inline void screen_rect(const Frame& f, F3 p, float r, int* x0, int* x1, int* y0,
                                    int* y1) {
  *x0 = 0;
  *x1 = f.width - 1;
  *y0 = 0;
  *y1 = f.height - 1;
  if (r < 0.f) return;
  const Camera& c = f.cam;
  const F3 q = sub(p, c.eye);
  const float x = dot(q, c.right), y = dot(q, c.up), z = dot(q, c.forward);
  float ux0, ux1, vy0, vy1;  // bounds of the projected box in view units
  if (c.ortho) {
    ux0 = x - r;
    ux1 = x + r;
    vy0 = y - r;
    vy1 = y + r;
  } else {
    const float znear = z - r, zfar = z + r;
    if (znear <= 1e-4f) return;
    // x / z over the box [x +- r] x [z +- r] is extreme at its corners.
    ux0 = mn((x - r) / znear, (x - r) / zfar);
    ux1 = mx((x + r) / znear, (x + r) / zfar);
    vy0 = mn((y - r) / znear, (y - r) / zfar);
    vy1 = mx((y + r) / znear, (y + r) / zfar);
  }
  // View units -> pixel coordinates (y down), one pixel of margin for samples off the centre.
  const float px0 = (ux0 / c.sx + 1.f) * 0.5f * f.width;
  const float px1 = (ux1 / c.sx + 1.f) * 0.5f * f.width;
  const float py0 = (1.f - vy1 / c.sy) * 0.5f * f.height;
  const float py1 = (1.f - vy0 / c.sy) * 0.5f * f.height;
  const float big = 4096.f;  // keep float -> int conversions in range
  *x0 = (int)floorf(clampf(px0, -big, big)) - 1;
  *x1 = (int)floorf(clampf(px1, -big, big)) + 1;
  *y0 = (int)floorf(clampf(py0, -big, big)) - 1;
  *y1 = (int)floorf(clampf(py1, -big, big)) + 1;
  if (*x0 < 0) *x0 = 0;
  if (*y0 < 0) *y0 = 0;
  if (*x1 > f.width - 1) *x1 = f.width - 1;
  if (*y1 > f.height - 1) *y1 = f.height - 1;
}

// World-space primitive from a static one. `pose`: x y z qx qy qz qw for bodies, x y z for discs.
// `color` (RGB, may be null: the scene's) and `scale` (multiplies every dimension) are this
// environment's appearance of a body.
PARALLAX_HD inline void build_prim(const Frame& f, const StaticPrim& s, const float* pose, int id,
                                   const float* color, float scale, Prim* out) {
  Prim p;
  p.type = s.type;
  p.id = id;
  if (s.type == kPlane) scale = 1.f;  // dims hold the plane's normal
  p.d0 = s.dims[0] * scale;
  p.d1 = s.dims[1] * scale;
  p.d2 = s.dims[2] * scale;
  p.bound = s.bound * scale;
  p.color = color ? F3{color[0], color[1], color[2]} : s.color;
  p.c = F3{pose[0], pose[1], pose[2]};
  if (s.type == kDisc) {
    p.ax = F3{1.f, 0.f, 0.f};
    p.ay = F3{0.f, 1.f, 0.f};
    p.az = F3{0.f, 0.f, 1.f};
    p.c.z += kMarkerLift;
  } else {
    float qx = pose[3], qy = pose[4], qz = pose[5], qw = pose[6];
    const float n2 = qx * qx + qy * qy + qz * qz + qw * qw;
    if (n2 > 0.f && n2 < kInf) {
      const float inv = 1.f / sqrtf(n2);
      qx *= inv;
      qy *= inv;
      qz *= inv;
      qw *= inv;
    } else {
      // Zero or non-finite quaternion (a diverged body): draw it unrotated.
      qx = qy = qz = 0.f;
      qw = 1.f;
    }
    // Columns of the rotation matrix: the body's axes in world coordinates.
    p.ax =
        F3{1.f - 2.f * (qy * qy + qz * qz), 2.f * (qx * qy + qw * qz), 2.f * (qx * qz - qw * qy)};
    p.ay =
        F3{2.f * (qx * qy - qw * qz), 1.f - 2.f * (qx * qx + qz * qz), 2.f * (qy * qz + qw * qx)};
    p.az =
        F3{2.f * (qx * qz + qw * qy), 2.f * (qy * qz - qw * qx), 1.f - 2.f * (qx * qx + qy * qy)};
    if (s.type == kPlane) {
      // Plane normal: the body-frame normal rotated into the world.
      p.az = normalize(add(mul(p.ax, s.dims[0]), add(mul(p.ay, s.dims[1]), mul(p.az, s.dims[2]))));
    }
  }
  screen_rect(f, p.c, p.bound, &p.x0, &p.x1, &p.y0, &p.y1);
  p.lc = F3{dot(p.c, f.light_u), dot(p.c, f.light_v), dot(p.c, f.to_light)};
  *out = p;
}

// Nearest intersection of ray o + t d (d unit) with p in (tmin, tmax); returns kInf on a miss.
PARALLAX_HD_INLINE float intersect(const Prim& p, F3 o, F3 d, float tmin, float tmax) {
  float t = kInf;
  switch (p.type) {
    case kPlane: {
      const float den = dot(p.az, d);
      if (fabsf(den) > 1e-9f) t = dot(p.az, sub(p.c, o)) / den;
      break;
    }
    case kDisc: {
      if (fabsf(d.z) > 1e-9f) {
        const float th = (p.c.z - o.z) / d.z;
        const float hx = o.x + th * d.x - p.c.x, hy = o.y + th * d.y - p.c.y;
        if (hx * hx + hy * hy <= p.d0 * p.d0) t = th;
      }
      break;
    }
    case kSphere: {
      const F3 oc = sub(o, p.c);
      const float b = dot(oc, d);
      const float c = dot(oc, oc) - p.d0 * p.d0;
      const float disc = b * b - c;
      if (disc >= 0.f) {
        const float s = sqrtf(disc);
        t = -b - s;
        if (t <= tmin) t = -b + s;
      }
      break;
    }
    default: {
      // Box, cylinder, capsule: work in the body frame.
      const F3 oc = sub(o, p.c);
      const F3 lo = F3{dot(oc, p.ax), dot(oc, p.ay), dot(oc, p.az)};
      const F3 ld = F3{dot(d, p.ax), dot(d, p.ay), dot(d, p.az)};
      if (p.type == kBox) {
        // Slab test; 1/0 = inf is avoided with a tiny floor on the direction.
        const float ix = 1.f / (fabsf(ld.x) > 1e-12f ? ld.x : 1e-12f);
        const float iy = 1.f / (fabsf(ld.y) > 1e-12f ? ld.y : 1e-12f);
        const float iz = 1.f / (fabsf(ld.z) > 1e-12f ? ld.z : 1e-12f);
        const float tx0 = (-p.d0 - lo.x) * ix, tx1 = (p.d0 - lo.x) * ix;
        const float ty0 = (-p.d1 - lo.y) * iy, ty1 = (p.d1 - lo.y) * iy;
        const float tz0 = (-p.d2 - lo.z) * iz, tz1 = (p.d2 - lo.z) * iz;
        const float tn = mx(mx(mn(tx0, tx1), mn(ty0, ty1)), mn(tz0, tz1));
        const float tf = mn(mn(mx(tx0, tx1), mx(ty0, ty1)), mx(tz0, tz1));
        if (tn <= tf) t = tn > tmin ? tn : tf;
      } else {
        const float r = p.d0, hh = p.d1;
        // Side of the infinite cylinder about local z.
        const float a = ld.x * ld.x + ld.y * ld.y;
        const float b = lo.x * ld.x + lo.y * ld.y;
        const float c = lo.x * lo.x + lo.y * lo.y - r * r;
        if (a > 1e-12f) {
          const float disc = b * b - a * c;
          if (disc >= 0.f) {
            const float ts = (-b - sqrtf(disc)) / a;
            const float z = lo.z + ts * ld.z;
            if (ts > tmin && fabsf(z) <= hh) t = ts;
          }
        }
        if (p.type == kCylinder) {
          // The cap facing the ray.
          if (fabsf(ld.z) > 1e-12f) {
            const float zc = ld.z > 0.f ? -hh : hh;
            const float tc = (zc - lo.z) / ld.z;
            const float hx = lo.x + tc * ld.x, hy = lo.y + tc * ld.y;
            if (tc > tmin && hx * hx + hy * hy <= r * r && tc < t) t = tc;
          }
        } else {
          // Capsule: the two end spheres.
          for (int e = 0; e < 2; ++e) {
            const F3 oe = F3{lo.x, lo.y, lo.z - (e == 0 ? hh : -hh)};
            const float be = dot(oe, ld);
            const float ce = dot(oe, oe) - r * r;
            const float de = be * be - ce;
            if (de >= 0.f) {
              const float te = -be - sqrtf(de);
              if (te > tmin && te < t) t = te;
            }
          }
        }
      }
      break;
    }
  }
  return (t > tmin && t < tmax) ? t : kInf;
}

// Outward unit normal of p at surface point h, turned to face the incoming ray d for the flat
// primitives (planes and discs are two-sided).
PARALLAX_HD_INLINE F3 normal_at(const Prim& p, F3 h, F3 d) {
  switch (p.type) {
    case kPlane:
    case kDisc:
      return dot(p.az, d) > 0.f ? mul(p.az, -1.f) : p.az;
    case kSphere:
      return normalize(sub(h, p.c));
    default: {
      const F3 q = sub(h, p.c);
      const F3 l = F3{dot(q, p.ax), dot(q, p.ay), dot(q, p.az)};
      F3 n;
      if (p.type == kBox) {
        // The face whose slab the point is closest to leaving.
        const float rx = fabsf(l.x) / p.d0, ry = fabsf(l.y) / p.d1, rz = fabsf(l.z) / p.d2;
        if (rx >= ry && rx >= rz) {
          n = F3{l.x > 0.f ? 1.f : -1.f, 0.f, 0.f};
        } else if (ry >= rz) {
          n = F3{0.f, l.y > 0.f ? 1.f : -1.f, 0.f};
        } else {
          n = F3{0.f, 0.f, l.z > 0.f ? 1.f : -1.f};
        }
      } else if (p.type == kCylinder) {
        const float rr = sqrtf(l.x * l.x + l.y * l.y) / p.d0;
        const float rz = fabsf(l.z) / p.d1;
        n = rz > rr ? F3{0.f, 0.f, l.z > 0.f ? 1.f : -1.f} : normalize(F3{l.x, l.y, 0.f});
      } else {  // capsule
        const float zc = clampf(l.z, -p.d1, p.d1);
        n = normalize(F3{l.x, l.y, l.z - zc});
      }
      return add(mul(p.ax, n.x), add(mul(p.ay, n.y), mul(p.az, n.z)));
    }
  }
}

// One sample: the colour seen along the ray through (fx, fy) of pixel (px, py), and its id.
// kCount: add the number of exact ray-primitive tests to *tests.
// `ray`: this sample's precomputed perspective ray direction (camera_ray's), or null.
template <bool kCount>
PARALLAX_HD_INLINE F3 trace_sample(const Frame& f, const Prim* prims, int px, int py, float fx,
                                   float fy, const F3* ray, int* id, long long* tests) {
  F3 o, d;
  if (ray) {
    o = f.cam.eye;
    d = *ray;
  } else {
    camera_ray(f, fx, fy, &o, &d);
  }
  const int np = f.num_bodies + f.num_markers;
  // Nearest primary hit among the primitives whose footprint holds this pixel.
  float best = kInf;
  int hit = -1;
  for (int i = 0; i < np; ++i) {
    const Prim& p = prims[i];
    if (px < p.x0 || px > p.x1 || py < p.y0 || py > p.y1) continue;
    if (kCount) ++*tests;
    const float t = intersect(p, o, d, kPrimaryTmin, best);
    if (t < best) {
      best = t;
      hit = i;
    }
  }
  if (hit < 0) {
    *id = 0;
    return f.background;
  }
  const Prim& p = prims[hit];
  *id = p.id;
  const F3 h = add(o, mul(d, best));
  const F3 n = normal_at(p, h, d);
  float diffuse = mx(dot(n, f.to_light), 0.f);
  // Hard shadow: any body (not a disc, not the hit primitive itself: all are convex) between
  // the point and the light.
  if (f.shadows && diffuse > 0.f) {
    const F3 so = add(h, mul(n, kShadowOffset));
    const F3 l = f.to_light;
    // Bounding-sphere cull in the light basis: the shadow ray is a point in (u, v).
    const float su = dot(so, f.light_u), sv = dot(so, f.light_v), sl = dot(so, l);
    for (int i = 0; i < f.num_bodies; ++i) {
      if (i == hit) continue;
      const Prim& q = prims[i];
      if (q.bound >= 0.f) {
        if (q.lc.z - sl < -q.bound) continue;  // behind the shading point
        const float du = q.lc.x - su, dv = q.lc.y - sv;
        if (du * du + dv * dv > q.bound * q.bound) continue;
      }
      if (kCount) ++*tests;
      if (intersect(q, so, l, 0.f, kInf) < kInf) {
        diffuse = 0.f;
        break;
      }
    }
  }
  const float shade = f.ambient + (1.f - f.ambient) * diffuse;
  return mul(p.color, shade);
}

PARALLAX_HD inline uint8_t to_byte(float v) {
  return (uint8_t)(clampf(v, 0.f, 1.f) * 255.f + 0.5f);
}

// Sample s of a pixel: its offset inside the pixel (spp 1: the centre; spp 4: a 2x2 grid).
PARALLAX_HD inline float sample_dx(int spp, int s) {
  return spp == 1 ? 0.5f : ((s & 1) ? 0.75f : 0.25f);
}
PARALLAX_HD inline float sample_dy(int spp, int s) {
  return spp == 1 ? 0.5f : ((s & 2) ? 0.75f : 0.25f);
}

// Renders pixel (px, py): rgb[0..2] and, if id_out is not null, *id_out. `rays`: the pixel's
// precomputed perspective ray directions [spp] (see camera_ray), or null to compute them.
template <bool kCount>
PARALLAX_HD inline void render_pixel(const Frame& f, const Prim* prims, int px, int py,
                                     const F3* rays, uint8_t* rgb, uint8_t* id_out,
                                     long long* tests) {
  F3 c;
  int id;
  if (f.spp == 1) {
    c = trace_sample<kCount>(f, prims, px, py, px + 0.5f, py + 0.5f, rays, &id, tests);
  } else {
    // 2x2 grid; colour = mean, id = the most common (ties: the earliest sample).
    int ids[4];
    c = F3{0.f, 0.f, 0.f};
    for (int s = 0; s < 4; ++s) {
      const float fx = px + sample_dx(4, s), fy = py + sample_dy(4, s);
      c = add(c, trace_sample<kCount>(f, prims, px, py, fx, fy, rays ? rays + s : nullptr, &ids[s],
                                      tests));
    }
    c = mul(c, 0.25f);
    id = ids[0];
    int best_count = 0;
    for (int s = 0; s < 4; ++s) {
      int count = 0;
      for (int u = 0; u < 4; ++u) count += ids[u] == ids[s];
      if (count > best_count) {
        best_count = count;
        id = ids[s];
      }
    }
  }
  rgb[0] = to_byte(c.x);
  rgb[1] = to_byte(c.y);
  rgb[2] = to_byte(c.z);
  if (id_out) *id_out = (uint8_t)id;
}

}  // namespace parallax::sim::rk
