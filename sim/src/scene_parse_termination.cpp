// Termination conditions of a scene file.
#include "scene_enums.hpp"
#include "scene_parsers.hpp"

namespace parallax::sim::scene_json {

TerminationDef parse_termination(Node t, const SceneModel& s) {
  TerminationDef d;
  Node tn = t.at("type");
  auto type = from_name(kTerminationTypeNames, tn.string());
  if (!type) tn.fail(expected_names(kTerminationTypeNames));
  d.type = *type;
  switch (d.type) {
    case TerminationType::kHeightBelow:
    case TerminationType::kHeightAbove:
    case TerminationType::kOutOfBounds:
      t.known("type, body, value");
      d.body = body_ref(t.at("body"), s, false);
      break;
    case TerminationType::kJointAbsAbove: {
      t.known("type, joint, value");
      Node jn = t.at("joint");
      d.joint = jn.string();
      if (s.joint_index(d.joint) < 0) jn.fail("the name of a joint");
      break;
    }
  }
  d.value = t.at("value").number_in(
      -kMaxCoord, kMaxCoord, "a value in " + range_text(-kMaxCoord, kMaxCoord) + " (m or rad)");
  t.done();
  return d;
}

}  // namespace parallax::sim::scene_json
