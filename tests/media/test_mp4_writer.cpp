#include <catch2/catch.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "parallax/media/mp4_writer.hpp"

using parallax::media::Mp4Options;
using parallax::media::Mp4Writer;

namespace {

std::string run(const std::string& cmd) {
  std::string out;
  if (FILE* f = popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, f)) out += buf;
    pclose(f);
  }
  return out;
}
bool exists(const std::string& p) {
  return std::ifstream(p).good();
}
std::string tmp_path(const std::string& name) {
  return std::string(PARALLAX_BINARY_DIR) + "/media_test_" + name;
}

}  // namespace

TEST_CASE("mp4: a written video decodes with FFmpeg's own tools with its frame count and size",
          "[media]") {
  INFO("ffprobe and ffmpeg come with Debian's ffmpeg package (scripts/bootstrap installs it)");
  REQUIRE(!run("command -v ffprobe").empty());
  const std::string path = tmp_path("grey.mp4");
  std::remove(path.c_str());
  // 13 frames of 96x64: frame i is a flat grey of level 20 * i (so the decode can be checked).
  {
    Mp4Writer w(path, Mp4Options{.width = 96, .height = 64, .fps = 30});
    for (int i = 0; i < 13; ++i)
      w.write(std::vector<std::uint8_t>(96 * 64 * 3, static_cast<std::uint8_t>(20 * i)));
    CHECK(w.frames() == 13);
    CHECK(!exists(path));  // written under <path>.part until finish()
    w.finish();
  }
  REQUIRE(exists(path));
  CHECK(!exists(path + ".part"));
  // ffprobe decodes every frame (-count_frames) and reports codec and size.
  const std::string probe =
      run("ffprobe -v error -count_frames -select_streams v:0 -show_entries "
          "stream=codec_name,width,height,nb_read_frames -of csv=p=0 '" +
          path + "'");
  CHECK(probe == "h264,96,64,13\n");
  // ffmpeg decodes frame 5 to raw RGB: grey 100 within the 4:2:0 / limited-range round trip.
  const std::string raw = tmp_path("grey5.rgb");
  run("ffmpeg -v error -y -i '" + path + "' -vf select='eq(n\\,5)' -frames:v 1 -f rawvideo " +
      "-pix_fmt rgb24 '" + raw + "'");
  std::ifstream in(raw, std::ios::binary);
  std::vector<char> px((std::istreambuf_iterator<char>(in)), {});
  REQUIRE(px.size() == static_cast<std::size_t>(96 * 64 * 3));
  for (std::size_t i = 0; i < px.size(); i += 97)
    CHECK(std::abs(static_cast<int>(static_cast<unsigned char>(px[i])) - 100) <= 3);
  std::remove(path.c_str());
  std::remove(raw.c_str());
}

TEST_CASE("mp4: an abandoned recording leaves no file behind", "[media]") {
  const std::string path = tmp_path("abandoned.mp4");
  {
    Mp4Writer w(path, Mp4Options{.width = 32, .height = 32});
    w.write(std::vector<std::uint8_t>(32 * 32 * 3, 7));
    CHECK(exists(path + ".part"));
  }
  CHECK(!exists(path));
  CHECK(!exists(path + ".part"));
}

TEST_CASE("mp4: bad options and frames are refused by name", "[media]") {
  const std::string path = tmp_path("bad.mp4");
  CHECK_THROWS_WITH(Mp4Writer(path, Mp4Options{.width = 33, .height = 32}),
                    Catch::Contains("width"));
  CHECK_THROWS_WITH(Mp4Writer(path, Mp4Options{.width = 32, .height = 8}),
                    Catch::Contains("height"));
  CHECK_THROWS_WITH(Mp4Writer(path, Mp4Options{.width = 32, .height = 32, .fps = 0}),
                    Catch::Contains("fps"));
  CHECK_THROWS_WITH(Mp4Writer("/nonexistent-dir/x.mp4", Mp4Options{.width = 32, .height = 32}),
                    Catch::Contains("/nonexistent-dir/x.mp4.part"));
  Mp4Writer w(path, Mp4Options{.width = 32, .height = 32});
  CHECK_THROWS_WITH(w.write(std::vector<std::uint8_t>(10)), Catch::Contains("expected 3072"));
  CHECK(!parallax::media::h264_encoder_name().empty());
}
