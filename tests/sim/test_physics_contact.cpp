// Contacts against closed-form solutions: sliding with friction down an incline, resting
// without a kick, rolling without slipping. Scenes are written inline (SI units), each run at
// 240 Hz and at 960 Hz.
//
// Why the tolerances are this tight: with constant forces, the semi-implicit Euler step Bullet
// uses advances a velocity by exactly a dt per step, so a measured acceleration has no time-step
// error at all; what remains is float32 rounding (at most 2^-24 |v| per step, so over N steps at
// most N 2^-24 v_max: about 3e-5 m/s at 960 Hz for 0.5 m/s) and the iterative solver's residual.
// Penetration (g dt^2 per step) is removed by split impulses, which change positions only. Each
// bound below is that float bound with room for the solver, and each sits far below the error it
// guards against (a box rocking down an incline measured 0.077 m/s^2 instead of 0.23; cylinders
// got 0.11-0.14 rad/s kicks; capsules rolled at 2.02 m/s^2 instead of 2.30).
#include <catch2/catch.hpp>
#include <cmath>
#include <sstream>
#include <string>

#include "sim_test_util.hpp"

using namespace parallax::sim;
using namespace parallax::sim::test;

namespace {

constexpr double kG = 9.81;

std::string num(double x) {
  std::ostringstream s;
  s.precision(17);
  s << x;
  return s.str();
}

// A scene with one plane through the origin whose normal is tilted by `theta` about +y, and one
// body `body_json` (without position/rpy) resting on it with its centre `height` above the
// plane, rotated by `roll_deg` about x (before the tilt), with speed `v0` straight downhill.
// Downhill is d = (cos t, 0, -sin t); the normal n = (sin t, 0, cos t).
std::shared_ptr<const SceneModel> on_incline(int hz, double theta, const std::string& body_json,
                                             double height, double roll_deg, double v0,
                                             double plane_friction) {
  const double s = std::sin(theta), c = std::cos(theta);
  const std::string scene =
      R"({"name": "incline", "physics_hz": )" + std::to_string(hz) + R"(, "control_hz": )" +
      std::to_string(hz) + R"(, "episode_steps": 100000, "gravity": [0, 0, -9.81], "bodies": [
        {"name": "ground", "shape": "plane", "normal": [)" +
      num(s) + ", 0, " + num(c) + R"(], "friction": )" + num(plane_friction) + R"(},
        {"name": "body", )" +
      body_json + R"(, "mass": 1.0, "position": [)" + num(s * height) + ", 0, " + num(c * height) +
      R"(], "rpy_deg": [)" + num(roll_deg) + ", " + num(theta * 180 / M_PI) +
      R"(, 0], "linear_velocity": [)" + num(v0 * c) + ", 0, " + num(-v0 * s) + "]}]}";
  return inline_scene(scene);
}

struct Track {
  std::vector<double> v_down;        // velocity along the incline, downhill positive
  std::vector<double> omega_y;       // angular velocity about +y (the rolling axis)
  std::vector<double> omega_off;     // |angular velocity| about the other two axes
  std::vector<double> omega, speed;  // |angular velocity|, |linear velocity|
  std::vector<double> height;        // centre's distance from the plane
};

Track run(const std::shared_ptr<const SceneModel>& scene, double theta, int steps) {
  World w(scene, 0);
  const double s = std::sin(theta), c = std::cos(theta);
  Track t;
  std::vector<float> v(12), p(14);
  for (int n = 0; n < steps; ++n) {
    w.step({});
    w.velocities(v);
    w.poses(p);
    const double vx = v[6], vy = v[7], vz = v[8], wx = v[9], wy = v[10], wz = v[11];
    t.v_down.push_back(vx * c - vz * s);
    t.omega_y.push_back(wy);
    t.omega_off.push_back(std::sqrt(wx * wx + wz * wz));
    t.omega.push_back(std::sqrt(wx * wx + wy * wy + wz * wz));
    t.speed.push_back(std::sqrt(vx * vx + vy * vy + vz * vz));
    t.height.push_back(p[7] * s + p[9] * c);
  }
  return t;
}

double max_of(const std::vector<double>& x, std::size_t from = 0) {
  double m = 0;
  for (std::size_t i = from; i < x.size(); ++i) m = std::max(m, std::abs(x[i]));
  return m;
}

// Acceleration from the velocity change between step i0 and the last step.
double acceleration(const std::vector<double>& v, std::size_t i0, int hz) {
  return (v.back() - v[i0]) / (static_cast<double>(v.size() - 1 - i0) / hz);
}

}  // namespace

TEST_CASE("box sliding down an incline steeper than its friction angle", "[physics][analytic]") {
  const int hz = GENERATE(240, 960);
  // Friction product 0.55 (box 0.55 x ground 1.0; Bullet multiplies), tan(theta) = 0.577: just
  // past the friction angle (tan = 0.55), so a = g (sin t - mu cos t) = 0.229 m/s^2 downhill.
  const double theta = std::atan(0.577), mu = 0.55;
  const double a = kG * (std::sin(theta) - mu * std::cos(theta));
  auto scene = on_incline(hz, theta, R"("shape": "box", "half_extents": [0.05, 0.05, 0.05],
                                        "friction": 0.55)",
                          0.05, 0, 0.1, 1.0);
  const Track t = run(scene, theta, hz);  // 1 s, from 0.1 m/s to about 0.33 m/s
  const double measured = acceleration(t.v_down, 0, hz);
  INFO(hz << " Hz: analytic a = " << a << " m/s^2, measured " << measured);
  // Float bound (header): hz steps x 2^-24 x 0.33 m/s over 1 s = 2e-5 m/s^2 at 960 Hz.
  CHECK(std::abs(measured - a) < 1e-3);
  // It slides flat: no rocking, never slows, stays on the plane.
  INFO("max |omega| " << max_of(t.omega) << " rad/s");
  CHECK(max_of(t.omega) < 1e-3);
  int slower = 0;
  for (std::size_t i = 1; i < t.v_down.size(); ++i) slower += t.v_down[i] < t.v_down[i - 1];
  CHECK(slower == 0);
  CHECK(std::abs(t.height.back() - 0.05) < 1e-3);
}

TEST_CASE("bodies placed at rest on a flat floor stay at rest", "[physics][analytic]") {
  const int hz = GENERATE(240, 960);
  struct Case {
    const char* what;
    std::string body;
    double height, roll_deg;
  };
  const Case cases[] = {
      {"box", R"("shape": "box", "half_extents": [0.04, 0.03, 0.02])", 0.02, 0},
      {"cylinder upright", R"("shape": "cylinder", "radius": 0.03, "half_height": 0.05)", 0.05, 0},
      {"cylinder on its side", R"("shape": "cylinder", "radius": 0.03, "half_height": 0.05)", 0.03,
       90},
      {"capsule on its side", R"("shape": "capsule", "radius": 0.015, "half_height": 0.06)", 0.015,
       90},
      {"sphere", R"("shape": "sphere", "radius": 0.03)", 0.03, 0},
  };
  for (const Case& c : cases) {
    const Track t = run(on_incline(hz, 0, c.body, c.height, c.roll_deg, 0, 1.0), 0, hz);
    INFO(hz << " Hz, " << c.what << ": max |omega| " << max_of(t.omega) << " rad/s, max |v| "
            << max_of(t.speed) << " m/s, final height " << t.height.back() << " m");
    // Exact answer: zero. Each step gravity adds g dt (0.04 m/s at 240 Hz) that the contacts
    // take away again; an unbalanced support turns a share of that into spin, so a kick would
    // be a sizeable fraction of g dt / r (1.4 rad/s here). We allow 1e-3 rad/s and 1e-4 m/s.
    CHECK(max_of(t.omega) < 1e-3);
    CHECK(max_of(t.speed) < 1e-4);
    CHECK(std::abs(t.height.back() - c.height) < 1e-4);
  }
}

TEST_CASE("round bodies roll down an incline without slipping", "[physics][analytic]") {
  const int hz = GENERATE(240, 960);
  const double theta = 20 * M_PI / 180;
  struct Case {
    const char* what;
    std::string body;
    double r;
    double k;  // I / (m r^2) about the rolling axis
  };
  // Axial moments of uniform solids: sphere 2/5, cylinder 1/2. Capsule (radius r, cylindrical
  // part of length L = 2 h): about its own axis the two hemispheres together are one sphere, so
  // I = m_cyl r^2 / 2 + m_sph 2/5 r^2 with masses in proportion to the volumes pi r^2 L and
  // 4/3 pi r^3. For r = 0.05, h = 0.1: volumes 0.2 pi r^2 and 0.0667 pi r^2, so m_cyl = 3/4 m,
  // m_sph = 1/4 m and k = 3/8 + 1/10 = 0.475. (Bullet's bounding-box inertia gives k = 2/3.)
  const Case cases[] = {
      {"sphere", R"("shape": "sphere", "radius": 0.05, "friction": 1.0)", 0.05, 0.4},
      {"cylinder", R"("shape": "cylinder", "radius": 0.05, "half_height": 0.05, "friction": 1.0)",
       0.05, 0.5},
      {"capsule", R"("shape": "capsule", "radius": 0.05, "half_height": 0.1, "friction": 1.0)",
       0.05, 0.475},
  };
  for (const Case& c : cases) {
    // Rolled 90 degrees about x: the axis lies along y, across the slope. Friction product 1.0
    // exceeds the tan(theta) / (1 + 1 / k) <= 0.13 that rolling needs.
    const Track t = run(on_incline(hz, theta, c.body, c.r, 90, 0, 1.0), theta, hz);
    const double a = kG * std::sin(theta) / (1 + c.k);
    const double measured = acceleration(t.v_down, t.v_down.size() / 2, hz);
    double slip = 0;  // |v - omega r| / v once moving (from 0.1 s)
    for (std::size_t i = hz / 10; i < t.v_down.size(); ++i)
      slip = std::max(slip, std::abs(t.v_down[i] - t.omega_y[i] * c.r) / t.v_down[i]);
    INFO(hz << " Hz, " << c.what << ": analytic a = " << a << " m/s^2, measured " << measured
            << "; slip " << slip << "; off-axis |omega| " << max_of(t.omega_off) << " rad/s");
    // Float bound (header): 480 steps x 2^-24 x 2.4 m/s over the last 0.5 s = 1.4e-4 m/s^2.
    CHECK(std::abs(measured - a) < 2e-3);
    CHECK(slip < 1e-4);  // v = omega r (the issue measured 2.5 % and 1 % for cylinder, capsule)
    CHECK(max_of(t.omega_off) < 1e-2);  // no wobble about the other axes
  }
}
