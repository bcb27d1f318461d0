// ModelConfig presets and JSON (de)serialisation. No torch here: this TU compiles fast.
#include "parallax/worldmodel/config.hpp"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace parallax::worldmodel {

int ModelConfig::final_channels() const {
  // Stage i has cnn_depth * 2^i channels, capped at 8 * cnn_depth.
  return cnn_depth * std::min(1 << (cnn_stages - 1), 8);
}

int conv_stages_for(int height, int width) {
  int stages = 0;
  while (height % 2 == 0 && width % 2 == 0 && std::min(height, width) / 2 >= 4) {
    height /= 2;
    width /= 2;
    ++stages;
  }
  return stages;
}

namespace {

void validate(const ModelConfig& c, const std::string& source) {
  auto fail = [&](const std::string& field, int value, const std::string& expect) {
    throw std::runtime_error(source + ": field '" + field + "' = " + std::to_string(value) +
                             ", expected " + expect);
  };
  if (c.channels != 3) fail("channels", c.channels, "3 (RGB)");
  if (c.height <= 0 || c.width <= 0) fail("height", c.height, "positive frame sizes");
  const int stages = conv_stages_for(c.height, c.width);
  if (stages < 2) {
    fail("height", c.height,
         "a frame of at least 16x16 pixels with sides divisible by 4 (width " +
             std::to_string(c.width) + ")");
  }
  if (c.cnn_stages != stages) {
    fail("cnn_stages", c.cnn_stages, std::to_string(stages) + " for this frame size");
  }
  if (c.action_size <= 0) fail("action_size", c.action_size, "> 0");
  if (c.deter <= 0) fail("deter", c.deter, "> 0");
  if (c.stoch_groups <= 0) fail("stoch_groups", c.stoch_groups, "> 0");
  if (c.stoch_classes < 2) fail("stoch_classes", c.stoch_classes, ">= 2");
  if (c.hidden <= 0) fail("hidden", c.hidden, "> 0");
  if (c.cnn_depth <= 0) fail("cnn_depth", c.cnn_depth, "> 0");
  if (!(c.unimix >= 0.0f && c.unimix < 1.0f)) {
    throw std::runtime_error(source + ": field 'unimix' = " + std::to_string(c.unimix) +
                             ", expected a value in [0, 1)");
  }
}

}  // namespace

std::string ModelConfig::to_json_string() const {
  nlohmann::json j = {{"preset", preset},
                      {"height", height},
                      {"width", width},
                      {"channels", channels},
                      {"action_size", action_size},
                      {"deter", deter},
                      {"stoch_groups", stoch_groups},
                      {"stoch_classes", stoch_classes},
                      {"hidden", hidden},
                      {"cnn_depth", cnn_depth},
                      {"cnn_stages", cnn_stages},
                      {"unimix", unimix},
                      {"free_nats", free_nats},
                      {"kl_dyn_scale", kl_dyn_scale},
                      {"kl_rep_scale", kl_rep_scale}};
  return j.dump();
}

ModelConfig ModelConfig::from_json_string(const std::string& text, const std::string& source) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(source + ": model config is not valid JSON (" + e.what() + ")");
  }
  if (!j.is_object()) throw std::runtime_error(source + ": model config is not a JSON object");
  ModelConfig c;
  auto get_int = [&](const char* key, int& out) {
    if (!j.contains(key) || !j[key].is_number_integer()) {
      throw std::runtime_error(source + ": model config field '" + key +
                               "' is missing or not an integer");
    }
    out = j[key].get<int>();
  };
  auto get_float = [&](const char* key, float& out) {
    if (!j.contains(key) || !j[key].is_number()) {
      throw std::runtime_error(source + ": model config field '" + key +
                               "' is missing or not a number");
    }
    out = j[key].get<float>();
  };
  if (!j.contains("preset") || !j["preset"].is_string()) {
    throw std::runtime_error(source + ": model config field 'preset' is missing or not a string");
  }
  c.preset = j["preset"].get<std::string>();
  get_int("height", c.height);
  get_int("width", c.width);
  get_int("channels", c.channels);
  get_int("action_size", c.action_size);
  get_int("deter", c.deter);
  get_int("stoch_groups", c.stoch_groups);
  get_int("stoch_classes", c.stoch_classes);
  get_int("hidden", c.hidden);
  get_int("cnn_depth", c.cnn_depth);
  get_int("cnn_stages", c.cnn_stages);
  get_float("unimix", c.unimix);
  get_float("free_nats", c.free_nats);
  get_float("kl_dyn_scale", c.kl_dyn_scale);
  get_float("kl_rep_scale", c.kl_rep_scale);
  validate(c, source);
  return c;
}

ModelConfig make_preset(const std::string& preset, int height, int width, int action_size) {
  ModelConfig c;
  c.preset = preset;
  c.height = height;
  c.width = width;
  c.action_size = action_size;
  if (preset == "tiny") {
    c.deter = 128, c.hidden = 128, c.stoch_groups = 16, c.stoch_classes = 16, c.cnn_depth = 16;
  } else if (preset == "small") {
    c.deter = 512, c.hidden = 512, c.stoch_groups = 32, c.stoch_classes = 32, c.cnn_depth = 32;
  } else if (preset == "base") {
    c.deter = 1024, c.hidden = 768, c.stoch_groups = 32, c.stoch_classes = 32, c.cnn_depth = 48;
  } else {
    throw std::invalid_argument("unknown model preset '" + preset +
                                "', expected tiny, small or base");
  }
  c.cnn_stages = conv_stages_for(height, width);
  try {
    validate(c, "preset '" + preset + "'");
  } catch (const std::runtime_error& e) {
    throw std::invalid_argument(e.what());
  }
  return c;
}

}  // namespace parallax::worldmodel
