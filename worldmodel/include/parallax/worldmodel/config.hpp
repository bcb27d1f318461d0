// Model configuration of the RSSM world model: every size that defines the network, saved as
// JSON inside each checkpoint so that a checkpoint rebuilds its own model.
#pragma once

#include <string>

namespace parallax::worldmodel {

// Sizes of one RSSM. Build it with make_preset(); the JSON form is what checkpoints store.
struct ModelConfig {
  std::string preset = "custom";  // tiny | small | base | custom
  int height = 64;                // frame height [pixels]
  int width = 64;                 // frame width [pixels]
  int channels = 3;               // RGB only
  int action_size = 0;            // A, from the dataset
  int deter = 0;                  // GRU (deterministic) state size D
  int stoch_groups = 32;          // G categorical latents ...
  int stoch_classes = 32;         // ... of K classes each (stochastic state = G*K one-hot)
  int hidden = 0;                 // width of every MLP layer
  int cnn_depth = 0;              // channels of the first conv stage (doubles per stage, max 8x)
  int cnn_stages = 0;             // stride-2 conv stages (derived from height/width)
  float unimix = 0.01f;           // uniform mixture in every categorical (DreamerV3: 1%)
  float free_nats = 1.0f;         // free bits on the KL [nats per step, summed over groups]
  float kl_dyn_scale = 0.5f;      // dynamics KL weight: KL(sg(post) || prior)
  float kl_rep_scale = 0.1f;      // representation KL weight: KL(post || sg(prior))

  int stoch_size() const { return stoch_groups * stoch_classes; }  // G*K
  int feature_size() const { return deter + stoch_size(); }        // D + G*K
  int final_height() const { return height >> cnn_stages; }        // encoder output rows
  int final_width() const { return width >> cnn_stages; }          // encoder output cols
  int final_channels() const;                                      // encoder output channels
  int embed_size() const { return final_channels() * final_height() * final_width(); }

  std::string to_json_string() const;
  // Parses and validates; throws std::runtime_error naming `source`, the field and the value.
  static ModelConfig from_json_string(const std::string& text,
                                      const std::string& source = "model config");
};

// Presets (exact sizes; documented in docs/worldmodel.md):
//   tiny : deter 128,  hidden 128, stoch 16 x 16, cnn_depth 16
//   small: deter 512,  hidden 512, stoch 32 x 32, cnn_depth 32
//   base : deter 1024, hidden 768, stoch 32 x 32, cnn_depth 48
// Conv stages: halve the frame while both sides are even and the result stays >= 4 pixels
// (64x64 -> 4 stages down to 4x4). Needs at least 2 stages (frames >= 16 px, multiples of 4).
// Throws std::invalid_argument for an unknown preset or unusable sizes.
ModelConfig make_preset(const std::string& preset, int height, int width, int action_size);

// Number of stride-2 conv stages for a frame size (0 if the size is unusable).
int conv_stages_for(int height, int width);

}  // namespace parallax::worldmodel
