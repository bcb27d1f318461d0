// Episodes from the rollout engine (episode_recorder.hpp).
#include "parallax/agents/episode_recorder.hpp"

#include <stdexcept>

namespace parallax::agents {

EpisodeRecorder::EpisodeRecorder(const Rollout& rollout) : open_(rollout.num_envs()) {
  if (rollout.ids().empty())
    throw std::invalid_argument(
        "EpisodeRecorder: the rollout must render ids (RolloutOptions::ids)");
  for (int i = 0; i < rollout.num_envs(); ++i) begin(rollout, i);
}

void EpisodeRecorder::begin(const Rollout& rollout, int env) {
  worldmodel::Episode& e = open_[static_cast<std::size_t>(env)];
  e = worldmodel::Episode{};
  e.seed = rollout.worlds().episode_seeds()[static_cast<std::size_t>(env)];
  push_frame(rollout, env);
}

void append_frame(worldmodel::Episode& e, const std::uint8_t* rgb, const std::uint8_t* ids,
                  std::span<const float> poses, int height, int width) {
  const std::size_t frame = static_cast<std::size_t>(height) * width;
  const std::size_t o = e.observations.size();
  e.observations.resize(o + 3 * frame);
  for (std::size_t p = 0; p < frame; ++p)
    for (std::size_t c = 0; c < 3; ++c) e.observations[o + c * frame + p] = rgb[p * 3 + c];
  e.ids.insert(e.ids.end(), ids, ids + frame);
  e.poses.insert(e.poses.end(), poses.begin(), poses.end());
}

// Appends env's current frame, ids and poses.
void EpisodeRecorder::push_frame(const Rollout& rollout, int env) {
  const std::size_t frame = static_cast<std::size_t>(rollout.height()) * rollout.width();
  const std::size_t k = rollout.scene().bodies.size();
  const auto i = static_cast<std::size_t>(env);
  append_frame(open_[i], rollout.frames().data() + i * frame * 3, rollout.ids().data() + i * frame,
               rollout.worlds().poses().subspan(i * k * 7, k * 7), rollout.height(),
               rollout.width());
}

std::vector<worldmodel::Episode>& EpisodeRecorder::record(const Rollout& rollout) {
  done_.clear();
  const int a = rollout.action_size();
  const auto actions = rollout.actions();
  for (const RolloutStep& r : rollout.last()) {
    const int i = r.env;
    if (r.reset) {  // the previous step ended this env's episode: a new one starts here
      begin(rollout, i);
      continue;
    }
    worldmodel::Episode& e = open_[static_cast<std::size_t>(i)];
    e.actions.insert(e.actions.end(), actions.begin() + i * a, actions.begin() + (i + 1) * a);
    e.rewards.push_back(r.reward);
    e.terminations.push_back(r.terminated ? 1 : 0);
    e.truncations.push_back(r.truncated ? 1 : 0);
    e.steps += 1;
    push_frame(rollout, i);
    if (r.terminated || r.truncated) done_.push_back(std::move(e));
  }
  return done_;
}

}  // namespace parallax::agents
