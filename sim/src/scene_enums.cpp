// to_string() of the scene enums, from their tables (scene_enums.hpp).
#include "scene_enums.hpp"

namespace parallax::sim {

const char* to_string(Shape s) {
  return name_of(kShapeNames, s);
}
const char* to_string(JointType t) {
  return name_of(kJointTypeNames, t);
}
const char* to_string(ActuatorType t) {
  return name_of(kActuatorTypeNames, t);
}
const char* to_string(RewardType t) {
  return name_of(kRewardTypeNames, t);
}
const char* to_string(TerminationType t) {
  return name_of(kTerminationTypeNames, t);
}

}  // namespace parallax::sim
