// Fidelity protocols and metrics (definitions: docs/fidelity.md).
#include "parallax/agents/fidelity.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include <torch/torch.h>

#include "parallax/agents/body_finder.hpp"
#include "parallax/agents/decision_check.hpp"
#include "parallax/agents/metrics.hpp"
#include "parallax/agents/motion_metrics.hpp"
#include "parallax/agents/planner.hpp"
#include "parallax/agents/policy.hpp"
#include "parallax/agents/stats.hpp"
#include "parallax/sim/image_io.hpp"
#include "parallax/sim/thread_pool.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/worldmodel/dream_batch.hpp"

namespace parallax::agents {

namespace {

using nlohmann::json;

// Horizons reported: 1, 2, 5, 10, 20, 30, then every 10, and H itself.
std::vector<int> report_horizons(int h) {
  std::vector<int> out;
  for (int v : {1, 2, 5, 10, 20, 30})
    if (v <= h) out.push_back(v);
  for (int v = 40; v <= h; v += 10) out.push_back(v);
  if (out.empty() || out.back() != h) out.push_back(h);
  return out;
}

json number(double v) {
  return std::isfinite(v) ? json(v) : json(nullptr);  // null = infinite (PSNR of MSE 0)
}

// Bodies that move (dynamic or kinematic): the ones whose positions are scored.
std::vector<int> tracked_bodies(const sim::SceneModel& scene) {
  std::vector<int> out;
  for (std::size_t k = 0; k < scene.bodies.size(); ++k)
    if (scene.bodies[k].mass > 0 || scene.bodies[k].kinematic) out.push_back(static_cast<int>(k));
  return out;
}

// Per-horizon accumulators of one predictor.
struct Acc {
  int horizon = 0, bodies = 0;
  std::vector<double> sse, ssim;             // [H] sums of per-frame MSE and SSIM
  std::vector<int> n;                        // [H] frames
  std::vector<double> err;                   // [H, B] sum of centroid errors (px)
  std::vector<int> err_n, missing, present;  // [H, B]
  std::vector<double> reward_abs;            // [H] sum |r_pred - r_true|
  Acc(int h, int b)
      : horizon(h),
        bodies(b),
        sse(h, 0),
        ssim(h, 0),
        n(h, 0),
        err(h * b, 0),
        err_n(h * b, 0),
        missing(h * b, 0),
        present(h * b, 0),
        reward_abs(h, 0) {}

  // Frame of horizon index hi (0-based): pixels, and bodies found vs true centroids.
  void add_frame(int hi, const std::uint8_t* truth, const std::uint8_t* pred, int height,
                 int width) {
    const double mse = frame_mse(truth, pred, height, width);
    sse[hi] += mse;
    ssim[hi] += frame_ssim(truth, pred, height, width);
    ++n[hi];
  }
  void add_bodies(int hi, const std::vector<Centroid>& truth, const std::vector<Centroid>& found,
                  const std::vector<int>& tracked) {
    for (int b = 0; b < static_cast<int>(tracked.size()); ++b) {
      const int c = tracked[b] + 1;
      if (truth[c].pixels < 4) continue;  // not visible: not scored
      ++present[hi * bodies + b];
      if (found[c].pixels < 0.3 * truth[c].pixels) {
        ++missing[hi * bodies + b];
        continue;
      }
      err[hi * bodies + b] += std::hypot(found[c].x - truth[c].x, found[c].y - truth[c].y);
      ++err_n[hi * bodies + b];
    }
  }

  json to_json(const std::vector<int>& hs, const sim::SceneModel& scene,
               const std::vector<int>& tracked, bool with_reward) const {
    json psnr, mse, ss, reward;
    double all_sse = 0;
    int all_n = 0;
    for (int h = 0; h < horizon; ++h) all_sse += sse[h], all_n += n[h];
    for (int h : hs) {
      const std::string key = "t+" + std::to_string(h);
      const int i = h - 1;
      if (n[i] == 0) continue;
      mse[key] = sse[i] / n[i];
      psnr[key] = number(psnr_from_mse(sse[i] / n[i]));
      ss[key] = ssim[i] / n[i];
      if (with_reward) reward[key] = reward_abs[i] / n[i];
    }
    json bodies_json = json::object();
    for (int b = 0; b < static_cast<int>(tracked.size()); ++b) {
      json e, m;
      int tot_err_n = 0, tot_missing = 0, tot_present = 0;
      double tot_err = 0;
      for (int h = 0; h < horizon; ++h) {
        tot_err += err[h * bodies + b], tot_err_n += err_n[h * bodies + b];
        tot_missing += missing[h * bodies + b], tot_present += present[h * bodies + b];
      }
      for (int h : hs) {
        const std::string key = "t+" + std::to_string(h);
        const int i = (h - 1) * bodies + b;
        if (err_n[i] > 0) e[key] = err[i] / err_n[i];
        if (present[i] > 0) m[key] = static_cast<double>(missing[i]) / present[i];
      }
      bodies_json[scene.bodies[tracked[b]].name] = {
          {"error_px", e},
          {"missing_rate", m},
          {"error_px_overall", tot_err_n ? number(tot_err / tot_err_n) : json(nullptr)},
          {"missing_rate_overall",
           tot_present ? json(static_cast<double>(tot_missing) / tot_present) : json(nullptr)}};
    }
    json out = {{"psnr_db", psnr},
                {"mse", mse},
                {"ssim", ss},
                {"bodies", bodies_json},
                {"frames", all_n},
                {"psnr_db_overall", number(all_n ? psnr_from_mse(all_sse / all_n) : 0.0)}};
    if (with_reward) out["reward_mae"] = reward;
    return out;
  }
};

// The constant-velocity predictor of body positions: each body's true centroid (renderer ids)
// at frame t, moved `steps` times its displacement from frame t - 1. A body seen at t but not
// at t - 1 is held; one not seen at t is not predicted (pixels 0: missing where it is visible).
std::vector<Centroid> extrapolate(const std::vector<Centroid>& prev,
                                  const std::vector<Centroid>& last, int steps) {
  std::vector<Centroid> out(last.size());
  for (std::size_t c = 0; c < last.size(); ++c) {
    if (last[c].pixels < 4) continue;
    out[c] = last[c];
    if (prev[c].pixels < 4) continue;
    out[c].x += steps * (last[c].x - prev[c].x);
    out[c].y += steps * (last[c].y - prev[c].y);
  }
  return out;
}

// Physics-IQ motion metrics of one predictor, summed over episodes.
struct MotionAcc {
  double spatial = 0, spatiotemporal = 0, weighted = 0, masked_mse = 0;
  int episodes = 0, mse_episodes = 0;
  json to_json() const {
    auto mean = [](double s, int n) { return n ? json(s / n) : json(nullptr); };
    return {{"spatial_iou", mean(spatial, episodes)},
            {"spatiotemporal_iou", mean(spatiotemporal, episodes)},
            {"weighted_spatial_iou", mean(weighted, episodes)},
            {"masked_mse", mean(masked_mse, mse_episodes)},
            {"episodes", episodes}};
  }
};

// Adds one episode's motion scores (motion_metrics.hpp) to `acc`.
void add_motion(MotionAcc& acc, const std::vector<const std::uint8_t*>& truth,
                const std::vector<const std::uint8_t*>& pred, int px, int thr) {
  const MotionScores m = motion_scores(truth, pred, px, thr);
  if (!m.defined) return;  // nothing moved in either: undefined, not counted
  acc.spatial += m.spatial_iou;
  acc.spatiotemporal += m.spatiotemporal_iou;
  acc.weighted += m.weighted_spatial_iou;
  acc.masked_mse += m.masked_mse;
  ++acc.episodes;
  ++acc.mse_episodes;
}

// [E, 3, H, W] u8 CPU tensor -> per-episode HWC frames appended to `out` [E, H, W, 3].
void to_hwc(const torch::Tensor& nchw, std::vector<std::uint8_t>& out) {
  const auto t = nchw.permute({0, 2, 3, 1}).contiguous();
  out.assign(t.data_ptr<std::uint8_t>(), t.data_ptr<std::uint8_t>() + t.numel());
}

// Context of episode e ending at frame t: frames [C', 3, H, W] u8 and the actions before each.
std::pair<torch::Tensor, torch::Tensor> context(const EvalSet& set, int e, int t, int c) {
  const int first = std::max(0, t - c + 1), count = t - first + 1;
  auto frames = torch::empty({count, set.height, set.width, 3}, torch::kUInt8);
  auto actions = torch::zeros({count, set.action_size}, torch::kFloat32);
  const std::size_t fsz = static_cast<std::size_t>(set.height) * set.width * 3;
  for (int i = 0; i < count; ++i) {
    std::copy_n(set.frame(e, first + i), fsz, frames.data_ptr<std::uint8_t>() + i * fsz);
    if (first + i > 0)
      std::copy_n(set.action(e, first + i - 1), set.action_size,
                  actions.data_ptr<float>() + i * set.action_size);
  }
  return {frames.permute({0, 3, 1, 2}).contiguous(), actions};
}

// The model's imagined return of `steps` rewards weighted by the running continue product.
struct Imagined {
  double ret = 0, alive = 1;
  void add(double reward, double cont) {
    ret += alive * reward;
    alive *= cont;
  }
};

// A strip image: rows of frames [H, W, 3] (null = black), all rows the same length.
void write_strip(const std::string& file, const std::vector<std::vector<const std::uint8_t*>>& rows,
                 int h, int w) {
  if (rows.empty() || rows[0].empty()) return;
  const int cols = static_cast<int>(rows[0].size()), sw = cols * w,
            sh = static_cast<int>(rows.size()) * h;
  std::vector<std::uint8_t> img(static_cast<std::size_t>(sw) * sh * 3, 0);  // [sh, sw, 3] u8
  for (std::size_t r = 0; r < rows.size(); ++r)
    for (int c = 0; c < cols; ++c) {
      const std::uint8_t* f = rows[r][c];
      if (!f) continue;
      for (int y = 0; y < h; ++y)
        std::copy_n(f + static_cast<std::size_t>(y) * w * 3, w * 3,
                    img.data() + ((r * h + y) * static_cast<std::size_t>(sw) + c * w) * 3);
    }
  sim::write_png(file, sw, sh, 3, img.data());
}

}  // namespace

json run_fidelity(std::shared_ptr<const sim::SceneModel> scene,
                  std::shared_ptr<worldmodel::WorldModel> model, const FidelityOptions& o,
                  const FidelityProgress& progress) {
  auto report_progress = [&](const std::string& stage, int done, int total) {
    if (progress) progress(stage, done, total);
  };
  if (o.horizon < 1) throw std::invalid_argument("fidelity: horizon must be >= 1");
  if (o.candidates < 2 || o.plan_steps < 1 || o.decisions < 0)
    throw std::invalid_argument("fidelity: candidates >= 2, plan steps >= 1, decisions >= 0");
  if (o.decision_reward != "head" && o.decision_reward != "poses")
    throw std::invalid_argument("fidelity: decision reward must be head or poses, got '" +
                                o.decision_reward + "'");
  const auto& info = model->info();
  if (info.height != scene->camera.height || info.width != scene->camera.width ||
      info.action_size != scene->action_size())
    throw std::runtime_error(
        "fidelity: the model expects " + std::to_string(info.height) + "x" +
        std::to_string(info.width) + " frames and " + std::to_string(info.action_size) +
        " actions, scene '" + scene->name + "' has " + std::to_string(scene->camera.height) + "x" +
        std::to_string(scene->camera.width) + " and " + std::to_string(scene->action_size()));
  const int c = info.context_frames, hz = o.horizon;
  const int t0 = c - 1;  // the last context frame
  EvalSetOptions eo = o.eval;
  // Decision d (0-based) sits at t0 + (d + 1) * spacing: inside the episode, where the
  // policy has already acted (at the very start most plans tie: nothing is touched yet).
  const int spacing = std::max(1, hz / (o.decisions + 1));
  eo.steps = t0 + std::max(hz, o.decisions > 0 ? o.decisions * spacing + o.plan_steps : 0);
  report_progress("evaluation set", 0, 1);
  const EvalSet set =
      o.data.empty() ? make_eval_set(scene, eo)
                     : make_eval_set_from_dataset(scene, o.data, o.data_episodes, o.data_start, eo);
  report_progress("evaluation set", 1, 1);
  const int ne = set.num_episodes, h = set.height, w = set.width, a = set.action_size;
  const int px = h * w;
  const std::size_t fsz = static_cast<std::size_t>(px) * 3;
  const auto tracked = tracked_bodies(*scene);
  const int nb = static_cast<int>(tracked.size());
  const int classes = 1 + static_cast<int>(scene->bodies.size() + scene->markers.size());
  const auto hs = report_horizons(hz);
  const torch::Device device(o.device);

  // Each episode's colour finder, calibrated on its last context frame.
  std::vector<BodyFinder> finders;
  for (int e = 0; e < ne; ++e) {
    finders.emplace_back(*scene,
                         set.colors.data() + static_cast<std::size_t>(e) * set.num_bodies * 3);
    finders.back().calibrate(set.frame(e, t0), set.id_frame(e, t0), h, w);
  }
  auto valid = [&](int e, int t) { return t <= set.episodes[e].length; };

  // ---- open loop ---------------------------------------------------------------------------
  worldmodel::DreamBatch dream(model, ne, device);
  dream.set_sampling(worldmodel::Sampling::kMode);
  dream.set_precision(o.precision);
  for (int e = 0; e < ne; ++e) {
    auto [f, act] = context(set, e, t0, c);
    dream.reset(e, f, act);
  }
  Acc model_acc(hz, nb), still_acc(hz, nb), phys_acc(hz, nb), finder_acc(hz, nb), cv_acc(hz, nb);
  // Constant velocity needs the frame before the last context frame (none with one frame).
  const bool has_cv = t0 >= 1;
  std::vector<std::vector<Centroid>> cv_prev(ne), cv_last(ne);
  if (has_cv)
    for (int e = 0; e < ne; ++e) {
      cv_prev[e] = id_centroids(set.id_frame(e, t0 - 1), h, w, classes);
      cv_last[e] = id_centroids(set.id_frame(e, t0), h, w, classes);
    }
  std::vector<std::uint8_t> pred_all(static_cast<std::size_t>(ne) * (hz + 1) * fsz);  // [E,H+1,..]
  for (int e = 0; e < ne; ++e)
    std::copy_n(set.frame(e, t0), fsz,
                pred_all.data() + static_cast<std::size_t>(e) * (hz + 1) * fsz);
  std::vector<double> pred_reward(static_cast<std::size_t>(ne) * hz), pred_cont(pred_reward.size());
  auto actions = torch::zeros({ne, a}, torch::kFloat32);
  std::vector<std::uint8_t> pred;
  for (int step = 1; step <= hz; ++step) {
    const int t = t0 + step;  // the true frame predicted
    for (int e = 0; e < ne; ++e)
      std::copy_n(set.action(e, t - 1), a, actions.data_ptr<float>() + e * a);
    dream.tick(actions);
    to_hwc(dream.frames(), pred);
    const auto r = dream.reward(), ct = dream.cont();
    for (int e = 0; e < ne; ++e) {
      const std::uint8_t* p = pred.data() + e * fsz;
      std::copy_n(p, fsz, pred_all.data() + (static_cast<std::size_t>(e) * (hz + 1) + step) * fsz);
      pred_reward[e * hz + step - 1] = r[e].item<float>();
      pred_cont[e * hz + step - 1] = ct[e].item<float>();
      if (!valid(e, t)) continue;
      const std::uint8_t* truth = set.frame(e, t);
      const auto true_c = id_centroids(set.id_frame(e, t), h, w, classes);
      model_acc.add_frame(step - 1, truth, p, h, w);
      model_acc.add_bodies(step - 1, true_c, finders[e].find(p, h, w), tracked);
      model_acc.reward_abs[step - 1] +=
          std::abs(pred_reward[e * hz + step - 1] -
                   set.rewards[static_cast<std::size_t>(e) * set.steps + t - 1]);
      const std::uint8_t* still = set.frame(e, t0);
      still_acc.add_frame(step - 1, truth, still, h, w);
      still_acc.add_bodies(step - 1, true_c, finders[e].find(still, h, w), tracked);
      const std::uint8_t* shifted = set.perturbed_frame(e, t);
      phys_acc.add_frame(step - 1, truth, shifted, h, w);
      phys_acc.add_bodies(step - 1, true_c, finders[e].find(shifted, h, w), tracked);
      finder_acc.add_bodies(step - 1, true_c, finders[e].find(truth, h, w), tracked);
      if (has_cv)
        cv_acc.add_bodies(step - 1, true_c, extrapolate(cv_prev[e], cv_last[e], step), tracked);
    }
    report_progress("open loop", step, hz);
  }

  // ---- motion (Physics-IQ) -----------------------------------------------------------------
  const int thr = static_cast<int>(std::lround(o.motion_threshold * 255.0f));
  MotionAcc mo_model, mo_still, mo_phys;
  for (int e = 0; e < ne; ++e) {
    const int last = std::min(hz, set.episodes[e].length - t0);
    std::vector<const std::uint8_t*> tr, pm, ps, pp;
    for (int s = 0; s <= last; ++s) {
      tr.push_back(set.frame(e, t0 + s));
      pm.push_back(pred_all.data() + (static_cast<std::size_t>(e) * (hz + 1) + s) * fsz);
      ps.push_back(set.frame(e, t0));
      pp.push_back(s == 0 ? set.frame(e, t0) : set.perturbed_frame(e, t0 + s));
    }
    add_motion(mo_model, tr, pm, px, thr);
    add_motion(mo_still, tr, ps, px, thr);
    add_motion(mo_phys, tr, pp, px, thr);
  }

  // Strip: per policy's first episode, rows true / model / nothing moves; columns the horizons.
  std::vector<int> strip_eps;
  for (int e = 0; e < ne; ++e)
    if (e == 0 || set.episodes[e].policy != set.episodes[e - 1].policy) strip_eps.push_back(e);
  if (!o.strip_dir.empty()) {
    std::vector<std::vector<const std::uint8_t*>> rows;
    for (int e : strip_eps) {
      std::vector<const std::uint8_t*> tr, pm, st;
      for (int hh : hs) {
        const bool ok = valid(e, t0 + hh);
        tr.push_back(ok ? set.frame(e, t0 + hh) : nullptr);
        pm.push_back(ok ? pred_all.data() + (static_cast<std::size_t>(e) * (hz + 1) + hh) * fsz
                        : nullptr);
        st.push_back(ok ? set.frame(e, t0) : nullptr);
      }
      rows.push_back(tr), rows.push_back(pm), rows.push_back(st);
    }
    write_strip(o.strip_dir + "/strip_open_loop.png", rows, h, w);
  }

  // ---- teacher forced (one step) -------------------------------------------------------------
  const int tf_cols = std::min(hz, 10);
  std::vector<std::uint8_t> tf_frames(strip_eps.size() * tf_cols * fsz, 0);  // strip: model rows
  Acc tf_model(1, nb), tf_persist(1, nb), tf_cv(1, nb);
  for (int e = 0; e < ne; ++e) {
    auto [f, act] = context(set, e, t0, c);
    dream.reset(e, f, act);
  }
  auto truth_nchw = torch::empty({ne, h, w, 3}, torch::kUInt8);
  for (int t = t0; t < t0 + hz; ++t) {
    for (int e = 0; e < ne; ++e)
      std::copy_n(set.action(e, t), a, actions.data_ptr<float>() + e * a);
    dream.tick(actions);
    to_hwc(dream.frames(), pred);
    for (int e = 0; e < ne; ++e) {
      std::copy_n(set.frame(e, t + 1), fsz, truth_nchw.data_ptr<std::uint8_t>() + e * fsz);
      if (!valid(e, t + 1)) continue;
      const auto true_c = id_centroids(set.id_frame(e, t + 1), h, w, classes);
      const std::uint8_t* p = pred.data() + e * fsz;
      tf_model.add_frame(0, set.frame(e, t + 1), p, h, w);
      tf_model.add_bodies(0, true_c, finders[e].find(p, h, w), tracked);
      tf_persist.add_frame(0, set.frame(e, t + 1), set.frame(e, t), h, w);
      const auto it = std::find(strip_eps.begin(), strip_eps.end(), e);
      if (it != strip_eps.end() && t - t0 < tf_cols)
        std::copy_n(p, fsz,
                    tf_frames.data() + ((it - strip_eps.begin()) * tf_cols + (t - t0)) * fsz);
      tf_persist.add_bodies(0, true_c, finders[e].find(set.frame(e, t), h, w), tracked);
      if (t >= 1)
        tf_cv.add_bodies(0, true_c,
                         extrapolate(id_centroids(set.id_frame(e, t - 1), h, w, classes),
                                     id_centroids(set.id_frame(e, t), h, w, classes), 1),
                         tracked);
    }
    dream.observe(truth_nchw.permute({0, 3, 1, 2}).contiguous(), torch::ones({ne}, torch::kBool));
    report_progress("teacher forced", t - t0 + 1, hz);
  }

  if (!o.strip_dir.empty()) {  // rows true / model (one step from the true previous frame)
    std::vector<std::vector<const std::uint8_t*>> rows;
    for (std::size_t i = 0; i < strip_eps.size(); ++i) {
      std::vector<const std::uint8_t*> tr, pm;
      for (int c = 0; c < tf_cols; ++c) {
        const bool ok = valid(strip_eps[i], t0 + c + 1);
        tr.push_back(ok ? set.frame(strip_eps[i], t0 + c + 1) : nullptr);
        pm.push_back(ok ? tf_frames.data() + (i * tf_cols + c) * fsz : nullptr);
      }
      rows.push_back(tr), rows.push_back(pm);
    }
    write_strip(o.strip_dir + "/strip_teacher_forced.png", rows, h, w);
  }

  // ---- reward, return and termination --------------------------------------------------------
  std::vector<double> ret_true(ne, 0), ret_pred(ne, 0);
  int term_total = 0, term_correct = 0, term_pos = 0, term_pos_found = 0;
  for (int e = 0; e < ne; ++e) {
    Imagined im;
    for (int s = 1; s <= hz; ++s) {
      im.add(pred_reward[e * hz + s - 1], pred_cont[e * hz + s - 1]);
      const int t = t0 + s;
      if (!valid(e, t)) continue;
      ret_true[e] += set.rewards[static_cast<std::size_t>(e) * set.steps + t - 1];
      const bool term = set.terminated[static_cast<std::size_t>(e) * set.steps + t - 1] != 0;
      const bool said = pred_cont[e * hz + s - 1] < 0.5;
      ++term_total;
      term_correct += term == said;
      term_pos += term;
      term_pos_found += term && said;
    }
    ret_pred[e] = im.ret;
  }
  std::vector<std::string> policy_order;
  for (const auto& ep : set.episodes)
    if (std::find(policy_order.begin(), policy_order.end(), ep.policy) == policy_order.end())
      policy_order.push_back(ep.policy);
  json per_policy = json::object();
  std::vector<double> mean_true, mean_pred;
  for (const auto& p : policy_order) {
    double st = 0, sp = 0;
    int n = 0;
    for (int e = 0; e < ne; ++e)
      if (set.episodes[e].policy == p) st += ret_true[e], sp += ret_pred[e], ++n;
    mean_true.push_back(st / n);
    mean_pred.push_back(sp / n);
    per_policy[p] = {{"return_bullet", st / n}, {"return_model", sp / n}, {"episodes", n}};
  }
  double ret_err = 0;
  for (int e = 0; e < ne; ++e) ret_err += std::abs(ret_pred[e] - ret_true[e]);
  const bool has_termination = std::any_of(scene->reward.begin(), scene->reward.end(),
                                           [](const auto& r) { return r.terminate; }) ||
                               !scene->terminations.empty();

  // ---- decisions -----------------------------------------------------------------------------
  json decisions = json::object();
  if (o.decisions > 0) {
    const int k = o.candidates, l = o.plan_steps;
    // The dream's returns: the planners' own scoring (DreamPlanModel, undiscounted: rewards
    // weighted by the running continue product), by the reward head or the scene's reward on
    // the predicted poses.
    DreamPlanModel dream(model, k, device);
    dream.set_precision(o.precision);
    if (o.decision_reward == "poses") dream.set_pose_reward(*scene);
    std::vector<float> markers(scene->markers.size() * 3);
    const bool has_expert = policy_kinds(*scene).size() > 1;
    int count = 0, rank_count = 0;
    double agree = 0, regret = 0, rho_sum = 0, chance = 0;
    std::vector<double> regrets;
    json points = json::array();    // per decision: where, and both worlds' returns per candidate
    double lost = 0, at_stake = 0;  // sums over decisions: Bullet return lost by the pick, spread
    for (int e = 0; e < ne; ++e) {
      for (int d = 0; d < o.decisions; ++d) {
        const int td = t0 + (d + 1) * spacing;
        if (td + 1 > set.episodes[e].length) break;  // the episode is over
        // Bullet: the episode replayed to td, saved exactly.
        sim::World world(scene, set.episodes[e].seed);
        const auto& prefix = set.episodes[e].prefix_actions;  // a recorded episode's window
        for (std::size_t t = 0; t < prefix.size() / a; ++t)
          world.step(std::span(prefix.data() + t * a, a));
        for (int t = 0; t < td; ++t) world.step(std::span(set.action(e, t), a));
        const sim::WorldState saved = world.save_state();
        // Candidates: the expert's plan from here, perturbations of it, and random ones.
        std::mt19937_64 rng(set.episodes[e].seed * 1315423911ull + d);
        std::normal_distribution<float> noise(0.0f, 0.4f);
        std::uniform_real_distribution<float> unif(-1.0f, 1.0f);
        std::vector<float> cand(static_cast<std::size_t>(k) * l * a, 0.0f);  // [K, L, A]
        std::vector<float> expert_plan(static_cast<std::size_t>(l) * a, 0.0f);
        if (has_expert) {
          auto expert = make_policy("expert", scene, 1, set.episodes[e].seed);
          expert->reset(0, set.episodes[e].seed);
          for (int s = 0; s < l; ++s) {
            act_on_world(*expert, world, std::span(expert_plan).subspan(s * a, a));
            world.step(std::span(expert_plan).subspan(s * a, a));
          }
        }
        for (int i = 0; i < k; ++i) {
          const bool from_expert = has_expert && i < k / 2;
          std::vector<float> dir(a);
          for (auto& v : dir) v = unif(rng);
          for (int s = 0; s < l; ++s)
            for (int j = 0; j < a; ++j) {
              float v = from_expert ? expert_plan[s * a + j] + (i == 0 ? 0.0f : noise(rng))
                                    : dir[j] + 0.3f * noise(rng);
              cand[(static_cast<std::size_t>(i) * l + s) * a + j] = std::clamp(v, -1.0f, 1.0f);
            }
        }
        // Bullet returns (exact restore for each candidate).
        std::vector<double> rb(k, 0), rm(k, 0);
        for (int i = 0; i < k; ++i) {
          world.restore_state(saved);
          for (int s = 0; s < l; ++s) {
            const auto res =
                world.step(std::span(cand.data() + (static_cast<std::size_t>(i) * l + s) * a, a));
            rb[i] += res.reward;
            if (res.terminated || res.truncated) break;
          }
        }
        // Dream returns: one context, forked into K slots, one batched step per tick.
        auto [f, act] = context(set, e, td, c);
        dream.set_root(f, act);
        world.marker_positions(markers);  // the goal, as a goal-conditioned agent is told it
        dream.set_markers(markers);
        dream.score(cand, k, l, 1.0f, rm);
        // The model's pick against Bullet (decision_check.hpp: ties broken uniformly at random).
        const DecisionCheck dc = check_decision(rm, rb);
        agree += dc.top1;
        chance += dc.chance_top1;
        regret += dc.regret;
        regrets.push_back(dc.regret);
        lost += dc.regret * dc.stakes;
        at_stake += dc.stakes;
        points.push_back({{"episode", e}, {"tick", td}, {"bullet", rb}, {"model", rm}});
        if (std::isfinite(dc.spearman)) rho_sum += dc.spearman, ++rank_count;
        ++count;
      }
      report_progress("decisions", e + 1, ne);
    }
    decisions = {{"decision_points", count},
                 {"candidates", k},
                 {"reward", o.decision_reward},
                 {"plan_steps", l},
                 {"top1_agreement", count ? json(agree / count) : json(nullptr)},
                 {"chance_top1", count ? json(chance / count) : json(nullptr)},
                 {"normalised_regret", count ? json(regret / count) : json(nullptr)},
                 {"regrets", regrets},
                 {"regret_of_stakes", at_stake > 0 ? json(lost / at_stake) : json(nullptr)},
                 {"points", points},
                 {"spearman", rank_count ? json(rho_sum / rank_count) : json(nullptr)}};
  }

  // ---- the report ------------------------------------------------------------------------------
  json seeds = json::object();
  if (o.data.empty()) {
    for (std::size_t p = 0; p < policy_order.size(); ++p) {
      const std::uint64_t base = o.eval.seed + p * kFidelityPolicyStride;
      seeds[policy_order[p]] = {base, base + o.eval.episodes_per_policy - 1};
    }
  } else {  // a recorded dataset: its episodes' lowest and highest seeds
    std::uint64_t lo = set.episodes.front().seed, hi = lo;
    for (const auto& ep : set.episodes) lo = std::min(lo, ep.seed), hi = std::max(hi, ep.seed);
    seeds[policy_order.front()] = {lo, hi};
  }
  json episodes = json::array();
  for (int e = 0; e < ne; ++e)
    episodes.push_back({{"policy", set.episodes[e].policy},
                        {"seed", set.episodes[e].seed},
                        {"length", set.episodes[e].length},
                        {"return_bullet", ret_true[e]},
                        {"return_model", ret_pred[e]}});
  const json model_motion = mo_model.to_json(), phys_motion = mo_phys.to_json();
  auto ratio = [](const json& num, const json& den) {
    return num.is_number() && den.is_number() && den.get<double>() > 0
               ? json(num.get<double>() / den.get<double>())
               : json(nullptr);
  };
  json report = {
      {"parallax_fidelity", 1},
      {"scene", scene->name},
      {"model",
       {{"description", o.model_description},
        {"sha256", o.model_sha256},
        {"family", info.family},
        {"context_frames", c},
        {"parameters", info.parameters},
        {"config", json::parse(info.config_json, nullptr, false)}}},
      {"eval",
       {{"policies", policy_order},
        {"episodes_per_policy", o.data.empty() ? o.eval.episodes_per_policy : ne},
        {"episodes", ne},
        {"data", o.data.empty() ? json(nullptr) : json(o.data)},
        {"data_start", o.data.empty() ? json(nullptr) : json(o.data_start)},
        {"seed", o.eval.seed},
        {"seeds", seeds},
        {"horizon", hz},
        {"steps", set.steps},
        {"threads", sim::resolve_threads(o.eval.threads)},
        {"torch_threads", torch::get_num_threads()},
        {"device", o.device},
        {"precision", worldmodel::to_string(o.precision)},
        {"perturbation",
         {{"position_m", o.eval.perturb_position_m}, {"yaw_deg", o.eval.perturb_yaw_deg}}},
        {"motion_threshold", o.motion_threshold}}},
      {"horizons", hs},
      {"open_loop",
       {{"model", model_acc.to_json(hs, *scene, tracked, true)},
        {"nothing-moves", still_acc.to_json(hs, *scene, tracked, false)},
        {"physical-variance", phys_acc.to_json(hs, *scene, tracked, false)},
        {"constant-velocity",
         has_cv ? json{{"bodies", cv_acc.to_json(hs, *scene, tracked, false)["bodies"]}}
                : json(nullptr)}}},
      {"teacher_forced",
       {{"model", tf_model.to_json({1}, *scene, tracked, false)},
        {"persistence", tf_persist.to_json({1}, *scene, tracked, false)},
        {"constant-velocity", {{"bodies", tf_cv.to_json({1}, *scene, tracked, false)["bodies"]}}}}},
      {"motion",
       {{"model", model_motion},
        {"nothing-moves", mo_still.to_json()},
        {"physical-variance", phys_motion},
        {"model_over_physical_variance",
         {{"spatial_iou", ratio(model_motion["spatial_iou"], phys_motion["spatial_iou"])},
          {"spatiotemporal_iou",
           ratio(model_motion["spatiotemporal_iou"], phys_motion["spatiotemporal_iou"])},
          {"weighted_spatial_iou",
           ratio(model_motion["weighted_spatial_iou"], phys_motion["weighted_spatial_iou"])},
          {"masked_mse", ratio(phys_motion["masked_mse"], model_motion["masked_mse"])}}}}},
      {"returns",
       {{"mean_abs_error", ne ? ret_err / ne : 0.0},
        {"pearson", number(pearson(ret_true, ret_pred))},
        {"spearman", number(spearman(ret_true, ret_pred))},
        {"per_policy", per_policy},
        {"policy_ranking_preserved", same_ranking(mean_true, mean_pred)}}},
      {"termination",
       has_termination
           ? json{{"accuracy", term_total ? json(static_cast<double>(term_correct) / term_total)
                                          : json(nullptr)},
                  {"terminations", term_pos},
                  {"terminations_predicted", term_pos_found},
                  {"steps", term_total}}
           : json(nullptr)},
      {"decisions", decisions},
      {"body_finder_validation", finder_acc.to_json(hs, *scene, tracked, false)["bodies"]},
      {"episodes", episodes},
      {"versions", {{"parallax", "0.2.0"}, {"torch", TORCH_VERSION}}}};
  return report;
}

}  // namespace parallax::agents
