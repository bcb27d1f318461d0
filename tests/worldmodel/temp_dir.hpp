// Scratch folders for tests that link LibTorch.
#pragma once

#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace parallax::worldmodel::testing {

// Not std::filesystem::remove_all: libtorch.so exports its own copy of that symbol, which
// crashes (a null call) on non-empty folders in binaries linked with the LibTorch wheel.
inline void remove_tree(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::vector<fs::path> entries;
  for (const auto& e : fs::directory_iterator(dir)) entries.push_back(e.path());
  for (const auto& f : entries) fs::is_directory(f) ? remove_tree(f) : (void)fs::remove(f);
  fs::remove(dir);
}

// A fresh, empty folder `parallax_test_<suite>_<name>_<pid>` under the system temp folder.
inline std::filesystem::path temp_dir(const std::string& suite, const std::string& name) {
  const auto dir =
      std::filesystem::temp_directory_path() /
      ("parallax_test_" + suite + "_" + name + "_" + std::to_string(static_cast<long>(::getpid())));
  if (std::filesystem::exists(dir)) remove_tree(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

}  // namespace parallax::worldmodel::testing
