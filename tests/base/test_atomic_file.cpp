// The one atomic-write helper (parallax/base/atomic_file.hpp): a target is replaced whole or not
// at all, and nothing is left behind on failure.
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "parallax/base/atomic_file.hpp"

namespace fs = std::filesystem;
using parallax::base::AtomicFile;
using parallax::base::AtomicReplace;
using parallax::base::AtomicWriteError;
using parallax::base::write_file_atomic;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// A fresh folder; only files inside (no nested folders), so plain remove() cleans it.
struct Folder {
  fs::path dir = fs::temp_directory_path() /
                 ("parallax_test_base_" + std::to_string(static_cast<long>(::getpid())));
  Folder() {
    clean();
    fs::create_directories(dir);
  }
  ~Folder() { clean(); }
  void clean() {
    if (!fs::exists(dir)) return;
    for (const auto& e : fs::directory_iterator(dir)) fs::remove(e.path());
    fs::remove(dir);
  }
  int entries() const {
    int n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.exists();
    return n;
  }
};

}  // namespace

TEST_CASE("atomic file: commit replaces the whole target", "[base]") {
  Folder f;
  const fs::path target = f.dir / "out.txt";
  write_file_atomic(target, "old");
  CHECK(slurp(target) == "old");
  {
    AtomicFile out(target);
    out.write("new ");
    out.write("text");
    CHECK(slurp(target) == "old");  // not yet committed: readers still see the old file
    out.commit();
  }
  CHECK(slurp(target) == "new text");
  CHECK(f.entries() == 1);  // no temporary left
}

TEST_CASE("atomic file: without commit the target is untouched and the temporary removed",
          "[base]") {
  Folder f;
  const fs::path target = f.dir / "out.txt";
  write_file_atomic(target, "old");
  {
    AtomicReplace r(target);
    // Hidden and in the target's folder, so that the rename cannot cross file systems.
    CHECK(r.temp_path().parent_path() == target.parent_path());
    CHECK(r.temp_path().filename().string().rfind(".out.txt.tmp.", 0) == 0);
    std::ofstream(r.temp_path()) << "half";
    CHECK(f.entries() == 2);
  }
  CHECK(slurp(target) == "old");
  CHECK(f.entries() == 1);
}

TEST_CASE("atomic file: a missing folder is one error line naming the target", "[base]") {
  Folder f;
  const fs::path target = f.dir / "no" / "such" / "out.txt";
  try {
    write_file_atomic(target, "x");
    FAIL("no error");
  } catch (const AtomicWriteError& e) {
    const std::string what = e.what();
    CHECK(what.rfind(target.string() + ": cannot write (", 0) == 0);
    CHECK(what.find('\n') == std::string::npos);
  }
  CHECK(f.entries() == 0);
}
