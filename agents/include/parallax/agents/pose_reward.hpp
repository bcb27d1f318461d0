// The scene's own reward, evaluated on the positions a world model predicts.
//
// A planner scoring plans by a learned reward head ranks plans by that head's errors where the
// true reward does not change (push: every plan that does not move the cube has the same true
// return, and the head's error there depends on where the pusher goes). A model with a pose head
// (ModelInfo::pose_bodies) predicts where bodies are; PoseReward applies the scene's reward terms
// to those predictions, so a plan's return can only change through the bodies the reward names.
//
// Supported terms (anything else is refused at construction, naming the term):
//   distance  weight * |p_a - p_b| over x and y (the term's axes may not include z; no offset)
//   success   bonus once when |p_a - p_b| < within (x, y); terminate ends the plan's future
// where a and b are pose bodies of the model or markers (their positions are given per root:
// a goal-conditioned agent is told its goal), or b is the term's fixed point. The scene's
// terminations stay with the model's continue head. A planner's reach shaping (reach_shaping.hpp)
// is one more term on the same positions.
// Reference: docs/agents.md, "Reward from predicted poses".
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "parallax/agents/reach_shaping.hpp"
#include "parallax/sim/scene.hpp"

namespace parallax::agents {

class PoseReward {
 public:
  // `pose_bodies`: the model's pose head order; `reach`: a planner's reach shaping, evaluated
  // after the scene's terms (ReachShaping::reward on these positions). Throws
  // std::invalid_argument naming the scene and the term for a term it cannot evaluate or a body
  // the model does not predict.
  PoseReward(const sim::SceneModel& scene, const std::vector<std::string>& pose_bodies,
             const ReachShaping* reach = nullptr);

  // Per plan state: which success terms fired already (they pay once).
  std::size_t success_terms() const { return success_terms_; }
  // The scene's markers [M, 3] (m) for the current episode.
  void set_markers(std::span<const float> markers_xyz);
  // Reward on arriving at a state with predicted body positions `xy` [P, 2] (m, pose_bodies
  // order); `fired` [success_terms()] is updated; `terminated` set when a terminating success
  // term fires.
  double evaluate(std::span<const float> xy, std::span<std::uint8_t> fired, bool& terminated) const;

 private:
  struct Point {
    int pose = -1;    // index into the pose bodies, or
    int marker = -1;  // index into the markers, or
    float fixed[2] = {0, 0};
  };
  struct Term {
    bool success = false;
    Point a, b;
    Point goal;         // reach shaping with behind > 0: b is reached `behind` past b from goal
    double behind = 0;  // m
    bool ax = true, ay = true;
    double weight = 0, within = 0, bonus = 0;
    bool terminate = false;
    int slot = -1;  // success terms: index into `fired`
  };
  void xy_of(const Point& p, std::span<const float> xy, float out[2]) const;

  std::vector<Term> terms_;
  std::vector<float> markers_;  // [M, 3]
  std::size_t markers_needed_ = 0;
  std::size_t success_terms_ = 0;
  std::string scene_;
};

}  // namespace parallax::agents
