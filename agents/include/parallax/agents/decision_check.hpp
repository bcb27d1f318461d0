// How well one model ranked the same K plans that Bullet also scored, at one decision point: the
// measure behind `parallax fidelity`'s decision figures and `parallax plan --verify`.
//
// The model's pick is its best plan; a tie among its best is broken uniformly at random, so
// agreement and regret are averaged over the tied set (a model that cannot tell the plans apart
// scores exactly chance_top1). Normalised regret of a pick i: (best - bullet_i) / (best - worst)
// in Bullet, 0 when Bullet ties every plan. Reference: docs/fidelity.md ("Decisions").
#pragma once

#include <span>

namespace parallax::agents {

struct DecisionCheck {
  double top1 = 0;         // probability that the model's pick is a Bullet-best plan
  double chance_top1 = 0;  // the same for a pick uniformly at random (Bullet-best plans / K)
  double regret = 0;       // expected normalised regret in Bullet of the model's pick, [0, 1]
  double stakes = 0;       // best - worst Bullet return
  double spearman = 0;     // Spearman's rho of model against Bullet returns (NaN: a side ties all)
};

// `model` and `bullet` are the K returns of the same plans (K >= 1; NaN in `model` ranks last).
// Throws std::invalid_argument when the sizes differ or are 0.
DecisionCheck check_decision(std::span<const double> model, std::span<const double> bullet);

}  // namespace parallax::agents
