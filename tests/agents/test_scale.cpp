// The search-scaling curves (agents/scale.hpp): the subset estimators against brute-force
// enumeration of every K-subset, the K-list parser, and a small run_scale whose pass@K curve
// never decreases with K and bounds both best-of-K curves.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <functional>

#include "parallax/agents/scale.hpp"
#include "parallax/agents/scale_estimators.hpp"
#include "small_unet.hpp"

namespace {

namespace ag = parallax::agents;

// Every K-subset of {0..n-1}, by recursion (independent of the closed forms under test).
void for_each_subset(int n, int k, const std::function<void(const std::vector<int>&)>& fn) {
  std::vector<int> pick;
  std::function<void(int)> rec = [&](int from) {
    if (static_cast<int>(pick.size()) == k) return fn(pick);
    for (int i = from; i < n; ++i) pick.push_back(i), rec(i + 1), pick.pop_back();
  };
  rec(0);
}

}  // namespace

TEST_CASE("scale estimators equal the average over every K-subset", "[scale]") {
  // Scores with ties (3.0 three times, 1.0 twice), values in [0, 1].
  const std::vector<double> score{3.0, 1.0, 5.0, 3.0, 2.0, 1.0, 3.0, 0.5};
  const std::vector<double> value{1.0, 0.0, 0.0, 0.5, 1.0, 1.0, 0.0, 1.0};
  const std::vector<std::uint8_t> success{0, 1, 0, 0, 1, 0, 0, 1};
  const int n = static_cast<int>(score.size());
  for (int k = 1; k <= n; ++k) {
    INFO("K " << k);
    double best_sum = 0, pass_sum = 0, count = 0;
    for_each_subset(n, k, [&](const std::vector<int>& s) {
      double top = -1e300;
      for (int i : s) top = std::max(top, score[i]);
      // Ties broken uniformly: the mean value of the tied best in this subset.
      double v = 0, ties = 0, any = 0;
      for (int i : s) {
        if (score[i] == top) v += value[i], ties += 1;
        any = std::max<double>(any, success[i]);
      }
      best_sum += v / ties, pass_sum += any, count += 1;
    });
    CHECK(ag::best_of_k(score, value, k) == Approx(best_sum / count).epsilon(1e-12));
    CHECK(ag::pass_at_k(success, k) == Approx(pass_sum / count).epsilon(1e-12));
  }
  // pass@K by hand: n = 4, c = 1, K = 2: 1 - C(3, 2) / C(4, 2) = 1 - 3 / 6.
  CHECK(ag::pass_at_k(std::vector<std::uint8_t>{0, 1, 0, 0}, 2) == Approx(0.5));
  CHECK_THROWS_AS(ag::pass_at_k(success, 0), std::invalid_argument);
  CHECK_THROWS_AS(ag::best_of_k(score, value, n + 1), std::invalid_argument);
}

TEST_CASE("scale bootstrap interval brackets the mean and is reproducible", "[scale]") {
  const std::vector<double> v{0, 1, 1, 0, 1, 1, 1, 0, 1, 1};
  const auto ci = ag::bootstrap_mean_ci(v, 0.95, 2000, 3);
  CHECK(ci.lo < 0.7);
  CHECK(ci.hi > 0.7);
  CHECK(ci.lo >= 0.0);
  CHECK(ci.hi <= 1.0);
  const auto again = ag::bootstrap_mean_ci(v, 0.95, 2000, 3);
  CHECK(again.lo == ci.lo);
  CHECK(again.hi == ci.hi);
  // A constant sample has a zero-width interval.
  const auto flat = ag::bootstrap_mean_ci(std::vector<double>(5, 0.25), 0.95, 100, 1);
  CHECK(flat.lo == 0.25);
  CHECK(flat.hi == 0.25);
}

TEST_CASE("scale K list parses the issue's notation", "[scale]") {
  CHECK(ag::parse_k_list("1,2,4,...,1024") ==
        std::vector<int>{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024});
  CHECK(ag::parse_k_list("1,3,...,81") == std::vector<int>{1, 3, 9, 27, 81});
  CHECK(ag::parse_k_list("5") == std::vector<int>{5});
  for (const char* bad : {"", "1,,2", "2,1", "1,...,8", "1,2,...", "a", "-1", "1,2,...,x"}) {
    INFO("'" << bad << "'");
    CHECK_THROWS_AS(ag::parse_k_list(bad), std::invalid_argument);
  }
}

TEST_CASE("scale pass at K never decreases with K and bounds both best-of-K curves", "[scale]") {
  const auto scene =
      std::make_shared<const parallax::sim::SceneModel>(parallax::sim::resolve_scene("push"));
  const auto model = parallax::testing::small_unet(*scene);
  ag::ScaleOptions o;
  o.ks = {1, 2, 4, 8, 16, 32, 64};
  o.decisions = 3;
  o.horizon = 8;
  o.lead = 4;
  o.batch = 32;
  o.threads = 2;
  o.resamples = 200;
  const auto r = ag::run_scale(scene, model, o);
  REQUIRE(r.curve.size() == o.ks.size());
  REQUIRE(r.decisions.size() == 3);
  for (std::size_t j = 0; j < r.curve.size(); ++j) {
    const auto& p = r.curve[j];
    INFO("K " << p.k);
    CHECK(p.a <= p.b + 1e-12);
    CHECK(p.c <= p.b + 1e-12);
    CHECK(p.b_ci.lo <= p.b + 1e-12);
    CHECK(p.b_ci.hi >= p.b - 1e-12);
    if (j > 0) {
      CHECK(p.b >= r.curve[j - 1].b);
      for (const auto& d : r.decisions) CHECK(d.b[j] >= d.b[j - 1]);
    }
  }
  // At K = n every subset is the whole set: pass@n is 1 exactly when some candidate solved.
  for (const auto& d : r.decisions) CHECK(d.b.back() == (d.solved > 0 ? 1.0 : 0.0));
  // The decisions are solvable by construction (the expert did it in `lead` ticks), and random
  // plans around zero do solve some at lead 4 of horizon 8.
  CHECK(r.curve.back().b > 0);
  // Deterministic: the same options give the same curves.
  const auto again = ag::run_scale(scene, model, o);
  for (std::size_t j = 0; j < r.curve.size(); ++j) {
    CHECK(again.curve[j].a == r.curve[j].a);
    CHECK(again.curve[j].c == r.curve[j].c);
  }
}
