// The planner's model in pose space (pose_plan_model.hpp).
#include "parallax/agents/pose_plan_model.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "parallax/sim/render_inputs.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::agents {
namespace {

int driver_offset(const sim::SceneModel& scene, const std::string& driver) {
  int offset = 0;
  for (const auto& act : scene.actuators) {
    if (act.type == sim::ActuatorType::kPlanarVelocity && act.body == driver) return offset;
    offset += act.components;
  }
  return -1;  // PoseDynamics::check_scene refuses it first
}

std::shared_ptr<const PoseDynamics> checked(std::shared_ptr<const PoseDynamics> d,
                                            const sim::SceneModel& scene) {
  if (!d) throw std::invalid_argument("pose plan model: no dynamics model");
  d->check_scene(scene);
  return d;
}

}  // namespace

PosePlanModel::PosePlanModel(std::shared_ptr<const sim::SceneModel> scene,
                             std::shared_ptr<const PoseDynamics> dynamics, int max_candidates,
                             const ReachShaping* reach)
    : scene_(scene),
      dyn_(checked(std::move(dynamics), *scene)),
      k_max_(max_candidates),
      a_(scene->action_size()),
      offset_(driver_offset(*scene, dyn_->driver())),
      step_(static_cast<float>(dyn_->step_m())),
      driver_(scene->body_index(dyn_->driver())),
      pushed_(scene->body_index(dyn_->pushed())),
      poses_(scene, {dyn_->pushed()}),
      yaw_(scene, dyn_->pushed()),
      reward_(*scene, {dyn_->driver(), dyn_->pushed()}, reach) {
  if (k_max_ < 1) throw std::invalid_argument("pose plan model: max_candidates must be >= 1");
  poses_.set_cut_reading(true);
  renderer_ = std::make_unique<sim::Renderer>(scene_);
  sim::World world(scene_, 0);
  sim::WorldRenderInputs gather(*scene_);
  const sim::RenderInputs ref = gather.gather(world);
  const std::size_t nk = scene_->bodies.size(), nm = scene_->markers.size();
  ref_poses_.assign(ref.poses, ref.poses + nk * 7);
  colors_.assign(ref.colors, ref.colors + nk * 3);
  scales_.assign(ref.scales, ref.scales + nk);
  markers_.assign(ref.markers, ref.markers + nm * 3);
  reward_.set_markers(markers_);
}

PosePlanModel::~PosePlanModel() = default;

int PosePlanModel::action_size() const {
  return a_;
}

void PosePlanModel::set_markers(std::span<const float> markers_xyz) {
  reward_.set_markers(markers_xyz);  // checks the size
  markers_.assign(markers_xyz.begin(), markers_xyz.end());
}

void PosePlanModel::move_driver(std::span<float> xy, std::span<const float> action) const {
  if (xy.size() != 2 || action.size() != static_cast<std::size_t>(a_))
    throw std::invalid_argument("pose plan model: move_driver takes x, y and " +
                                std::to_string(a_) + " action values");
  for (int d = 0; d < 2; ++d) xy[d] += std::clamp(action[offset_ + d], -1.0f, 1.0f) * step_;
}

bool PosePlanModel::read(const std::uint8_t* rgb, const float driver[2], float xy[2],
                         float& yaw) const {
  std::uint8_t found = 0;
  poses_.find(rgb, std::span<float>(xy, 2), std::span<std::uint8_t>(&found, 1));
  if (!found) return false;
  // Yaw at the colour finder's x, y; then x, y moved by the pixel shift between the frame's
  // visible centroid and the best silhouette's (the pusher hides part of the cube while it
  // pushes, which pulls the finder's centroid away from it), and the yaw read again there.
  const BodyYaw::Occluder occ{driver_, driver[0], driver[1]};
  for (int round = 0; round < 2; ++round) {
    std::array<double, 4> cen{};
    const auto y = yaw_.read(rgb, poses_.finder(), xy[0], xy[1], nullptr, std::span(&occ, 1), &cen);
    if (!y) break;
    yaw = *y;
    if (round == 1 || std::hypot(cen[0] - cen[2], cen[1] - cen[3]) < 0.25) break;
    float seen[2], drawn[2];
    poses_.map(0, cen[0], cen[1], seen);
    poses_.map(0, cen[2], cen[3], drawn);
    xy[0] += seen[0] - drawn[0], xy[1] += seen[1] - drawn[1];
  }
  return true;
}

void PosePlanModel::set_root(const std::uint8_t* frames, int count,
                             std::span<const float> driver_xy, std::span<const float> last_action,
                             const Root* previous) {
  if (count < 1 || !frames) throw std::invalid_argument("pose plan model: no perceived frame");
  if (driver_xy.size() != 2 || !std::isfinite(driver_xy[0]) || !std::isfinite(driver_xy[1]))
    throw std::invalid_argument("pose plan model: driver '" + dyn_->driver() +
                                "' needs a finite x, y");
  if (!last_action.empty() && last_action.size() != static_cast<std::size_t>(a_))
    throw std::invalid_argument("pose plan model: the last action has " +
                                std::to_string(last_action.size()) + " values, the scene takes " +
                                std::to_string(a_));
  const std::size_t fsz = static_cast<std::size_t>(poses_.height()) * poses_.width() * 3;
  root_.p[0] = driver_xy[0], root_.p[1] = driver_xy[1];
  float before[2] = {root_.p[0], root_.p[1]};  // the driver in the frame before
  for (int d = 0; d < 2 && !last_action.empty(); ++d)
    before[d] -= std::clamp(last_action[offset_ + d], -1.0f, 1.0f) * step_;
  float xy[2] = {0, 0}, yaw = 0;
  root_.seen = read(frames + (count - 1) * fsz, root_.p, xy, yaw);
  if (root_.seen) {
    root_.known = true;
    root_.c[0] = xy[0], root_.c[1] = xy[1], root_.th = yaw;
    float xp[2] = {xy[0], xy[1]}, yp = yaw;
    if (count >= 2 && read(frames + (count - 2) * fsz, before, xp, yp)) {
      root_.c_prev[0] = xp[0], root_.c_prev[1] = xp[1], root_.th_prev = yp;
    } else {
      root_.c_prev[0] = xy[0], root_.c_prev[1] = xy[1], root_.th_prev = yaw;
    }
  } else {  // unseen: where the previous root had it, at rest (else unknown, at the centre)
    root_.known = previous && previous->known;
    root_.c[0] = root_.known ? previous->c[0] : 0.0f;
    root_.c[1] = root_.known ? previous->c[1] : 0.0f;
    root_.th = root_.known ? previous->th : 0.0f;
    root_.c_prev[0] = root_.c[0], root_.c_prev[1] = root_.c[1], root_.th_prev = root_.th;
  }
  rooted_ = true;
}

std::optional<std::array<float, 2>> PosePlanModel::root_position(const std::string& body) const {
  if (!rooted_) throw std::logic_error("pose plan model: root_position() before set_root()");
  if (body == dyn_->driver()) return std::array<float, 2>{root_.p[0], root_.p[1]};
  if (body == dyn_->pushed() && root_.known) return std::array<float, 2>{root_.c[0], root_.c[1]};
  return std::nullopt;
}

void PosePlanModel::score(std::span<const float> plans, int k, int l, float gamma,
                          std::span<double> returns) {
  if (!rooted_) throw std::logic_error("pose plan model: score() before set_root()");
  if (k < 1 || k > k_max_ || l < 1)
    throw std::invalid_argument("pose plan model: " + std::to_string(k) + " plans of " +
                                std::to_string(l) + " steps (at most " + std::to_string(k_max_) +
                                " plans)");
  if (plans.size() != static_cast<std::size_t>(k) * l * a_ ||
      returns.size() != static_cast<std::size_t>(k))
    throw std::invalid_argument("pose plan model: plans or returns of the wrong size");
  auto& p = p_;
  auto& pn = pn_;
  auto& c = c_;
  auto& cp = cp_;
  auto& cn = cn_;
  auto& th = th_;
  auto& thp = thp_;
  auto& thn = thn_;
  for (auto* v : {&p, &pn, &c, &cp, &cn}) v->resize(2 * k);
  for (auto* v : {&th, &thp, &thn}) v->resize(k);
  for (int i = 0; i < k; ++i) {
    std::copy_n(root_.p, 2, &p[2 * i]);
    std::copy_n(root_.c, 2, &c[2 * i]);
    std::copy_n(root_.c_prev, 2, &cp[2 * i]);
    th[i] = root_.th, thp[i] = root_.th_prev;
  }
  const std::size_t nst = reward_.success_terms();
  auto& fired = fired_;
  auto& alive = alive_;
  fired.assign(k * nst, 0);
  alive.assign(k, 1);
  std::fill(returns.begin(), returns.end(), 0.0);
  double disc = 1.0;
  for (int h = 0; h < l; ++h) {
    for (int i = 0; i < k; ++i)
      for (int d = 0; d < 2; ++d)
        pn[2 * i + d] = p[2 * i + d] +
                        std::clamp(plans[(static_cast<std::size_t>(i) * l + h) * a_ + offset_ + d],
                                   -1.0f, 1.0f) *
                            step_;
    dyn_->step(k, p.data(), pn.data(), c.data(), cp.data(), th.data(), thp.data(), cn.data(),
               thn.data());
    for (int i = 0; i < k; ++i) {
      if (!alive[i]) continue;
      const float xy[4] = {pn[2 * i], pn[2 * i + 1], cn[2 * i], cn[2 * i + 1]};
      bool terminated = false;
      returns[i] += disc * reward_.evaluate(xy, std::span(fired).subspan(i * nst, nst), terminated);
      if (terminated) alive[i] = 0;
    }
    std::swap(cp, c), std::swap(c, cn), std::swap(thp, th), std::swap(th, thn), std::swap(p, pn);
    disc *= gamma;
  }
}

std::vector<float> PosePlanModel::imagine_poses(std::span<const float> plan, int l) const {
  if (!rooted_) throw std::logic_error("pose plan model: imagine() before set_root()");
  if (l < 1 || plan.size() < static_cast<std::size_t>(l) * a_)
    throw std::invalid_argument("pose plan model: a plan of " + std::to_string(l) +
                                " steps needs " + std::to_string(l * a_) + " actions");
  std::vector<float> out(static_cast<std::size_t>(l + 1) * 6);
  float p[2] = {root_.p[0], root_.p[1]}, c[2] = {root_.c[0], root_.c[1]},
        cp[2] = {root_.c_prev[0], root_.c_prev[1]}, th = root_.th, thp = root_.th_prev;
  auto put = [&](int h) {
    float* o = &out[static_cast<std::size_t>(h) * 6];
    o[0] = p[0], o[1] = p[1], o[2] = 0, o[3] = c[0], o[4] = c[1], o[5] = th;
  };
  put(0);
  for (int h = 0; h < l; ++h) {
    float pn[2], cn[2], thn = 0;
    for (int d = 0; d < 2; ++d)
      pn[d] = p[d] +
              std::clamp(plan[static_cast<std::size_t>(h) * a_ + offset_ + d], -1.0f, 1.0f) * step_;
    dyn_->step(1, p, pn, c, cp, &th, &thp, cn, &thn);
    cp[0] = c[0], cp[1] = c[1], c[0] = cn[0], c[1] = cn[1], thp = th, th = thn;
    p[0] = pn[0], p[1] = pn[1];
    put(h + 1);
  }
  return out;
}

std::vector<std::uint8_t> PosePlanModel::imagine(std::span<const float> plan, int l) {
  const auto poses = imagine_poses(plan, l);
  const std::size_t nk = scene_->bodies.size(), nm = scene_->markers.size();
  const std::size_t npx = static_cast<std::size_t>(poses_.height()) * poses_.width();
  std::vector<float> pn(l * nk * 7), cn(l * nk * 3), sn(l * nk), mn(l * nm * 3);
  for (int h = 0; h < l; ++h) {
    float* q = pn.data() + h * nk * 7;
    std::copy(ref_poses_.begin(), ref_poses_.end(), q);
    const float* o = &poses[static_cast<std::size_t>(h + 1) * 6];
    q[driver_ * 7] = o[0], q[driver_ * 7 + 1] = o[1];
    float* b = q + pushed_ * 7;
    b[0] = o[3], b[1] = o[4];
    b[3] = 0, b[4] = 0, b[5] = std::sin(o[5] / 2), b[6] = std::cos(o[5] / 2);
    std::copy(colors_.begin(), colors_.end(), cn.begin() + h * nk * 3);
    std::copy(scales_.begin(), scales_.end(), sn.begin() + h * nk);
    std::copy(markers_.begin(), markers_.end(), mn.begin() + h * nm * 3);
  }
  std::vector<std::uint8_t> frames(l * npx * 3);
  renderer_->render(sim::RenderInputs{.n = l,
                                      .poses = pn.data(),
                                      .markers = mn.data(),
                                      .colors = cn.data(),
                                      .scales = sn.data()},
                    frames.data(), nullptr);
  return frames;
}

}  // namespace parallax::agents
