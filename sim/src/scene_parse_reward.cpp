// Reward terms of a scene file.
#include "scene_enums.hpp"
#include "scene_parsers.hpp"

namespace parallax::sim::scene_json {

namespace {

std::string point_ref(Node n, const SceneModel& s) {
  std::string name = n.string();
  if (s.body_index(name) < 0 && s.marker_index(name) < 0) n.fail("the name of a body or marker");
  return name;
}

double weight(Node n) {
  return n.number_in(-kMaxWeight, kMaxWeight, "a number in " + range_text(-kMaxWeight, kMaxWeight));
}

}  // namespace

RewardTerm parse_reward(Node r, const SceneModel& s) {
  RewardTerm d;
  Node tn = r.at("type");
  auto type = from_name(kRewardTypeNames, tn.string());
  if (!type) tn.fail(expected_names(kRewardTypeNames));
  d.type = *type;
  auto read_axes = [&] {
    if (!r.has("axes")) return;
    Node n = r.at("axes");
    std::string ax = n.string();
    d.axes = {false, false, false};
    for (char c : ax) {
      if (c < 'x' || c > 'z' || d.axes[c - 'x']) n.fail("a subset of \"xyz\" such as \"xy\"");
      d.axes[c - 'x'] = true;
    }
    if (ax.empty()) n.fail("a subset of \"xyz\" such as \"xy\"");
  };
  auto read_pair = [&] {
    Node an = r.at("a");
    d.a = point_ref(an, s);
    if (r.has("offset_a")) {
      if (s.body_index(d.a) < 0) r.fail_key("offset_a", "applies only when a is a body");
      d.offset_a = r.at("offset_a").position();
    }
    if (r.has("b") == r.has("point")) r.fail_key("b", "give exactly one of b or point");
    if (r.has("b"))
      d.b = point_ref(r.at("b"), s);
    else
      d.point = r.at("point").position();
    read_axes();
  };
  switch (d.type) {
    case RewardType::kDistance:
      r.known("type, a, offset_a, b, point, axes, weight");
      read_pair();
      d.weight = weight(r.at("weight"));
      break;
    case RewardType::kSuccess:
      r.known("type, a, offset_a, b, point, axes, within, bonus, terminate");
      read_pair();
      d.within = opt_in(r, "within", d.within, 1e-6, kMaxCoord, "a distance (m)");
      d.bonus = weight(r.at("bonus"));
      if (r.has("terminate")) d.terminate = r.at("terminate").boolean();
      break;
    case RewardType::kHeight:
    case RewardType::kVelocity:
      r.known("type, a, weight");
      d.a = body_ref(r.at("a"), s, false);
      d.weight = weight(r.at("weight"));
      break;
    case RewardType::kJointCos: {
      r.known("type, joint, weight");
      Node jn = r.at("joint");
      d.joint = jn.string();
      int ji = s.joint_index(d.joint);
      if (ji < 0 || s.joints[ji].type != JointType::kHinge) jn.fail("the name of a hinge joint");
      d.weight = weight(r.at("weight"));
      break;
    }
    case RewardType::kContact: {
      r.known("type, a, b, weight");
      d.a = body_ref(r.at("a"), s, false);
      Node bn = r.at("b");
      d.b = body_ref(bn, s, false);
      if (d.a == d.b) bn.fail("a body other than a");
      d.weight = weight(r.at("weight"));
      break;
    }
  }
  r.done();
  return d;
}

}  // namespace parallax::sim::scene_json
