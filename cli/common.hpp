// The CLI toolkit shared by every subcommand: atomic text output, thread flags, progress lines.
#pragma once

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>

namespace parallax::cli {

// An output file written through `<file>.tmp-<pid>` in the same folder, flushed to disk and
// renamed over `file` by commit(): readers see the old file or the whole new one, never a
// half-written one. Destroyed without commit() (an error on the way), the temporary is removed.
class AtomicFile {
 public:
  explicit AtomicFile(const std::filesystem::path& file);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const std::string& s);
  void commit();

 private:
  std::string path_, tmp_;
  std::FILE* f_ = nullptr;
};

// The whole of `text` as one AtomicFile.
void write_text_atomic(const std::filesystem::path& file, const std::string& text);

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
