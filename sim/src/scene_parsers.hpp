// Per-concept parsers of a scene file, each reading one JSON object into its part of the model;
// parse_scene (scene.cpp) calls them in file order. A new shape, actuator or reward term changes
// its own parser (and its enum table in scene_enums.hpp) only.
#pragma once

#include <string>
#include <vector>

#include "scene_node.hpp"

namespace parallax::sim::scene_json {

BodyDef parse_body(Node b);      // scene_parse_body.cpp
MarkerDef parse_marker(Node m);  // scene_parse_body.cpp
CameraDef parse_camera(Node c);  // scene_parse_view.cpp
LightDef parse_light(Node l);    // scene_parse_view.cpp
// `s` holds the bodies and the joints before this one; parent_joint[body] is the joint whose
// body_b it is (-1 = none), updated here.
JointDef parse_joint(Node j, const SceneModel& s, std::vector<int>& parent_joint,
                     std::size_t index);                        // scene_parse_joint.cpp
ActuatorDef parse_actuator(Node a, const SceneModel& s);        // scene_parse_actuator.cpp
RewardTerm parse_reward(Node r, const SceneModel& s);           // scene_parse_reward.cpp
TerminationDef parse_termination(Node t, const SceneModel& s);  // scene_parse_termination.cpp

// A body name already in `s`, optionally of a dynamic body (mass > 0, not kinematic).
std::string body_ref(Node n, const SceneModel& s, bool must_be_dynamic);
bool is_dynamic(const SceneModel& s, int body);

}  // namespace parallax::sim::scene_json
