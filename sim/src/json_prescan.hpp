// A first pass over a JSON text, before any tree is built, for what nlohmann accepts silently or
// handles by recursion: nesting depth, duplicate keys, numbers beyond double range.
#pragma once

#include <string>

namespace parallax::sim {

// Deepest nesting of arrays and objects a scene may have (the shipped ones use 4). Bounding it
// before the tree exists bounds every later recursion over the tree (printing a value, copying).
inline constexpr int kMaxJsonDepth = 64;

// Empty when `text` is well-formed JSON with at most kMaxJsonDepth levels, no object with the same
// key twice and no number beyond double range; otherwise one line "<path>: <problem>" or
// "malformed JSON: <parser message>" (without the file name). Iterative: any depth is safe.
std::string prescan_json(const std::string& text);

// `s` as is when it has no control characters, else as a JSON string literal (escaped, quoted),
// so that a message that quotes it stays on one line.
std::string printable(const std::string& s);

}  // namespace parallax::sim
