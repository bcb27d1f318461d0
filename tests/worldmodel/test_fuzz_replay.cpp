// Replays the episode-store and checkpoint fuzz corpora (tests/fuzz/corpus/store and
// tests/fuzz/corpus/checkpoint: seeds made from collected and trained files, the fuzzers' finds
// worth keeping, every input that once crashed). Each input loads or is refused with one line
// naming the file. The fuzzers themselves: tests/fuzz/build.sh, tests/fuzz/README.md.
#include "torch_catch.hpp"
// (torch first, then Catch: see torch_catch.hpp)
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "../fuzz/store_input.hpp"
#include "parallax/worldmodel/world_model.hpp"
#include "temp_dir.hpp"

namespace {

std::vector<std::filesystem::path> corpus(const std::string& name) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(
           std::filesystem::path(PARALLAX_SOURCE_DIR) / "tests/fuzz/corpus" / name))
    out.push_back(e.path());
  return out;
}

std::string slurp(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST_CASE("episode store: the fuzz corpus replays without a crash", "[store][fuzz]") {
  const auto dir = parallax::worldmodel::testing::temp_dir("fuzz", "store");
  int files = 0, refused = 0;
  for (const auto& p : corpus("store")) {
    const std::string bytes = slurp(p);
    INFO(p.filename().string());
    parallax::fuzz::write_store_input(
        dir.string(), reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size());
    std::string what;
    if (parallax::fuzz::read_store(dir.string(), &what)) {
      ++refused;
      INFO(what.substr(0, 300));
      CHECK(what.find('\n') == std::string::npos);
      CHECK(what.rfind(dir.string(), 0) == 0);
    }
    ++files;
  }
  parallax::worldmodel::testing::remove_tree(dir);
  CHECK(files >= 2);
  CHECK(refused < files);  // the collected seed reads cleanly
}

TEST_CASE("checkpoint loader: the fuzz corpus replays without a crash", "[checkpoint][fuzz]") {
  const auto dir = parallax::worldmodel::testing::temp_dir("fuzz", "checkpoint");
  const std::string file = (dir / "c.pt").string();
  int files = 0, loaded = 0;
  for (const auto& p : corpus("checkpoint")) {
    INFO(p.filename().string());
    std::filesystem::copy_file(p, file, std::filesystem::copy_options::overwrite_existing);
    try {
      (void)parallax::worldmodel::load_world_model(file, torch::kCPU);
      ++loaded;
    } catch (const std::runtime_error& e) {
      const std::string what = e.what();
      INFO(what.substr(0, 300));
      CHECK(what.find('\n') == std::string::npos);
      CHECK(what.rfind("checkpoint '" + file + "'", 0) == 0);
    }
    ++files;
  }
  parallax::worldmodel::testing::remove_tree(dir);
  CHECK(files >= 2);
  CHECK(loaded >= 1);  // the trained seed loads
}
