// Atomic file replacement: the one implementation behind every file Parallax writes (PNGs,
// trajectories, reports, the episode store's metadata and compaction, checkpoints).
//
// The data goes to a temporary file in the target's folder, `.<name>.tmp.<pid>` (hidden, so that
// a glob for the target's pattern never sees a partial file); commit() flushes it to disk, renames
// it over the target and flushes the folder. Readers see the old file or the whole new one; a
// writer killed before the rename leaves only the temporary. Without commit() (an error on the
// way), the destructor removes the temporary.
// Reference: docs/cli.md.
#pragma once

#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>

namespace parallax::base {

// One line: "<target>: cannot write (<step>: <reason>)".
class AtomicWriteError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// For writers that take a path (libstb, LibTorch, libhdf5): write temp_path(), then commit().
class AtomicReplace {
 public:
  explicit AtomicReplace(std::filesystem::path target);
  ~AtomicReplace();
  AtomicReplace(const AtomicReplace&) = delete;
  AtomicReplace& operator=(const AtomicReplace&) = delete;

  const std::filesystem::path& target() const { return target_; }
  const std::filesystem::path& temp_path() const { return tmp_; }
  // fsync the temporary, rename it over the target, fsync the folder. Throws AtomicWriteError
  // (the temporary is removed then).
  void commit();

 private:
  std::filesystem::path target_, tmp_;
  bool done_ = false;
};

// For streamed output: write() pieces, then commit(). Throws AtomicWriteError.
class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(std::string_view bytes);
  void commit();

 private:
  AtomicReplace replace_;
  std::FILE* f_ = nullptr;
};

// The whole of `bytes` as one AtomicFile. Throws AtomicWriteError.
void write_file_atomic(const std::filesystem::path& file, std::string_view bytes);

}  // namespace parallax::base
