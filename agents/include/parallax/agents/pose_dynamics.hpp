// A pose-space dynamics model: how a body the actions push (push's cube) moves under a body the
// actions drive kinematically (push's pusher), learned from recorded episodes' poses
// (worldmodel/python/train_pose_dynamics.py; checkpoint family "pose-dynamics").
//
// Per control tick, for each row: the pushed body's next x, y and yaw from its last two poses and
// the driver's x, y now and after the action. Everything is expressed in the pushed body's frame:
// phi = its yaw folded into [-45, 45) deg (a square's yaw is defined modulo 90 deg), R = R(-phi),
//   features [7] = R(p - c) / 0.1 m, R(p' - p) / s, R(c - c_prev) / s, fold(th - th_prev) / 0.1 rad
//   output   [3] = R(c' - c) / s, fold-free (th' - th) / 0.1 rad
// s = the driver's largest step per tick (max_speed / control_hz), through an MLP
// Linear(7, H) SiLU Linear(H, H) SiLU Linear(H, H) SiLU Linear(H, 3). The driver itself moves as
// its actuator moves it (the planner's proprioception: DreamPlanModel::move_own's rule).
// Reference: docs/agents.md, "A pose-space model".
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "parallax/sim/scene.hpp"

namespace parallax::agents {

class PoseDynamics {
 public:
  // Reads a "pose-dynamics" checkpoint. Throws std::runtime_error with one line naming the file
  // and the field for a missing, corrupt or foreign file, another family, a bad config or
  // weights of other shapes.
  static std::shared_ptr<const PoseDynamics> load(const std::string& path);
  ~PoseDynamics();

  const std::string& scene() const { return scene_; }
  const std::string& driver() const { return driver_; }
  const std::string& pushed() const { return pushed_; }
  double step_m() const { return step_m_; }  // s
  int hidden() const { return hidden_; }
  std::int64_t parameters() const;
  const std::string& sha256() const { return sha256_; }
  const std::string& path() const { return path_; }

  // Throws std::invalid_argument naming the scene when it does not match the checkpoint's (its
  // bodies, the driver's planar_velocity actuator and its step).
  void check_scene(const sim::SceneModel& scene) const;

  // One tick of b rows: driver x, y now `p` and after the action `pn`, the pushed body's x, y
  // now `c` and a tick before `cp` [b, 2], its yaw now `th` and before `thp` [b] (rad) ->
  // `c_next` [b, 2], `th_next` [b]. One thread's LibTorch matrix products.
  void step(int b, const float* p, const float* pn, const float* c, const float* cp,
            const float* th, const float* thp, float* c_next, float* th_next) const;

 private:
  PoseDynamics();
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::string scene_, driver_, pushed_, sha256_, path_;
  double step_m_ = 0, position_scale_ = 0.1, yaw_scale_ = 0.1;
  int hidden_ = 0;
};

}  // namespace parallax::agents
