// The scripted experts of the shipped scenes (scripted_experts.hpp).
#include "scripted_experts.hpp"

#include <algorithm>
#include <cmath>

namespace parallax::agents::detail {
namespace {

float clamp1(double v) {
  return static_cast<float>(std::clamp(v, -1.0, 1.0));
}

// push: the pusher goes around the cube to the point behind it (on the goal-cube line), then
// pushes it toward the goal, slowing down as the cube nears the goal.
std::optional<Controller> push_expert(const sim::SceneModel& s) {
  const int pusher = s.body_index("pusher"), cube = s.body_index("cube");
  const int goal = s.marker_index("goal");
  if (pusher < 0 || cube < 0 || goal < 0 || s.actuators.size() != 1 ||
      s.actuators[0].type != sim::ActuatorType::kPlanarVelocity || s.actuators[0].body != "pusher")
    return std::nullopt;
  const double max_speed = s.actuators[0].max_speed;  // m/s at action 1
  const auto& cb = s.bodies[static_cast<std::size_t>(cube)];
  const auto& pb = s.bodies[static_cast<std::size_t>(pusher)];
  // Contact distance between centres when pushing a face: cube half width + pusher radius.
  const double contact = std::max(cb.half_extents[0], cb.half_extents[1]) + pb.radius;
  const double clear = contact * 1.45;  // lateral clearance when going around, metres
  return Controller{[=](const EnvState& st, float* action) {
    const float *poses = st.poses, *markers = st.markers;
    const double px = poses[pusher * 7 + 0], py = poses[pusher * 7 + 1];
    const double cx = poses[cube * 7 + 0], cy = poses[cube * 7 + 1];
    const double gx = markers[goal * 3 + 0], gy = markers[goal * 3 + 1];
    double dx = gx - cx, dy = gy - cy;
    const double dist = std::hypot(dx, dy);  // cube to goal, metres
    if (dist < 1e-6) {
      action[0] = action[1] = 0.0f;
      return;
    }
    dx /= dist;
    dy /= dist;
    // Pusher relative to the cube: `along` the push direction, `perp` across it.
    const double rx = px - cx, ry = py - cy;
    const double along = rx * dx + ry * dy;
    const double qx = rx - along * dx, qy = ry - along * dy;  // perpendicular offset vector
    const double perp = std::hypot(qx, qy);
    double tx, ty, speed;  // target point (m) and top speed (m/s)
    if (along < -0.8 * contact && perp < 0.25 * contact) {
      // Behind the cube and lined up: push through it toward the goal.
      tx = cx + dx * 0.1;
      ty = cy + dy * 0.1;
      speed = std::clamp(1.5 * dist, 0.06, 0.3);
    } else if (along < -0.8 * contact) {
      // Behind but off the line: slide onto the line behind the cube.
      tx = cx - dx * (contact + 0.01);
      ty = cy - dy * (contact + 0.01);
      speed = 0.4;
    } else {
      // Beside or in front: step out sideways to clear the cube, then go behind it.
      double nx = -dy, ny = dx;  // left of the push direction
      if (qx * nx + qy * ny < 0) nx = -nx, ny = -ny;
      if (perp < clear) {
        tx = cx + nx * clear * 1.1 + dx * along;
        ty = cy + ny * clear * 1.1 + dy * along;
      } else {
        tx = cx + nx * clear - dx * (contact + 0.02);
        ty = cy + ny * clear - dy * (contact + 0.02);
      }
      speed = 0.45;
    }
    // Proportional approach to the target, capped at `speed`.
    double vx = (tx - px) * 8.0, vy = (ty - py) * 8.0;
    const double v = std::hypot(vx, vy);
    if (v > speed) vx *= speed / v, vy *= speed / v;
    action[0] = clamp1(vx / max_speed);
    action[1] = clamp1(vy / max_speed);
  }};
}

// tower: the paddle lines up behind the tower (on the side it starts) and sweeps through it
// at the height of the lower blocks, then rests once the top block is down.
std::optional<Controller> tower_expert(const sim::SceneModel& s) {
  const int paddle = s.body_index("paddle"), top = s.body_index("block4"),
            base = s.body_index("block1");
  if (paddle < 0 || top < 0 || base < 0 || s.actuators.size() != 1 ||
      s.actuators[0].type != sim::ActuatorType::kPlanarVelocity || s.actuators[0].body != "paddle")
    return std::nullopt;
  const double max_speed = s.actuators[0].max_speed;  // m/s at action 1
  const double down_z = s.bodies[static_cast<std::size_t>(base)].position[2] * 2.0;  // metres
  return Controller{[=](const EnvState& st, float* action) {
    const float* poses = st.poses;
    const double px = poses[paddle * 7 + 0], py = poses[paddle * 7 + 1];
    const double bx = poses[base * 7 + 0], by = poses[base * 7 + 1];
    action[0] = action[1] = 0.0f;
    if (poses[top * 7 + 2] < down_z) return;  // the top block is down: done
    // Sweep along x through the tower's base; line up in y first while still far away.
    const double side = px < bx ? 1.0 : -1.0;
    const double far = std::abs(px - bx) > 0.08;
    const double tx = far && std::abs(py - by) > 0.02 ? px : bx + side * 0.15;
    double vx = (tx - px) * 6.0, vy = (by - py) * 6.0;
    const double v = std::hypot(vx, vy), speed = max_speed;  // hit hard: the top slips off
    if (v > speed) vx *= speed / v, vy *= speed / v;
    action[0] = clamp1(vx / max_speed);
    action[1] = clamp1(vy / max_speed);
  }};
}

double wrap_angle(double x) {
  return std::atan2(std::sin(x), std::cos(x));
}

// billiards: the cue ball goes behind the red ball (on the pocket-red line), then drives through
// it toward the pocket; the force action tracks that target velocity (the cue is force-driven,
// so this needs the body velocities).
std::optional<Controller> billiards_expert(const sim::SceneModel& s) {
  const int cue = s.body_index("cue"), red = s.body_index("red");
  const int pocket = s.marker_index("pocket");
  if (cue < 0 || red < 0 || pocket < 0 || s.actuators.size() != 1 ||
      s.actuators[0].type != sim::ActuatorType::kForce || s.actuators[0].body != "cue" ||
      s.actuators[0].components != 2)
    return std::nullopt;
  const double max_force = s.actuators[0].max_force;  // N at action 1
  constexpr double stand_off = 0.07;  // metres behind the red ball's centre (2 radii + 0.01)
  constexpr double speed = 0.6;       // m/s, top cue speed per axis
  constexpr double gain = 2.0;        // N per m/s of velocity error
  return Controller{[=](const EnvState& st, float* action) {
                      const float* c = st.poses + cue * 7;
                      const float* r = st.poses + red * 7;
                      const float* g = st.markers + pocket * 3;
                      const float* v = st.velocities + cue * 6;
                      double dx = g[0] - r[0], dy = g[1] - r[1];
                      const double n = std::hypot(dx, dy) + 1e-9;
                      dx /= n, dy /= n;
                      // Cue relative to the red ball: `along` the shot line, `across` it.
                      const double rx = c[0] - r[0], ry = c[1] - r[1];
                      const double along = rx * dx + ry * dy, across = -rx * dy + ry * dx;
                      double tx, ty;  // target point, metres
                      if (along < -0.7 * stand_off && std::abs(across) < 0.02) {
                        tx = r[0] + dx * 0.1, ty = r[1] + dy * 0.1;  // lined up: drive through
                      } else if (along > -0.7 * stand_off && std::abs(across) < stand_off) {
                        // In front or beside: go around, sideways first.
                        const double side = across >= 0 ? 1 : -1;
                        tx = r[0] - dx * stand_off * 1.2 - dy * side * stand_off * 1.5;
                        ty = r[1] - dy * stand_off * 1.2 + dx * side * stand_off * 1.5;
                      } else {
                        tx = r[0] - dx * stand_off, ty = r[1] - dy * stand_off;  // behind
                      }
                      // Target velocity toward the point (gain 10 /s), each axis capped.
                      const double vx = std::clamp((tx - c[0]) * 10.0, -speed, speed);
                      const double vy = std::clamp((ty - c[1]) * 10.0, -speed, speed);
                      action[0] = clamp1(gain * (vx - v[0]) / max_force);
                      action[1] = clamp1(gain * (vy - v[1]) / max_force);
                    },
                    true, false};
}

// cartpole: energy pumping swings the pole up, a PD law balances it near upright (pushing the
// cart under the pole), and a weak spring keeps the cart near the centre. Reads joint states.
std::optional<Controller> cartpole_expert(const sim::SceneModel& s) {
  const int slider = s.joint_index("cart_slider"), hinge = s.joint_index("pole_hinge");
  const int pole = s.body_index("pole");
  if (slider < 0 || hinge < 0 || pole < 0 || s.actuators.size() != 1 ||
      s.actuators[0].type != sim::ActuatorType::kJointTorque ||
      s.actuators[0].joint != "cart_slider" || s.bodies[static_cast<std::size_t>(pole)].mass <= 0)
    return std::nullopt;
  const double max_force = s.actuators[0].max_force;  // N at action 1
  const auto& pb = s.bodies[static_cast<std::size_t>(pole)];
  const double m = pb.mass;             // kg
  const double l = pb.half_extents[2];  // hinge to pole centre, metres
  const double w = 2 * pb.half_extents[0], h = 2 * pb.half_extents[2];
  const double inertia = m * (w * w + h * h) / 12 + m * l * l;  // about the hinge, kg m^2
  const double g = -s.gravity[2];                               // m/s^2
  return Controller{[=](const EnvState& st, float* action) {
                      const double x = st.joints[slider * 2], xd = st.joints[slider * 2 + 1];
                      const double th = st.joints[hinge * 2], thd = st.joints[hinge * 2 + 1];
                      // Pole energy relative to resting upright (J): 0 at the top.
                      const double energy =
                          0.5 * inertia * thd * thd + m * g * l * (std::cos(th) - 1);
                      double u;  // force on the cart, N
                      if (std::cos(th) > 0.85) {
                        u = 60 * wrap_angle(th) + 10 * thd + 3 * x + 4 * xd;
                      } else {
                        u = 160 * energy * (thd * std::cos(th) >= 0 ? 1 : -1) - 2 * x - 1 * xd;
                      }
                      action[0] = clamp1(u / max_force);
                    },
                    false, true};
}

// reacher: two-link inverse kinematics for the target (elbow-positive solution), then
// proportional joint-velocity control toward those angles. Reads joint states.
std::optional<Controller> reacher_expert(const sim::SceneModel& s) {
  const int shoulder = s.joint_index("shoulder"), elbow = s.joint_index("elbow");
  const int fore = s.body_index("fore"), target = s.marker_index("target");
  if (shoulder < 0 || elbow < 0 || fore < 0 || target < 0 || s.actuators.size() != 2 ||
      s.actuators[0].type != sim::ActuatorType::kJointVelocity ||
      s.actuators[1].type != sim::ActuatorType::kJointVelocity ||
      s.actuators[0].joint != "shoulder" || s.actuators[1].joint != "elbow")
    return std::nullopt;
  // Fingertip: the point of `fore` the reward measures (offset_a), else the fore body's centre.
  double tip_offset = 0;  // metres from the fore centre, along the arm
  for (const auto& r : s.reward)
    if (r.a == "fore" && r.b == "target")
      tip_offset = std::hypot(r.offset_a[0], r.offset_a[1], r.offset_a[2]);
  const auto& js = s.joints[static_cast<std::size_t>(shoulder)];
  const auto& je = s.joints[static_cast<std::size_t>(elbow)];
  const auto& fb = s.bodies[static_cast<std::size_t>(fore)];
  const double ox = js.pivot[0], oy = js.pivot[1];  // shoulder, metres
  const double l1 = std::hypot(je.pivot[0] - ox, je.pivot[1] - oy);
  const double l2 =
      std::hypot(fb.position[0] - je.pivot[0], fb.position[1] - je.pivot[1]) + tip_offset;
  // Nominal link directions (joint angle 0), radians.
  const double a1 = std::atan2(je.pivot[1] - oy, je.pivot[0] - ox);
  const double a2 = std::atan2(fb.position[1] - je.pivot[1], fb.position[0] - je.pivot[0]) - a1;
  const double speed0 = s.actuators[0].max_speed, speed1 = s.actuators[1].max_speed;  // rad/s
  constexpr double gain = 8.0;  // rad/s per rad of angle error
  return Controller{[=](const EnvState& st, float* action) {
                      const double tx = st.markers[target * 3] - ox;
                      const double ty = st.markers[target * 3 + 1] - oy;
                      const double c2 = std::clamp(
                          (tx * tx + ty * ty - l1 * l1 - l2 * l2) / (2 * l1 * l2), -1.0, 1.0);
                      const double q2 = std::acos(c2);
                      const double q1 = std::atan2(ty, tx) -
                                        std::atan2(l2 * std::sin(q2), l1 + l2 * std::cos(q2));
                      const double e1 = wrap_angle(q1 - a1 - st.joints[shoulder * 2]);
                      const double e2 = wrap_angle(q2 - a2 - st.joints[elbow * 2]);
                      action[0] = clamp1(gain * e1 / speed0);
                      action[1] = clamp1(gain * e2 / speed1);
                    },
                    false, true};
}

}  // namespace

std::optional<Controller> find_expert(const sim::SceneModel& s) {
  if (auto c = push_expert(s)) return c;
  if (auto c = tower_expert(s)) return c;
  if (auto c = billiards_expert(s)) return c;
  if (auto c = cartpole_expert(s)) return c;
  if (auto c = reacher_expert(s)) return c;
  return std::nullopt;
}

}  // namespace parallax::agents::detail
