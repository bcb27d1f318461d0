// A planner with a judge (Planner::plan(model, judge)): the model searches, the judge decides
// among the model's finalists. Both models here are known quadratics with different optima, so
// every expected value is recomputed from the definitions in planner.hpp: the finalists are the
// highest-return distinct plans of every candidate the model scored, at least the finalist
// distance apart; the judge sees exactly them (their first judge_horizon steps); the plan chosen
// is the judge's best, and best_return() is its return.
// torch first (planner.hpp includes it): c10 defines a glog-style CHECK that would replace Catch's.
#include <torch/types.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "parallax/agents/planner.hpp"

namespace {

namespace ag = parallax::agents;

// return = -sum_h sum_j (a_hj - target_j)^2; records every plan it scored and each return.
class RecordingQuadratic : public ag::PlanModel {
 public:
  RecordingQuadratic(std::vector<float> target, int slots)
      : target_(std::move(target)), slots_(slots) {}
  int action_size() const override { return static_cast<int>(target_.size()); }
  int max_candidates() const override { return slots_; }
  void score(std::span<const float> plans, int k, int l, float,
             std::span<double> returns) override {
    const int a = action_size();
    last_l = l;
    for (int i = 0; i < k; ++i) {
      returns[i] = value(
          plans.subspan(static_cast<std::size_t>(i) * l * a, static_cast<std::size_t>(l) * a));
      seen.emplace_back(plans.begin() + static_cast<std::ptrdiff_t>(i) * l * a,
                        plans.begin() + static_cast<std::ptrdiff_t>(i + 1) * l * a);
      seen_returns.push_back(returns[i]);
    }
  }
  double value(std::span<const float> plan) const {
    const int a = action_size();
    double r = 0;
    for (std::size_t at = 0; at < plan.size(); ++at) {
      const double d = plan[at] - target_[at % a];
      r -= d * d;
    }
    return r;
  }
  std::vector<std::vector<float>> seen;
  std::vector<double> seen_returns;
  int last_l = 0;

 private:
  std::vector<float> target_;
  int slots_;
};

double rms_distance(std::span<const float> x, std::span<const float> y) {
  double d2 = 0;
  for (std::size_t i = 0; i < x.size(); ++i) d2 += (x[i] - y[i]) * static_cast<double>(x[i] - y[i]);
  return std::sqrt(d2 / static_cast<double>(x.size()));
}

ag::PlannerOptions judged_search(int finalists, float distance, int judge_horizon) {
  ag::PlannerOptions o;
  o.kind = ag::PlannerKind::kCem;
  o.candidates = 48;
  o.horizon = 4;
  o.iterations = 3;
  o.elites = 6;
  o.seed = 5;
  o.finalists = finalists;
  o.finalist_distance = distance;
  o.judge_horizon = judge_horizon;
  return o;
}

}  // namespace

TEST_CASE("planner judge picks its best among the model's distinct best plans", "[planner]") {
  const int l = 4, a = 2;
  for (float distance : {0.0f, 0.3f})
    for (int judge_horizon : {0, 2}) {
      INFO("finalist distance " << distance << ", judge horizon " << judge_horizon);
      RecordingQuadratic model({0.5f, -0.3f}, 64), judge({-0.4f, 0.6f}, 4);
      ag::Planner p(judged_search(4, distance, judge_horizon), a);
      p.reset(2);
      const auto chosen_span = p.plan(model, &judge);
      const std::vector<float> chosen(chosen_span.begin(), chosen_span.end());

      // The finalists, from the definition: every plan the model scored (3 iterations of 48),
      // highest return first, ties to the earlier, skipping plans within the distance (or equal).
      REQUIRE(model.seen.size() == 3u * 48u);
      std::vector<int> order(model.seen.size());
      std::iota(order.begin(), order.end(), 0);
      std::stable_sort(order.begin(), order.end(),
                       [&](int x, int y) { return model.seen_returns[x] > model.seen_returns[y]; });
      std::vector<int> expected;
      for (int i : order) {
        if (expected.size() == 4) break;
        bool near = false;
        for (int q : expected) {
          const double d = rms_distance(model.seen[i], model.seen[q]);
          near = near || d == 0.0 || d < distance;
        }
        if (!near) expected.push_back(i);
      }
      REQUIRE(expected.size() == 4u);
      const auto fin = p.last_finalists();
      const auto fin_returns = p.last_finalist_returns();
      REQUIRE(fin.size() == 4u * l * a);
      for (int q = 0; q < 4; ++q) {
        CHECK(std::equal(model.seen[expected[q]].begin(), model.seen[expected[q]].end(),
                         fin.begin() + static_cast<std::ptrdiff_t>(q) * l * a));
        CHECK(fin_returns[q] == model.seen_returns[expected[q]]);
      }
      if (distance > 0.0f)
        for (int x = 0; x < 4; ++x)
          for (int y = x + 1; y < 4; ++y)
            CHECK(rms_distance(fin.subspan(static_cast<std::size_t>(x) * l * a, l * a),
                               fin.subspan(static_cast<std::size_t>(y) * l * a, l * a)) >=
                  distance);

      // The judge saw the finalists (their first judge_horizon steps) and nothing else; the
      // plan chosen is the whole finalist it scores highest.
      const int lj = judge_horizon > 0 ? judge_horizon : l;
      REQUIRE(judge.seen.size() == 4u);
      CHECK(judge.last_l == lj);
      int best = 0;
      for (int q = 0; q < 4; ++q) {
        CHECK(std::equal(judge.seen[q].begin(), judge.seen[q].end(),
                         fin.begin() + static_cast<std::ptrdiff_t>(q) * l * a));
        CHECK(p.last_judge_returns()[q] == judge.value(judge.seen[q]));
        if (judge.seen_returns[q] > judge.seen_returns[best]) best = q;
      }
      CHECK(p.last_judge_pick() == best);
      CHECK(std::equal(chosen.begin(), chosen.end(),
                       fin.begin() + static_cast<std::ptrdiff_t>(best) * l * a));
      CHECK(p.best_return() == judge.seen_returns[best]);
      // With distinct finalists the judge, whose optimum lies far from the model's, prefers
      // another than the model's own best (for this seed; without a distance the finalists are
      // CEM's converged elites, a few hundredths apart, and its pick among them is a toss-up).
      if (distance > 0.0f) CHECK(best != 0);

      // Deterministic for a seed: the same calls choose the same plan.
      RecordingQuadratic model2({0.5f, -0.3f}, 64), judge2({-0.4f, 0.6f}, 4);
      ag::Planner p2(judged_search(4, distance, judge_horizon), a);
      p2.reset(2);
      const auto again = p2.plan(model2, &judge2);
      CHECK(std::vector<float>(again.begin(), again.end()) == chosen);
    }
}

TEST_CASE("planner judge refuses what it cannot do", "[planner]") {
  RecordingQuadratic model({0.5f, -0.3f}, 64), judge({-0.4f, 0.6f}, 4), small({0.0f, 0.0f}, 2);
  RecordingQuadratic one_action({0.0f}, 8);
  ag::Planner plain(judged_search(0, 0.0f, 0), 2);
  CHECK_THROWS_WITH(plain.plan(model, &judge), Catch::Contains("a judge needs finalists"));
  ag::Planner judged(judged_search(4, 0.0f, 0), 2);
  CHECK_THROWS_WITH(judged.plan(model), Catch::Contains("finalists need a judge"));
  CHECK_THROWS_WITH(judged.plan(model, &small), Catch::Contains("the judge holds 2"));
  CHECK_THROWS_WITH(judged.plan(model, &one_action), Catch::Contains("the judge has 1 actions"));
  auto mppi = judged_search(4, 0.0f, 0);
  mppi.kind = ag::PlannerKind::kMppi;
  CHECK_THROWS_WITH(ag::validate(mppi),
                    Catch::Contains("finalists (a judge) need shooting or cem"));
  CHECK_THROWS_WITH(ag::validate(judged_search(4, 0.0f, 5)), Catch::Contains("judge horizon"));
  CHECK_THROWS_WITH(ag::validate(judged_search(4, -0.1f, 0)), Catch::Contains("finalist distance"));
  CHECK_THROWS_WITH(ag::validate(judged_search(-1, 0.0f, 0)), Catch::Contains("finalists must"));
}
