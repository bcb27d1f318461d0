// The CLI toolkit shared by every subcommand: atomic text output, thread flags, progress lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "parallax/base/atomic_file.hpp"

namespace parallax::cli {

// Output files: base::AtomicFile (streamed) and write_text_atomic (a whole text), the one
// atomic-write implementation (parallax/base/atomic_file.hpp).
using base::AtomicFile;
inline void write_text_atomic(const std::filesystem::path& file, const std::string& text) {
  base::write_file_atomic(file, text);
}

// JSON text for --json output and report files. Never throws on strings that are not UTF-8 (a
// user's path, say): those bytes are written as U+FFFD instead of failing after the work is done.
std::string json_text(const nlohmann::json& j, int indent = -1);

// A progress line on stderr: "WHAT: STAGE done/total (rate/s, ETA, elapsed) DETAIL", rewritten
// in place on a terminal, one line every 5 s otherwise (and always the last one); silent when
// `quiet`. The rate counts from the first update of a stage, so a resumed run (done > 0 at its
// start) reports its own speed. Libraries report progress through callbacks; the CLI prints.
class ProgressLine {
 public:
  ProgressLine(std::string what, bool quiet);
  void update(const std::string& stage, long long done, long long total,
              const std::string& detail = "");
  void finish();

 private:
  std::string what_;
  bool quiet_, tty_;
  std::chrono::steady_clock::time_point start_, last_print_;
  std::string stage_;
  std::chrono::steady_clock::time_point stage_start_;
  long long stage_first_ = 0;
  bool printed_ = false;
};

// --device: "cpu", or "cuda" where a CUDA device is present; otherwise a UsageError (exit 2).
// Model commands only: defined in device_check.cpp, built into the plugin (it asks LibTorch).
void check_device(const std::string& device);

// "1:05" / "1:02:03"; "--:--" for a negative or non-finite count of seconds.
std::string hms(double seconds);

}  // namespace parallax::cli
