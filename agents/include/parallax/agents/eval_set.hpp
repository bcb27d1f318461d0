// Evaluation sets for fidelity: short episodes generated in Bullet, deterministic for a seed, with
// the true frames, body ids, actions and rewards, and the same episodes replayed from a slightly
// perturbed start (the physical-variance reference).
//
// Seeds: policy p (0-based, in the order given) uses the seeds seed + p * 100000 + e for its
// episodes e = 0 .. E_p - 1. The default base kFidelitySeedBase = 1,000,000,000 is disjoint from
// every collection used for training the shipped models (seeds below 1,000,000; see the cards).
// Reference: docs/fidelity.md.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "parallax/sim/scene.hpp"

namespace parallax::agents {

inline constexpr std::uint64_t kFidelitySeedBase = 1000000000ull;
inline constexpr std::uint64_t kFidelityPolicyStride = 100000ull;

struct EvalSetOptions {
  std::vector<std::string> policies;  // empty = every policy kind of the scene (agents/policy.hpp)
  int episodes_per_policy = 8;
  int steps = 31;  // control steps recorded after frame 0
  std::uint64_t seed = kFidelitySeedBase;
  int threads = 0;                    // 0 = all cores
  float perturb_position_m = 0.001f;  // physical variance: start shifted by this much ...
  float perturb_yaw_deg = 0.5f;       // ... and turned by this much (dynamic, kinematic bodies)
};

struct EvalEpisode {
  std::string policy;
  std::uint64_t seed = 0;
  int length = 0;  // valid control steps (<= steps): the episode ended at this step or later
  // A window of a recorded episode: the actions from the reset to frame 0 of the set
  // [start_step, A] (empty: frame 0 is the reset). World(scene, seed) stepped with them is
  // exactly at frame 0 (decision points replay them).
  std::vector<float> prefix_actions{};
  int start_step = 0;
};

struct EvalSet {
  int num_episodes = 0, steps = 0, height = 0, width = 0, action_size = 0, num_bodies = 0;
  std::vector<EvalEpisode> episodes;    // [E]
  std::vector<std::uint8_t> frames;     // [E, steps + 1, H, W, 3] u8 true frames
  std::vector<std::uint8_t> ids;        // [E, steps + 1, H, W] u8 (renderer ids: body k = k + 1)
  std::vector<std::uint8_t> perturbed;  // [E, steps + 1, H, W, 3] u8 same actions, perturbed start
  std::vector<std::uint8_t> perturbed_ids;  // [E, steps + 1, H, W] u8
  std::vector<float> actions;            // [E, steps, A] f32, action t leads from frame t to t + 1
  std::vector<float> rewards;            // [E, steps] f32 reward of action t
  std::vector<std::uint8_t> terminated;  // [E, steps] 0/1 (true at the step that ended it)
  std::vector<float> colors;             // [E, K, 3] f32 each episode's body colours

  const std::uint8_t* frame(int e, int t) const {
    return frames.data() + ((static_cast<std::size_t>(e) * (steps + 1) + t) * height * width * 3);
  }
  const std::uint8_t* perturbed_frame(int e, int t) const {
    return perturbed.data() +
           ((static_cast<std::size_t>(e) * (steps + 1) + t) * height * width * 3);
  }
  const std::uint8_t* id_frame(int e, int t) const {
    return ids.data() + ((static_cast<std::size_t>(e) * (steps + 1) + t) * height * width);
  }
  const std::uint8_t* perturbed_id_frame(int e, int t) const {
    return perturbed_ids.data() +
           ((static_cast<std::size_t>(e) * (steps + 1) + t) * height * width);
  }
  const float* action(int e, int t) const {
    return actions.data() + (static_cast<std::size_t>(e) * steps + t) * action_size;
  }
};

// Runs every policy in Bullet and renders. Throws std::invalid_argument for an unknown policy
// or non-positive sizes.
EvalSet make_eval_set(std::shared_ptr<const sim::SceneModel> scene, const EvalSetOptions& options);

// The evaluation set of a recorded dataset (`parallax collect`, `parallax plan --record`): steps
// start_step .. start_step + options.steps of its first `max_episodes` episodes (0: all; episodes
// that end before start_step + 1 are skipped), replayed in Bullet from
// each episode's seed with its recorded actions (frames, ids, rewards as make_eval_set renders
// them) and from a perturbed copy of the window's first state (options.perturb_*). Each episode's
// `policy` is the dataset's algorithm name. Every replayed frame must equal the recorded one, so
// that decision points replayed from the seed are the recorded states. Throws std::runtime_error
// with one line naming the folder (and the episode, step or field) for a dataset of another scene,
// frame or action size, or one whose replay differs (another scene version); StoreError for a bad
// store.
EvalSet make_eval_set_from_dataset(std::shared_ptr<const sim::SceneModel> scene,
                                   const std::filesystem::path& dataset_dir, int max_episodes,
                                   int start_step, const EvalSetOptions& options);

}  // namespace parallax::agents
