// check_decision (one decision point, a model's returns against Bullet's) and `plan --verify`
// (run_plan scoring each decision's candidates in Bullet from the true state). Expected values
// are worked out by hand from the definitions in decision_check.hpp.
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>
#include <span>

#include "parallax/agents/decision_check.hpp"
#include "parallax/agents/dream_agents.hpp"
#include "parallax/sim/world.hpp"
#include "still_world_model.hpp"

namespace {

namespace ag = parallax::agents;

std::shared_ptr<const parallax::sim::SceneModel> push_scene() {
  return std::make_shared<const parallax::sim::SceneModel>(parallax::sim::resolve_scene("push"));
}

}  // namespace

TEST_CASE("decision check of a model that agrees with Bullet", "[decision]") {
  // Same order: the pick (index 2) is Bullet's best; regret 0; one best of four: chance 1/4.
  const std::vector<double> model{0.1, 0.3, 0.9, 0.2}, bullet{-1.0, 0.5, 2.0, 0.0};
  const auto c = ag::check_decision(model, bullet);
  CHECK(c.top1 == 1.0);
  CHECK(c.chance_top1 == 0.25);
  CHECK(c.regret == 0.0);
  CHECK(c.stakes == 3.0);
  CHECK(c.spearman == Approx(1.0));
}

TEST_CASE("decision check of a wrong pick and of ties", "[decision]") {
  const std::vector<double> bullet{-1.0, 0.5, 2.0, 0.0};
  // The model picks index 1: Bullet gives it 0.5 of a range [-1, 2]: regret (2 - 0.5) / 3.
  const auto wrong = ag::check_decision(std::vector<double>{0.0, 5.0, 1.0, 0.0}, bullet);
  CHECK(wrong.top1 == 0.0);
  CHECK(wrong.regret == Approx(0.5));
  // A model that ties everything picks at random: top-1 is chance, regret the mean
  // ((3 + 1.5 + 0 + 2) / 3) / 4 = 6.5 / 12, Spearman undefined.
  const auto tie = ag::check_decision(std::vector<double>{1.0, 1.0, 1.0, 1.0}, bullet);
  CHECK(tie.top1 == tie.chance_top1);
  CHECK(tie.regret == Approx(6.5 / 12.0));
  CHECK(std::isnan(tie.spearman));
  // Two tied picks (indices 0 and 2): half the time the best; regret (1 + 0) / 2.
  const auto half = ag::check_decision(std::vector<double>{4.0, 1.0, 4.0, 0.0}, bullet);
  CHECK(half.top1 == 0.5);
  CHECK(half.regret == Approx(0.5));
  // NaN ranks last: the pick is index 3 (Bullet 0.0): regret 2 / 3.
  const auto nan = ag::check_decision(std::vector<double>{std::nan(""), -3.0, -2.0, -1.0}, bullet);
  CHECK(nan.regret == Approx(2.0 / 3.0));
  // Bullet ties every plan: nothing is at stake.
  const auto flat =
      ag::check_decision(std::vector<double>{1.0, 2.0}, std::vector<double>{0.5, 0.5});
  CHECK(flat.regret == 0.0);
  CHECK(flat.top1 == 1.0);
  CHECK(flat.stakes == 0.0);
  CHECK_THROWS_AS(ag::check_decision(std::vector<double>{1.0}, bullet), std::invalid_argument);
  CHECK_THROWS_AS(ag::check_decision(std::span<const double>{}, std::span<const double>{}),
                  std::invalid_argument);
}

namespace {

ag::PlanRunOptions small_verified_run(const std::string& world) {
  ag::PlanRunOptions o;
  o.world = world;
  o.planner.kind = ag::PlannerKind::kCem;
  o.planner.candidates = 8;
  o.planner.horizon = 6;
  o.planner.iterations = 2;
  o.planner.elites = 3;
  o.replan_every = 3;
  o.episodes = 2;
  o.seed = 60;
  o.max_steps = 10;
  o.verify = true;
  return o;
}

}  // namespace

// The oracle verified by Bullet: its own returns are Bullet's to the bit, so every decision is
// a perfect one (the pick is Bullet's best, no regret, imagined = verified).
TEST_CASE("plan verify of the oracle finds every decision perfect", "[decision][planner]") {
  const auto scene = push_scene();
  const auto o = small_verified_run("bullet");
  const auto r = ag::run_plan(scene, nullptr, o);
  REQUIRE(r.decisions.size() == r.latency_ms.size());
  REQUIRE(r.decisions.size() == 2 * 4);  // ticks 0, 3, 6, 9 of each episode
  for (const auto& d : r.decisions) {
    CHECK(d.imagined == d.verified);
    CHECK(d.check.top1 == 1.0);
    CHECK(d.check.regret == 0.0);
    CHECK(d.imagined_returns == d.bullet_returns);
    CHECK(d.chosen_plan.size() == 6u * scene->action_size());
    CHECK(d.body_xy.size() == 2 * scene->bodies.size());
  }
  CHECK(r.decisions[1].tick == 3);
  CHECK(r.decisions[4].episode == 1);
  const auto j = r.to_json(o, "push", "");
  CHECK(j["verify"]["decisions"] == 8);
  CHECK(j["verify"]["optimism"].get<double>() == 0.0);
  CHECK(j["per_episode"][1]["verify"]["decisions"] == 4);
}

// A dream that predicts nothing (reward 0 everywhere) ties every candidate: its pick is a Bullet-
// best plan exactly at chance, and what the verifier says the chosen plan earns is what that plan
// earns when played in Bullet from the true state (the episode's recorded actions replayed).
TEST_CASE("plan verify of a still dream: chance top-1 and the chosen plan replayed",
          "[decision][planner]") {
  const auto scene = push_scene();
  auto o = small_verified_run("dream");
  std::vector<parallax::worldmodel::Episode> recorded;
  o.record = [&](parallax::worldmodel::Episode&& e) { recorded.push_back(std::move(e)); };
  const auto r =
      ag::run_plan(scene, std::make_shared<parallax::testing::StillWorldModel>(*scene), o);
  REQUIRE(recorded.size() == 2);
  REQUIRE_FALSE(r.decisions.empty());
  const int a = scene->action_size(), l = o.planner.horizon;
  for (const auto& d : r.decisions) {
    CHECK(d.imagined == 0.0);
    CHECK(d.check.top1 == d.check.chance_top1);
    // Bullet's truth for the chosen plan: replay the episode to the decision, save, restore into
    // a fresh world (the oracle's own procedure) and play the plan.
    parallax::sim::World twin(scene, o.seed + d.episode);
    const auto& acts = recorded[d.episode].actions;
    for (int t = 0; t < d.tick; ++t) twin.step(std::span(acts.data() + t * a, a));
    parallax::sim::World w(scene, o.seed + d.episode);
    w.restore_state(twin.save_state());
    double ret = 0, discount = 1;
    for (int s = 0; s < l; ++s) {
      const auto res = w.step(std::span(d.chosen_plan.data() + s * a, a));
      ret += discount * res.reward;
      discount *= o.planner.gamma;
      if (res.terminated || res.truncated) break;
    }
    CHECK(d.verified == ret);
  }
}
