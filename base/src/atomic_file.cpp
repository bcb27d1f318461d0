#include "parallax/base/atomic_file.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <system_error>

namespace parallax::base {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const fs::path& target, const char* step, const std::string& reason) {
  throw AtomicWriteError(target.string() + ": cannot write (" + step + ": " + reason + ")");
}

void fsync_path(const fs::path& p, int flags) {
  const int fd = ::open(p.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

}  // namespace

AtomicReplace::AtomicReplace(fs::path target) : target_(std::move(target)) {
  const fs::path dir = target_.has_parent_path() ? target_.parent_path() : fs::path(".");
  // Appended piece by piece: GCC 12 at -O3 reports a false -Wrestrict on "." + std::string.
  std::string name = ".";
  name += target_.filename().string();
  name += ".tmp.";
  name += std::to_string(static_cast<long>(::getpid()));
  tmp_ = dir / name;
}

AtomicReplace::~AtomicReplace() {
  if (!done_) {
    std::error_code ignored;
    fs::remove(tmp_, ignored);
  }
}

void AtomicReplace::commit() {
  // The data first, then the name: a crash after the rename never shows an empty file.
  fsync_path(tmp_, O_RDONLY);
  if (::rename(tmp_.c_str(), target_.c_str()) != 0) fail(target_, "rename", std::strerror(errno));
  done_ = true;
  fsync_path(target_.has_parent_path() ? target_.parent_path() : fs::path("."),
             O_RDONLY | O_DIRECTORY);
}

AtomicFile::AtomicFile(fs::path target) : replace_(std::move(target)) {
  f_ = std::fopen(replace_.temp_path().c_str(), "wb");
  if (!f_) fail(replace_.target(), "create", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (f_) std::fclose(f_);
}

void AtomicFile::write(std::string_view bytes) {
  if (std::fwrite(bytes.data(), 1, bytes.size(), f_) != bytes.size())
    fail(replace_.target(), "write", std::strerror(errno));
}

void AtomicFile::commit() {
  const bool flushed = std::fflush(f_) == 0;
  const int err = errno;
  const bool closed = std::fclose(f_) == 0;
  f_ = nullptr;
  if (!flushed || !closed) fail(replace_.target(), "write", std::strerror(flushed ? errno : err));
  replace_.commit();
}

void write_file_atomic(const fs::path& file, std::string_view bytes) {
  AtomicFile out(file);
  out.write(bytes);
  out.commit();
}

}  // namespace parallax::base
