// Whole episodes from the rollout engine, in the episode store's layout (worldmodel::Episode):
// what `parallax collect` writes. Frame t is the observation before action t; an episode ends at
// its terminated or truncated step, and the env's next (autoreset) step starts the next one.
// Reference: docs/store.md.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "parallax/agents/rollout.hpp"
#include "parallax/worldmodel/episode_store.hpp"

namespace parallax::agents {

// Appends one observation to `e`: rgb [H, W, 3] u8 (stored transposed to [3, H, W]), ids [H, W]
// u8 and poses [K, 7]. Shared by the rollout's recorder and the planner's (`plan --record`).
void append_frame(worldmodel::Episode& e, const std::uint8_t* rgb, const std::uint8_t* ids,
                  std::span<const float> poses, int height, int width);

class EpisodeRecorder {
 public:
  // Starts an episode in every env from the rollout's current frames (right after a reset).
  // The rollout must render ids (RolloutOptions::ids).
  explicit EpisodeRecorder(const Rollout& rollout);
  // After each Rollout step: appends every env's step. Returns the episodes that ended at this
  // step, in env order (moved out; their id is left 0 for the caller to number).
  std::vector<worldmodel::Episode>& record(const Rollout& rollout);

 private:
  void begin(const Rollout& rollout, int env);
  void push_frame(const Rollout& rollout, int env);

  std::vector<worldmodel::Episode> open_;  // [N] in flight
  std::vector<worldmodel::Episode> done_;  // ended at the last record()
};

}  // namespace parallax::agents
