// The planner's model in pose space: a PoseDynamics model imagines K plans from the poses read in
// the perceived frames, and the scene's reward (PoseReward) is evaluated on the poses it imagines.
//
// Root (set_root): the driven body (push's pusher) stands where the agent is told it stands
// (proprioception: its true x, y); the pushed body (push's cube) is read in the last two
// perceived frames: x, y by FramePoses (the colour finder and its homography, cut reading on),
// yaw by BodyYaw (render and compare). Its motion between the two frames is its velocity; with
// one frame, or when the earlier one does not show it, it is taken to rest. A pushed body the last
// frame does not show keeps the pose the caller's previous root gave it (an episode's, an env's:
// set_root's `previous`), at rest (the view's edge: the model itself knows no edge); without one
// it is unknown (root().known false: placed at the table's centre, root_position() nullopt). Along
// a plan the driver moves as its actuator moves it (clamped action x max_speed / control_hz,
// DreamPlanModel::move_own's rule) and the model steps the pushed body, all K plans in one batched
// call per tick. A terminating success ends a plan's future; the scene's other terminations are not
// imagined.
//
// It draws no frames of its own: imagine() renders the scene at the imagined poses (the renderer
// of sim/, the episode's markers), for the report's strips and for an agent that perceives the
// model's frames between true observations.
// Reference: docs/agents.md, "A pose-space model".
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "parallax/agents/body_yaw.hpp"
#include "parallax/agents/frame_poses.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/agents/pose_dynamics.hpp"
#include "parallax/agents/pose_reward.hpp"
#include "parallax/agents/reach_shaping.hpp"

namespace parallax::agents {

class PosePlanModel : public PlanModel {
 public:
  // Throws std::invalid_argument when the model does not fit the scene (PoseDynamics::
  // check_scene) or the scene's reward has a term PoseReward cannot evaluate on the driver and the
  // pushed body.
  PosePlanModel(std::shared_ptr<const sim::SceneModel> scene,
                std::shared_ptr<const PoseDynamics> dynamics, int max_candidates,
                const ReachShaping* reach = nullptr);
  ~PosePlanModel() override;
  int action_size() const override;
  int max_candidates() const override { return k_max_; }
  // The root: the perceived frames [count, H, W, 3] u8, oldest first (the last two are read), the
  // driver's x, y and the action taken before the last frame [A] (the driver stood a step back
  // in the frame before; empty: where it stands). The driver is rendered where it stood in the
  // yaw reader's silhouettes (it hides part of the pushed body while it pushes). `previous`: the
  // caller's last root of the same episode (root() after its last set_root), where an unseen
  // pushed body stays. Throws std::invalid_argument for no frame, a non-finite position or an
  // action of the wrong size.
  struct Root;
  void set_root(const std::uint8_t* frames, int count, std::span<const float> driver_xy,
                std::span<const float> last_action = {}, const Root* previous = nullptr);
  void set_markers(std::span<const float> markers_xyz);  // [M, 3] m: the goal
  // Moves the driver's x, y [2] by one action [A] as its actuator does and as plans move it
  // (clamped action x max_speed / control_hz): an agent's dead reckoning between true
  // observations. Throws std::invalid_argument for wrong sizes.
  void move_driver(std::span<float> xy, std::span<const float> action) const;
  void score(std::span<const float> plans, int k, int l, float gamma,
             std::span<double> returns) override;
  // The poses along one plan [L, A] from the root: [L + 1, 2, 3] (driver, pushed; x, y, yaw).
  std::vector<float> imagine_poses(std::span<const float> plan, int l) const;
  // The scene rendered at those poses (the root's excluded): [L, H, W, 3] u8.
  std::vector<std::uint8_t> imagine(std::span<const float> plan, int l);
  // Where a body stands at the root (driver or pushed; nullopt for another body, or for a pushed
  // body that is not known). Throws std::logic_error before set_root().
  std::optional<std::array<float, 2>> root_position(const std::string& body) const;
  // The pushed body's root reading: x, y (m), yaw (rad), and its velocity per tick.
  struct Root {
    float p[2] = {0, 0};
    float c[2] = {0, 0}, c_prev[2] = {0, 0};
    float th = 0, th_prev = 0;
    bool seen = false;   // the last frame showed the pushed body
    bool known = false;  // seen now or in the previous root given
  };
  const Root& root() const { return root_; }
  const PoseDynamics& dynamics() const { return *dyn_; }
  int frame_height() const { return poses_.height(); }
  int frame_width() const { return poses_.width(); }

 private:
  bool read(const std::uint8_t* rgb, const float driver[2], float xy[2], float& yaw) const;
  std::shared_ptr<const sim::SceneModel> scene_;
  std::shared_ptr<const PoseDynamics> dyn_;
  int k_max_ = 0, a_ = 0, offset_ = 0;  // the driver's action components start at offset_
  float step_ = 0;
  int driver_ = -1, pushed_ = -1;  // scene body indices
  FramePoses poses_;
  BodyYaw yaw_;
  PoseReward reward_;
  Root root_;
  bool rooted_ = false;
  std::vector<float> markers_;
  std::unique_ptr<sim::Renderer> renderer_;
  std::vector<float> ref_poses_, colors_, scales_;
  // score()'s per-plan state, kept between calls (sized to max_candidates once).
  std::vector<float> p_, pn_, c_, cp_, cn_, th_, thp_, thn_;
  std::vector<std::uint8_t> fired_, alive_;
};

}  // namespace parallax::agents
