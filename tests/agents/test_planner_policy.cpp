// A planner as a policy (PlannerPolicy): driven by the rollout engine it makes the decisions of
// `parallax plan --world dream` (run_plan) with the same options and seed, action for action; an
// env's actions do not depend on N or the other envs (staggered or not); the stagger's decision
// ticks follow from the episode seed; refusals name what is wrong.
// torch first: c10 defines a glog-style CHECK that would replace Catch's (last one wins).
#include <torch/torch.h>
#undef CHECK
#include <catch2/catch.hpp>

#include <cmath>

#include "parallax/agents/arena.hpp"
#include "parallax/agents/dream_agents.hpp"
#include "parallax/agents/planner_policy.hpp"
#include "parallax/agents/rollout.hpp"
#include "pose_checkpoint.hpp"
#include "random_latent.hpp"
#include "small_unet.hpp"

namespace {

namespace ag = parallax::agents;
namespace wm = parallax::worldmodel;

std::shared_ptr<const parallax::sim::SceneModel> push_scene() {
  return std::make_shared<const parallax::sim::SceneModel>(parallax::sim::resolve_scene("push"));
}

// A random latent with a pose head (pusher, cube): every plan's return differs, so equal
// decisions are not an accident of ties.
std::shared_ptr<wm::WorldModel> pose_latent(const parallax::sim::SceneModel& scene) {
  return parallax::testing::random_latent(scene, 31, [](wm::LatentConfig& c) {
    c.pose_bodies = {"pusher", "cube"};
  });
}

using parallax::testing::small_unet;

// The fast planner's scoring on a small search: K 16, H 6, 2 iterations, a decision every 3.
ag::PlannerPolicyOptions small_options() {
  auto o = ag::fast_planner_options();
  o.planner.candidates = 16;
  o.planner.horizon = 6;
  o.planner.iterations = 2;
  o.planner.elites = 4;
  o.planner.seed = 9;
  o.replan_every = 3;
  return o;
}

// Steps a one-policy rollout `ticks` times; returns every env's actions per tick [T][N * A].
std::vector<std::vector<float>> drive(ag::Rollout& rollout, int ticks) {
  std::vector<std::vector<float>> out;
  for (int t = 0; t < ticks; ++t) {
    rollout.step();
    const auto a = rollout.actions();
    out.emplace_back(a.begin(), a.end());
  }
  return out;
}

}  // namespace

TEST_CASE("planner policy decides as parallax plan in the dream action for action",
          "[planner_policy]") {
  const auto scene = push_scene();
  // The fast planner's model and scoring; a two-frame `unet` with its reward head; a pose-space
  // model (its network a constant: the cube drifts, so plans' returns differ by more than ties).
  const int kind = GENERATE(0, 1, 2);
  const bool frames_model = kind == 1, pose_model = kind == 2;
  INFO((frames_model ? "unet, reward head" : pose_model ? "pose-space model" : "latent, poses"));
  const auto model = frames_model ? small_unet(*scene) : pose_latent(*scene);
  auto po = small_options();
  if (frames_model) {
    po.pose_reward = po.proprioception = false;
    po.contact_gate = po.reach = po.reach_behind = 0.0;
  }
  std::shared_ptr<const ag::PoseDynamics> dynamics;
  if (pose_model) {
    const float bias[3] = {0.3f, 0.1f, 0.05f};
    const auto path = parallax::testing::constant_model(std::filesystem::temp_directory_path(),
                                                        "planner_policy_pose.pt", bias);
    dynamics = ag::PoseDynamics::load(path);
    std::filesystem::remove(path);
    po = ag::pose_planner_options();
    po.planner = small_options().planner;
    po.replan_every = small_options().replan_every;
  }
  const int ticks = 14, a = scene->action_size();
  const std::uint64_t seed = 4242;

  // run_plan, one episode, the true frame every tick (resync 1: closed loop on real frames).
  ag::PlanRunOptions o;
  o.planner = po.planner;
  o.world = "dream";
  o.episodes = 1;
  o.seed = seed;
  o.replan_every = po.replan_every;
  o.resync_every = 1;
  o.max_steps = ticks;
  o.pose_reward = po.pose_reward;
  o.contact_gate = po.contact_gate;
  o.proprioception = po.proprioception;
  o.reach = po.reach;
  o.reach_behind = po.reach_behind;
  o.pose_model = dynamics;
  std::vector<float> planned;
  o.record = [&](wm::Episode&& e) { planned = e.actions; };
  const auto report = ag::run_plan(scene, pose_model ? nullptr : model, o);
  REQUIRE(report.episodes.size() == 1u);
  const int steps = report.episodes[0].steps;
  REQUIRE(planned.size() == static_cast<std::size_t>(steps) * a);
  CHECK(report.latency_ms.size() == static_cast<std::size_t>((steps + 2) / 3));

  // The rollout engine, one env with the same seed, the planner as its policy.
  ag::Rollout rollout(scene, {.num_envs = 1, .seed = seed, .threads = 1});
  auto policy = pose_model ? std::make_unique<ag::PlannerPolicy>(scene, dynamics, po, 1)
                           : std::make_unique<ag::PlannerPolicy>(scene, model, po, 1);
  auto* p = policy.get();
  rollout.set_policy(std::move(policy), "planner");
  CHECK(rollout.policy_name() == "planner");
  const auto acted = drive(rollout, steps);
  double ret = 0;
  for (int t = 0; t < steps; ++t) {
    INFO("tick " << t);
    CHECK(std::equal(acted[t].begin(), acted[t].end(), planned.begin() + t * a));
  }
  ret = rollout.last()[0].ret;
  CHECK(ret == report.episodes[0].ret);
  CHECK(p->decision_ms().size() == report.latency_ms.size());
  CHECK(p->imagined_return(0) != 0.0);
}

TEST_CASE("planner policy acts per episode seed and not per env count with or without stagger",
          "[planner_policy]") {
  const auto scene = push_scene();
  const auto model = pose_latent(*scene);
  const int ticks = 9, a = scene->action_size();
  for (bool stagger : {false, true}) {
    INFO("stagger " << stagger);
    auto po = small_options();
    po.stagger = stagger;
    // Two envs (episode seeds 70 and 71) against one env with seed 71: env 1's actions there
    // are the single env's.
    ag::Rollout two(scene, {.num_envs = 2, .seed = 70, .threads = 1});
    two.set_policy(std::make_unique<ag::PlannerPolicy>(scene, model, po, 2), "planner");
    ag::Rollout one(scene, {.num_envs = 1, .seed = 71, .threads = 1});
    auto policy = std::make_unique<ag::PlannerPolicy>(scene, model, po, 1);
    auto* p = policy.get();
    one.set_policy(std::move(policy), "planner");
    std::vector<int> decided;
    for (int t = 0; t < ticks; ++t) {
      two.step();
      one.step();
      if (p->last_decisions() == 1) decided.push_back(t);
      CHECK(std::equal(one.actions().begin(), one.actions().end(), two.actions().begin() + a));
    }
    // Decisions: at 0, then after the first interval (R - seed % R = 3 - 71 % 3 = 1 staggered,
    // R = 3 not), then every R.
    const std::vector<int> expected =
        stagger ? std::vector<int>{0, 1, 4, 7} : std::vector<int>{0, 3, 6};
    CHECK(decided == expected);
  }
}

TEST_CASE("planner policy knows its own pusher while the arena's dream hides it",
          "[planner_policy]") {
  // Pure dreaming (resync 0): the arena tells the agent the true state of the episode's start
  // only; the planner's own pusher moves by its actions, which it knows, and by nothing else
  // (kinematic): where it thinks the pusher is must be where Bullet has it.
  const auto scene = push_scene();
  const auto model = pose_latent(*scene);
  ag::Arena arena(scene, model,
                  {.num_envs = 1, .seed = 12, .threads = 1, .mode = ag::ArenaMode::kDream});
  auto policy = std::make_unique<ag::PlannerPolicy>(scene, model, small_options(), 1);
  auto* p = policy.get();
  arena.set_policy(std::move(policy), "planner");
  const int pusher = scene->body_index("pusher");
  std::vector<float> start;
  double moved = 0;
  for (int t = 0; t < 12; ++t) {
    const float* truth = arena.worlds().poses().data() + static_cast<std::size_t>(pusher) * 7;
    const float bx = truth[0], by = truth[1];  // Bullet's pusher before this tick's action
    arena.tick();
    const auto xy = p->own_position(0);  // as the agent knew it when it acted this tick
    REQUIRE(xy.size() == 2u);
    INFO("tick " << t);
    CHECK(std::abs(xy[0] - bx) < 1e-5);
    CHECK(std::abs(xy[1] - by) < 1e-5);
    if (t == 0) start = xy;
    moved = std::max<double>(moved, std::hypot(xy[0] - start[0], xy[1] - start[1]));
  }
  // Not a still pusher (the start, which the arena keeps telling it, would pass the checks).
  CHECK(moved > 0.02);
}

TEST_CASE("planner policy refuses what it cannot do", "[planner_policy]") {
  const auto scene = push_scene();
  const auto model = pose_latent(*scene);
  {
    // A pose-space model: the frame readers' options and bf16 are refused by name.
    const float still[3] = {0, 0, 0};
    const auto path = parallax::testing::constant_model(std::filesystem::temp_directory_path(),
                                                        "planner_policy_refuse.pt", still);
    const auto dynamics = ag::PoseDynamics::load(path);
    std::filesystem::remove(path);
    auto pp = ag::pose_planner_options();
    pp.contact_gate = 0.09;
    CHECK_THROWS_WITH(ag::PlannerPolicy(scene, dynamics, pp, 1), Catch::Contains("contact gate"));
    pp = ag::pose_planner_options();
    pp.precision = wm::Precision::kBF16;
    CHECK_THROWS_WITH(ag::PlannerPolicy(scene, dynamics, pp, 1), Catch::Contains("f32"));
    CHECK_THROWS_WITH(ag::PlannerPolicy(scene, std::shared_ptr<const ag::PoseDynamics>(),
                                        ag::pose_planner_options(), 1),
                      Catch::Contains("needs a model"));
    CHECK_NOTHROW(ag::PlannerPolicy(scene, dynamics, ag::pose_planner_options(), 2));
  }
  auto po = small_options();
  po.replan_every = 7;
  CHECK_THROWS_WITH(ag::PlannerPolicy(scene, model, po, 1), Catch::Contains("replan every"));
  po = small_options();
  po.planner.finalists = 2;
  CHECK_THROWS_WITH(ag::PlannerPolicy(scene, model, po, 1), Catch::Contains("judge"));
  po = small_options();
  po.pose_reward = false;
  CHECK_THROWS_WITH(ag::PlannerPolicy(scene, model, po, 1), Catch::Contains("reach shaping"));
  CHECK_THROWS_WITH(ag::PlannerPolicy(scene, std::shared_ptr<wm::WorldModel>(), small_options(), 1),
                    Catch::Contains("needs a model"));
  CHECK_THROWS_WITH(ag::PlannerPolicy(scene, model, small_options(), 0),
                    Catch::Contains("at least one env"));
  ag::PlannerPolicy p(scene, model, small_options(), 1);
  p.reset(0, 1);
  std::vector<float> act(2);
  ag::PolicyInput blind;
  blind.num_envs = 1, blind.action_size = 2;
  CHECK_THROWS_WITH(p.act(blind, act), Catch::Contains("needs the perceived frames"));
  CHECK_THROWS_WITH(p.reset(1, 1), Catch::Contains("env 1 out of range"));
}
