// Helpers shared by the sim tests: shipped scenes, hashing, simple action sources.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "parallax/sim/scene.hpp"
#include "parallax/sim/world.hpp"

namespace parallax::sim::test {

// A shipped scene from the source tree (the same files the product uses).
inline std::shared_ptr<const SceneModel> shipped(const std::string& name) {
  return std::make_shared<const SceneModel>(
      load_scene(std::string(PARALLAX_SOURCE_DIR) + "/assets/scenes/" + name + ".json"));
}

// A scene from inline JSON text (for analytic tests and bad-input tests).
inline std::shared_ptr<const SceneModel> inline_scene(const std::string& json) {
  return std::make_shared<const SceneModel>(parse_scene(json, "<test>"));
}

// FNV-1a over the raw bytes of floats: any bit difference changes the hash.
inline void fnv(std::uint64_t& h, std::span<const float> v) {
  const auto* p = reinterpret_cast<const unsigned char*>(v.data());
  for (std::size_t i = 0; i < v.size_bytes(); ++i) h = (h ^ p[i]) * 1099511628211ull;
}
inline void fnv(std::uint64_t& h, std::span<const std::uint8_t> v) {
  for (auto b : v) h = (h ^ b) * 1099511628211ull;
}

// Uniform actions in [-1, 1] from a seeded generator.
inline void random_actions(std::mt19937_64& rng, std::span<float> out) {
  for (auto& a : out) a = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2 - 1);
}

inline std::vector<float> poses_of(const World& w) {
  std::vector<float> p(w.scene().bodies.size() * 7);
  w.poses(p);
  return p;
}
inline std::vector<float> velocities_of(const World& w) {
  std::vector<float> p(w.scene().bodies.size() * 6);
  w.velocities(p);
  return p;
}

}  // namespace parallax::sim::test
