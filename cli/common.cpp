#include "common.hpp"

#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "commands.hpp"

namespace parallax::cli {

namespace fs = std::filesystem;

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string hms(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "--:--";
  const long s = std::lround(seconds);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, (s / 60) % 60, s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

ProgressLine::ProgressLine(std::string what, bool quiet)
    : what_(std::move(what)),
      quiet_(quiet),
      tty_(::isatty(2) != 0),
      start_(std::chrono::steady_clock::now()),
      last_print_(start_),
      stage_start_(start_) {}

void ProgressLine::update(const std::string& stage, long long done, long long total,
                          const std::string& detail) {
  if (quiet_) return;
  const auto now = std::chrono::steady_clock::now();
  if (stage != stage_) stage_ = stage, stage_start_ = now, stage_first_ = done;
  const bool last = done >= total;
  if (!tty_ && !last && now - last_print_ < std::chrono::seconds(5)) return;
  last_print_ = now;
  const double el = std::chrono::duration<double>(now - stage_start_).count();
  const double rate = el > 0 ? static_cast<double>(done - stage_first_) / el : 0;
  const double eta = rate > 0 ? static_cast<double>(total - done) / rate : NAN;
  std::fprintf(stderr, "%s%s: %s %lld/%lld (%.1f/s, ETA %s, elapsed %s)%s%s%s",
               tty_ ? "\r\033[K" : "", what_.c_str(), stage.c_str(), done, total, rate,
               hms(eta).c_str(), hms(std::chrono::duration<double>(now - start_).count()).c_str(),
               detail.empty() ? "" : " ", detail.c_str(), tty_ ? "" : "\n");
  printed_ = true;
}

void ProgressLine::finish() {
  if (!quiet_ && tty_ && printed_) std::fprintf(stderr, "\n");
}

}  // namespace parallax::cli
