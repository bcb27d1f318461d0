#include "parallax/agents/motion_metrics.hpp"

#include <algorithm>
#include <cstdlib>

namespace parallax::agents {

namespace {

// Motion mask of frame b relative to frame a: any channel changed by more than `thr`.
void motion_mask(const std::uint8_t* a, const std::uint8_t* b, int px, int thr,
                 std::vector<std::uint8_t>& out) {
  out.resize(px);
  for (int p = 0; p < px; ++p) {
    int d = 0;
    for (int c = 0; c < 3; ++c) d = std::max(d, std::abs(int{a[3 * p + c]} - int{b[3 * p + c]}));
    out[p] = d > thr ? 1 : 0;
  }
}

}  // namespace

MotionScores motion_scores(const std::vector<const std::uint8_t*>& truth,
                           const std::vector<const std::uint8_t*>& pred, int px, int thr) {
  MotionScores out;
  const int t_len = static_cast<int>(std::min(truth.size(), pred.size())) - 1;
  if (t_len < 1) return out;
  std::vector<int> wt(px, 0), wp(px, 0);
  std::vector<std::uint8_t> mt, mp;
  long inter_st = 0, union_st = 0, sq_n = 0;
  double sq = 0;
  for (int t = 1; t <= t_len; ++t) {
    motion_mask(truth[t - 1], truth[t], px, thr, mt);
    motion_mask(pred[t - 1], pred[t], px, thr, mp);
    for (int p = 0; p < px; ++p) {
      wt[p] += mt[p], wp[p] += mp[p];
      inter_st += mt[p] & mp[p];
      union_st += mt[p] | mp[p];
      if (mt[p] | mp[p]) {
        for (int c = 0; c < 3; ++c) {
          const double d = (int{truth[t][3 * p + c]} - int{pred[t][3 * p + c]}) / 255.0;
          sq += d * d;
        }
        sq_n += 3;
      }
    }
  }
  long inter_s = 0, union_s = 0, wmin = 0, wmax = 0;
  for (int p = 0; p < px; ++p) {
    inter_s += (wt[p] > 0) && (wp[p] > 0);
    union_s += (wt[p] > 0) || (wp[p] > 0);
    wmin += std::min(wt[p], wp[p]);
    wmax += std::max(wt[p], wp[p]);
  }
  if (union_s == 0) return out;
  out.defined = true;
  out.spatial_iou = static_cast<double>(inter_s) / union_s;
  out.spatiotemporal_iou = static_cast<double>(inter_st) / union_st;
  out.weighted_spatial_iou = static_cast<double>(wmin) / wmax;
  out.masked_mse = sq / sq_n;
  return out;
}

}  // namespace parallax::agents
