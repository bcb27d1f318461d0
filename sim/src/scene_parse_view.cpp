// The camera and the light of a scene file.
#include "scene_parsers.hpp"

namespace parallax::sim::scene_json {

CameraDef parse_camera(Node c) {
  CameraDef cam;
  c.known("eye, target, up, fov_deg, ortho_half_extent, width, height");
  if (c.has("eye")) cam.eye = c.at("eye").position();
  if (c.has("target")) cam.target = c.at("target").position();
  if (c.has("up")) cam.up = c.at("up").direction();
  if (c.has("fov_deg"))
    cam.fov_deg = c.at("fov_deg").number_in(1e-3, 179, "a field of view in (0, 180) degrees");
  cam.ortho_half_extent = opt_in(c, "ortho_half_extent", 0.0, 0, kMaxCoord, "a size (m)");
  if (c.has("width")) cam.width = c.at("width").integer(kMinPixels, kMaxPixels);
  if (c.has("height")) cam.height = c.at("height").integer(kMinPixels, kMaxPixels);
  const auto& e = cam.eye;
  const auto& t = cam.target;
  const Vec3 v{t[0] - e[0], t[1] - e[1], t[2] - e[2]};
  double d = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
  if (d < 1e-6) c.fail_key("target", "must differ from eye");
  // up must not be parallel to the view direction: the image plane would be undefined (a
  // blank frame). |view x up| is the sine of the angle between them (both normalised).
  const Vec3& u = cam.up;
  const Vec3 x{(v[1] * u[2] - v[2] * u[1]) / d, (v[2] * u[0] - v[0] * u[2]) / d,
               (v[0] * u[1] - v[1] * u[0]) / d};
  if (std::sqrt(x[0] * x[0] + x[1] * x[1] + x[2] * x[2]) < 1e-3) {
    c.fail_key("up", "must not be parallel to the view direction target - eye, found up [" +
                         num(u[0]) + ", " + num(u[1]) + ", " + num(u[2]) + "] and view [" +
                         num(v[0] / d) + ", " + num(v[1] / d) + ", " + num(v[2] / d) + "]");
  }
  c.done();
  return cam;
}

LightDef parse_light(Node l) {
  LightDef d;
  l.known("direction, ambient");
  if (l.has("direction")) d.direction = l.at("direction").direction();
  d.ambient = opt_unit(l, "ambient", d.ambient);
  l.done();
  return d;
}

}  // namespace parallax::sim::scene_json
