// Replays the scene-loader fuzz corpus (tests/fuzz/corpus/scene: the shipped scenes, the
// fuzzer's finds worth keeping, and every input that once crashed): each file parses or gives
// one SceneError line naming the file. The fuzzer itself: tests/fuzz/build.sh.
#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "parallax/sim/scene.hpp"

TEST_CASE("scene loader: the fuzz corpus replays without a crash", "[scene][fuzz]") {
  const std::filesystem::path dir =
      std::filesystem::path(PARALLAX_SOURCE_DIR) / "tests/fuzz/corpus/scene";
  int files = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    std::ifstream in(e.path(), std::ios::binary);
    const std::string text((std::istreambuf_iterator<char>(in)), {});
    INFO(e.path().filename().string());
    try {
      parallax::sim::parse_scene(text, "corpus.json");
    } catch (const parallax::sim::SceneError& err) {
      const std::string what = err.what();
      INFO(what.substr(0, 300));
      CHECK(what.find('\n') == std::string::npos);
      CHECK(what.rfind("corpus.json: ", 0) == 0);
    }
    ++files;
  }
  CHECK(files >= 5);
}
