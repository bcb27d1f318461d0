// One table per scene enum: the names scene files use, read by the parsers (from_name), by
// to_string() and by the "expected one of ..." messages (expected_names). A new value is one
// row here.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "parallax/sim/scene.hpp"

namespace parallax::sim {

template <class E>
struct EnumName {
  E value;
  const char* name;
};

inline constexpr EnumName<Shape> kShapeNames[] = {{Shape::kPlane, "plane"},
                                                  {Shape::kBox, "box"},
                                                  {Shape::kSphere, "sphere"},
                                                  {Shape::kCylinder, "cylinder"},
                                                  {Shape::kCapsule, "capsule"}};
inline constexpr EnumName<JointType> kJointTypeNames[] = {{JointType::kHinge, "hinge"},
                                                          {JointType::kSlider, "slider"}};
inline constexpr EnumName<ActuatorType> kActuatorTypeNames[] = {
    {ActuatorType::kPlanarVelocity, "planar_velocity"},
    {ActuatorType::kForce, "force"},
    {ActuatorType::kJointVelocity, "joint_velocity"},
    {ActuatorType::kJointTorque, "joint_torque"}};
inline constexpr EnumName<RewardType> kRewardTypeNames[] = {
    {RewardType::kDistance, "distance"},  {RewardType::kHeight, "height"},
    {RewardType::kJointCos, "joint_cos"}, {RewardType::kContact, "contact"},
    {RewardType::kSuccess, "success"},    {RewardType::kVelocity, "velocity"}};
inline constexpr EnumName<TerminationType> kTerminationTypeNames[] = {
    {TerminationType::kHeightBelow, "height_below"},
    {TerminationType::kHeightAbove, "height_above"},
    {TerminationType::kJointAbsAbove, "joint_abs_above"},
    {TerminationType::kOutOfBounds, "out_of_bounds"}};

template <class E, std::size_t N>
const char* name_of(const EnumName<E> (&table)[N], E value) {
  for (const auto& row : table)
    if (row.value == value) return row.name;
  return "?";
}

template <class E, std::size_t N>
std::optional<E> from_name(const EnumName<E> (&table)[N], const std::string& name) {
  for (const auto& row : table)
    if (name == row.name) return row.value;
  return std::nullopt;
}

// "hinge or slider" for two names, "one of plane, box, sphere" for more.
template <class E, std::size_t N>
std::string expected_names(const EnumName<E> (&table)[N]) {
  if constexpr (N == 2) return std::string(table[0].name) + " or " + table[1].name;
  std::string s = "one of ";
  for (std::size_t i = 0; i < N; ++i) s += (i ? ", " : "") + std::string(table[i].name);
  return s;
}

}  // namespace parallax::sim
