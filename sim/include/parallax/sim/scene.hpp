// Immutable scene model: what a scene file (assets/scenes/*.json) describes.
// All units SI: metres, kilograms, seconds, radians unless a field name says `_deg`.
// Documented field by field in assets/scenes/README.md.
// Reference: docs/sim.md.
#pragma once

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace parallax::sim {

using Vec3 = std::array<double, 3>;
using Quat = std::array<double, 4>;  // x, y, z, w (Bullet's and our pose order)

// A bad scene file: one line naming the file, the JSON path, the value and what was expected.
class SceneError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

enum class Shape : std::uint8_t { kPlane, kBox, kSphere, kCylinder, kCapsule };

// A closed interval sampled uniformly per reset; low == high means fixed.
struct Range3 {
  Vec3 low{}, high{};
};
struct Range1 {
  double low = 0, high = 0;
};

struct BodyRandomize {
  std::optional<Range3> position;    // metres, absolute (replaces `position`)
  std::optional<Range1> yaw_deg;     // degrees about +z, added to the initial orientation
  std::optional<Range1> size_scale;  // multiplies every dimension
  std::optional<Range1> mass_scale;  // multiplies mass
  std::optional<Range1> friction;    // replaces friction
  std::optional<Range3> color;       // replaces colour, each channel in [0, 1]
};

struct BodyDef {
  std::string name;
  Shape shape = Shape::kBox;
  Vec3 half_extents{0.05, 0.05, 0.05};  // box, metres
  double radius = 0.05;                 // sphere / cylinder / capsule, metres
  double half_height = 0.05;            // cylinder / capsule: half the axis length (capsule: of the
                                        // cylindrical part), metres; axis is local +z
  Vec3 plane_normal{0, 0, 1};           // plane only; the plane passes through `position`
  double mass = 0.0;                    // kg; 0 = static
  bool kinematic = false;               // moved by actuators, not by forces
  double friction = 0.5;                // Coulomb coefficient, dimensionless
  double rolling_friction = 0.0;        // dimensionless
  double restitution = 0.0;             // [0, 1]
  double linear_damping = 0.0;          // [0, 1], fraction of velocity removed per second
  double angular_damping = 0.0;         // [0, 1]
  double margin = -1.0;                 // collision margin, metres; < 0 = automatic (small bodies)
  Vec3 color{0.7, 0.7, 0.7};            // linear RGB in [0, 1]
  Vec3 position{0, 0, 0};               // metres
  Quat orientation{0, 0, 0, 1};         // unit quaternion x, y, z, w
  Vec3 linear_velocity{0, 0, 0};        // m/s, initial
  Vec3 angular_velocity{0, 0, 0};       // rad/s, initial
  BodyRandomize randomize;
};

// Flat, non-physical goal marker (a disc lying in a plane of constant z).
struct MarkerDef {
  std::string name;
  double radius = 0.05;       // metres
  Vec3 color{0.3, 0.8, 0.3};  // [0, 1]
  Vec3 position{0, 0, 0};     // metres; disc centre, normal +z
  std::optional<Range3> randomize_position;
};

enum class JointType : std::uint8_t { kHinge, kSlider };

struct JointDef {
  std::string name;
  JointType type = JointType::kHinge;
  std::string body_a;  // "" or "world" = fixed to the world
  std::string body_b;
  Vec3 pivot{0, 0, 0};           // world frame at the initial pose, metres
  Vec3 axis{0, 0, 1};            // world frame, unit
  std::optional<Range1> limits;  // hinge: radians, slider: metres
  double max_motor_force = 0.0;  // hinge: N m, slider: N; motor limit
  double damping = 0.0;          // velocity-proportional loss: hinge N m s / rad, slider N s / m
  // Initial joint position relative to the nominal pose (rad or m), sampled per reset; the
  // subtree of body_b is moved rigidly to match. Absent = nominal pose.
  std::optional<Range1> randomize_position;
};

enum class ActuatorType : std::uint8_t {
  kPlanarVelocity,  // 2 components: target x/y velocity of a body, m/s (scaled by max_speed)
  kForce,           // 1..3 components along `axis` or x,y,z: force in N (scaled by max_force)
  kJointVelocity,   // 1 component: joint motor target velocity, rad/s or m/s (max_speed)
  kJointTorque,     // 1 component: joint torque / force, N m or N (max_force)
};

struct ActuatorDef {
  ActuatorType type = ActuatorType::kPlanarVelocity;
  std::string body;        // planar_velocity, force
  std::string joint;       // joint_velocity, joint_torque
  Vec3 axis{1, 0, 0};      // force with one component: direction (unit)
  int components = 2;      // number of action components this actuator consumes
  double max_speed = 1.0;  // m/s or rad/s at action = 1
  double max_force = 1.0;  // N or N m at action = 1
};

struct CameraDef {
  Vec3 eye{0, -1, 1};
  Vec3 target{0, 0, 0};
  Vec3 up{0, 0, 1};
  double fov_deg = 45.0;           // vertical field of view (perspective)
  double ortho_half_extent = 0.0;  // > 0 = orthographic, half the vertical extent in metres
  int width = 64, height = 64;     // pixels
};

struct LightDef {
  Vec3 direction{0.3, 0.4, -1.0};  // direction the light travels (need not be unit)
  double ambient = 0.35;           // [0, 1]
};

enum class RewardType : std::uint8_t {
  kDistance,  // weight * |p_a - p_b| (b is a body, a marker, or `point`)
  kHeight,    // weight * z of body a
  kJointCos,  // weight * cos(joint angle)
  kContact,   // weight * 1 if bodies a and b touch
  kSuccess,   // bonus once when |p_a - p_b| < within; optional termination
  kVelocity,  // weight * |v_a| (speed of body a), m/s
};

struct RewardTerm {
  RewardType type = RewardType::kDistance;
  std::string a, b;                            // body or marker names
  std::string joint;                           // joint_cos
  std::optional<Vec3> point;                   // distance to a fixed point instead of b
  Vec3 offset_a{0, 0, 0};                      // point on body a, in a's local frame (metres)
  std::array<bool, 3> axes{true, true, true};  // which coordinates count in distances
  double weight = 1.0;
  double within = 0.05;    // success: metres
  double bonus = 0.0;      // success reward
  bool terminate = false;  // success ends the episode
};

enum class TerminationType : std::uint8_t {
  kHeightBelow,    // body a's z < value
  kHeightAbove,    // body a's z > value
  kJointAbsAbove,  // |joint position| > value
  kOutOfBounds,    // |x| or |y| of body a > value
};

struct TerminationDef {
  TerminationType type = TerminationType::kHeightBelow;
  std::string body, joint;
  double value = 0.0;
};

// The immutable scene model. Build once from a file, share between worlds.
struct SceneModel {
  std::string name;
  std::string description;
  std::filesystem::path source;  // file it was loaded from
  std::string source_json;       // the full file text (stored in datasets)
  double physics_hz = 240.0;     // physics steps per second
  double control_hz = 30.0;      // actions per second; physics_hz / control_hz must be integral
  int episode_steps = 150;       // control steps before truncation
  Vec3 gravity{0, 0, -9.81};     // m/s^2
  CameraDef camera;
  LightDef light;
  std::vector<BodyDef> bodies;
  std::vector<MarkerDef> markers;
  std::vector<JointDef> joints;
  std::vector<ActuatorDef> actuators;
  std::vector<RewardTerm> reward;
  std::vector<TerminationDef> terminations;

  int action_size() const;                     // sum of actuator components
  int substeps() const;                        // physics steps per control step
  int body_index(const std::string& n) const;  // -1 if absent
  int marker_index(const std::string& n) const;
  int joint_index(const std::string& n) const;
};

// Parses and validates a scene file. Throws SceneError (file, JSON path, value, expectation).
SceneModel load_scene(const std::filesystem::path& file);
// Same from text; `origin` names the source in error messages.
SceneModel parse_scene(const std::string& json_text, const std::string& origin);

// Lower-case names as written in scene files ("box", "hinge", "planar_velocity", ...).
const char* to_string(Shape s);
const char* to_string(JointType t);
const char* to_string(ActuatorType t);
const char* to_string(RewardType t);
const char* to_string(TerminationType t);

// The folder of shipped scenes: $PARALLAX_ASSETS/scenes, else the source tree's assets/scenes.
std::filesystem::path scenes_dir();
// A shipped scene name ("push") or a path to a .json file.
SceneModel resolve_scene(const std::string& name_or_path);
// Shipped scene names, sorted.
std::vector<std::string> shipped_scenes();

}  // namespace parallax::sim
