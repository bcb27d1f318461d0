// The scene loader's JSON reader (scene_node.hpp): message helpers and range readers.
#include "scene_node.hpp"

#include <cstdio>

namespace parallax::sim::scene_json {

std::string num(double d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", d);
  return buf;
}
std::string range_text(double lo, double hi) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "[%g, %g]", lo, hi);
  return buf;
}

namespace {

// Without serialising all of the value first: a huge array is not printed whole only to be cut.
// Depth is bounded by the pre-scan.
void brief_into(std::string& out, const Json& v) {
  constexpr std::size_t kLimit = 60;
  if (out.size() > kLimit) return;
  if (v.is_array() || v.is_object()) {
    out += v.is_array() ? '[' : '{';
    bool first = true;
    for (auto it = v.begin(); it != v.end() && out.size() <= kLimit; ++it) {
      if (!first) out += ',';
      first = false;
      if (v.is_object())
        out += Json(it.key()).dump(-1, ' ', false, Json::error_handler_t::replace) + ':';
      brief_into(out, *it);
    }
    out += v.is_array() ? ']' : '}';
  } else if (v.is_string()) {
    const auto& str = v.get_ref<const std::string&>();
    out += Json(str.substr(0, kLimit + 1)).dump(-1, ' ', false, Json::error_handler_t::replace);
  } else {
    out += v.dump();
  }
}
}  // namespace

std::string brief(const Json& v) {
  std::string s;
  brief_into(s, v);
  if (s.size() > 60) s = s.substr(0, 57) + "...";
  return s;
}

double opt_unit(Node& o, const char* key, double def) {
  return o.has(key) ? o.at(key).number_in(0, 1, "a number in [0, 1]") : def;
}
double opt_in(Node& o, const char* key, double def, double lo, double hi, const std::string& what) {
  return o.has(key) ? o.at(key).number_in(lo, hi, what + " in " + range_text(lo, hi)) : def;
}
double size_in_range(Node n) {
  return n.number_in(kMinSize, kMaxSize,
                     "a size > 0 (metres), in " + range_text(kMinSize, kMaxSize));
}

Range1 read_range1(Node n, double min_low, double max_high, const std::string& what) {
  n.known("low, high");
  Range1 r;
  const std::string expected = what + " in " + range_text(min_low, max_high);
  {
    Node lo = n.at("low");
    r.low = lo.number_in(min_low, max_high, expected);
  }
  {
    Node hi = n.at("high");
    r.high = hi.number_in(min_low, max_high, expected);
    if (r.high < r.low) hi.fail("a number >= low (" + num(r.low) + ")");
  }
  n.done();
  return r;
}

Range3 read_range3(Node n, bool is_color) {
  n.known("low, high");
  Range3 r;
  r.low = is_color ? n.at("low").color() : n.at("low").position();
  Node hi = n.at("high");
  r.high = is_color ? hi.color() : hi.position();
  for (int i = 0; i < 3; ++i)
    if (r.high[i] < r.low[i]) hi.fail("each component >= the matching component of low");
  n.done();
  return r;
}

}  // namespace parallax::sim::scene_json
