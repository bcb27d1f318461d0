#include "input_script.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace parallax::viewer {
namespace {

constexpr const char* kKeys[] = {"left", "right", "up", "down", "w", "a", "s",
                                 "d",    "space", "r",  "p",    "t", "f", "n"};

bool parse_int(const std::string& s, long long lo, long long hi, long long& v) {
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  return !s.empty() && ec == std::errc() && end == s.data() + s.size() && v >= lo && v <= hi;
}

}  // namespace

bool is_script_key(const std::string& name) {
  return std::find(std::begin(kKeys), std::end(kKeys), name) != std::end(kKeys);
}

std::vector<ScriptCommand> parse_input_script(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot open the input script");
  std::vector<ScriptCommand> out;
  std::string text;
  int line = 0, last_frame = 0;
  while (std::getline(in, text)) {
    ++line;
    if (const auto hash = text.find('#'); hash != std::string::npos) text.resize(hash);
    std::istringstream ss(text);
    std::vector<std::string> w;
    for (std::string t; ss >> t;) w.push_back(t);
    if (w.empty()) continue;
    const std::string where = path + ":" + std::to_string(line) + ": ";
    auto fail = [&](const std::string& what) { throw std::invalid_argument(where + what); };
    ScriptCommand c;
    c.line = line;
    long long f = 0;
    if (!parse_int(w[0], 0, 100000000, f))
      fail("frame must be a whole number >= 0, found '" + w[0] + "'");
    if (f < last_frame)
      fail("frame " + w[0] + " comes before the previous line's " + std::to_string(last_frame));
    c.frame = last_frame = static_cast<int>(f);
    if (w.size() < 2) fail("missing a command after frame " + w[0]);
    c.verb = w[1];
    c.args.assign(w.begin() + 2, w.end());
    const auto& a = c.args;
    auto nargs = [&](std::size_t lo, std::size_t hi) {
      if (a.size() < lo || a.size() > hi)
        fail("'" + c.verb + "' takes " +
             (lo == hi ? std::to_string(lo) : std::to_string(lo) + " to " + std::to_string(hi)) +
             " argument(s), found " + std::to_string(a.size()));
    };
    auto number = [&](const std::string& s, long long lo, long long hi, const char* what) {
      long long v = 0;
      if (!parse_int(s, lo, hi, v))
        fail(std::string(what) + " must be a whole number in [" + std::to_string(lo) + ", " +
             std::to_string(hi) + "], found '" + s + "'");
      c.numbers.push_back(static_cast<float>(v));
    };
    const std::string& v = c.verb;
    if (v == "key") {
      nargs(2, 2);
      if (!is_script_key(a[0])) fail("unknown key '" + a[0] + "'");
      if (a[1] != "down" && a[1] != "up")
        fail("key state must be down or up, found '" + a[1] + "'");
    } else if (v == "tap") {
      nargs(1, 1);
      if (!is_script_key(a[0])) fail("unknown key '" + a[0] + "'");
    } else if (v == "drag") {
      nargs(4, 4);
      for (const auto& s : a) number(s, 0, 4096, "drag coordinate");
    } else if (v == "teleop" || v == "overlays") {
      nargs(1, 1);
      if (a[0] != "on" && a[0] != "off") fail(v + " must be on or off, found '" + a[0] + "'");
    } else if (v == "mode") {
      nargs(1, 2);
      if (a[0] == "resync") {
        if (a.size() != 2) fail("'mode resync' needs N, the ticks between resyncs");
        number(a[1], 1, 100000, "resync interval");
      } else if (a[0] == "mirror" || a[0] == "dream") {
        nargs(1, 1);
      } else {
        fail("unknown mode '" + a[0] + "' (mirror | resync N | dream)");
      }
    } else if (v == "policy" || v == "snapshot" || v == "screenshot" || v == "model") {
      nargs(1, 1);
    } else if (v == "env") {
      nargs(1, 1);
      number(a[0], 0, 63, "env");
    } else if (v == "record") {
      if (a.empty() || (a[0] == "start" && a.size() != 2) || (a[0] == "stop" && a.size() != 1) ||
          (a[0] != "start" && a[0] != "stop"))
        fail("record takes 'start FILE' or 'stop'");
    } else if (v == "futures") {
      nargs(1, 2);
      number(a[0], 1, 16, "futures");
      if (a.size() == 2 && a[1] != "random" && a[1] != "planner")
        fail("futures source must be random or planner, found '" + a[1] + "'");
    } else if (v == "scene") {
      nargs(1, 2);
    } else if (v == "play" || v == "pause" || v == "step" || v == "reset" || v == "resync" ||
               v == "release" || v == "quit") {
      nargs(0, 0);
    } else {
      fail("unknown command '" + v + "'");
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace parallax::viewer
