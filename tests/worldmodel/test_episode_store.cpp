// Episode store: bit-exact round trip, resume, clear errors on bad files, and crash safety
// (a writer process killed with SIGKILL at random moments, or at each step of a commit, always
// leaves a readable dataset).
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>
#include <string>
#include <thread>

#include "crash_points.hpp"  // worldmodel/src: the commit's test seam
#include "parallax/worldmodel/episode_store.hpp"

namespace fs = std::filesystem;
using parallax::worldmodel::DatasetSpec;
using parallax::worldmodel::Episode;
using parallax::worldmodel::EpisodeReader;
using parallax::worldmodel::EpisodeWriter;
using parallax::worldmodel::StoreError;

namespace {

// rm -rf. Not std::filesystem::remove_all: the LibTorch wheel exports its own copy of that
// symbol, which crashes (null call) on non-empty folders when the test links torch.
void remove_tree(const fs::path& p) {
  ::nftw(
      p.c_str(), [](const char* f, const struct stat*, int, struct FTW*) { return ::remove(f); },
      16, FTW_DEPTH | FTW_PHYS);
}

// A fresh, empty folder under the build tree, unique per test process; removed at exit.
fs::path scratch(const std::string& name) {
  static const fs::path root = fs::path(PARALLAX_BINARY_DIR) / "test-scratch" /
                               ("episode_store-" + std::to_string(::getpid()));
  static const struct Cleanup {
    ~Cleanup() { remove_tree(root); }
  } cleanup;
  fs::path p = root / name;
  remove_tree(p);
  fs::create_directories(p);
  return p;
}

DatasetSpec small_spec() {
  DatasetSpec s;
  s.dataset_id = "parallax/test-v0";
  s.scene_name = "test";
  s.scene_json = "{\"name\": \"test\", \"note\": \"quotes \\\" and\\nnewlines\"}";
  s.height = 8;
  s.width = 12;
  s.action_size = 2;
  s.num_bodies = 3;
  s.algorithm_name = "random";
  return s;
}

// Deterministic pseudo-random episode i for `s` (every byte depends on i).
Episode make_episode(const DatasetSpec& s, int i, int steps = -1) {
  std::mt19937_64 rng(1000 + i);
  Episode e;
  e.id = i;
  e.seed = 0xFEDCBA9876543210ull + static_cast<std::uint64_t>(i);  // > 2^63: tests uint64
  e.steps = steps > 0 ? steps : 3 + (i * 7) % 11;
  const std::size_t T = e.steps, H = s.height, W = s.width, A = s.action_size, K = s.num_bodies;
  e.observations.resize((T + 1) * 3 * H * W);
  for (auto& v : e.observations) v = static_cast<std::uint8_t>(rng());
  e.actions.resize(T * A);
  for (auto& v : e.actions) v = std::uniform_real_distribution<float>(-1, 1)(rng);
  e.rewards.resize(T);
  for (auto& v : e.rewards) v = std::normal_distribution<float>(0, 3)(rng);
  e.terminations.assign(T, 0);
  e.truncations.assign(T, 0);
  if (i % 2)
    e.terminations[T - 1] = 1;
  else
    e.truncations[T - 1] = 1;
  e.poses.resize((T + 1) * K * 7);
  for (auto& v : e.poses) v = std::normal_distribution<float>(0, 1)(rng);
  e.ids.resize((T + 1) * H * W);
  for (auto& v : e.ids) v = static_cast<std::uint8_t>(rng() % 5);
  return e;
}

void require_equal(const Episode& a, const Episode& b) {
  REQUIRE(a.id == b.id);
  REQUIRE(a.seed == b.seed);
  REQUIRE(a.steps == b.steps);
  REQUIRE(a.observations == b.observations);
  REQUIRE(a.actions == b.actions);  // bit-exact: float == on identical bits (no NaN here)
  REQUIRE(a.rewards == b.rewards);
  REQUIRE(a.terminations == b.terminations);
  REQUIRE(a.truncations == b.truncations);
  REQUIRE(a.poses == b.poses);
  REQUIRE(a.ids == b.ids);
}

void write_n(const fs::path& dir, const DatasetSpec& s, int n, bool resume = false) {
  EpisodeWriter w(dir, s, resume);
  for (int i = w.num_episodes(); i < n; ++i) w.append(make_episode(s, i));
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
void spit(const fs::path& p, const std::string& text) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << text;
}

// The StoreError message of opening `dir`, or "" if it opened.
std::string open_error(const fs::path& dir) {
  try {
    EpisodeReader r(dir);
    for (int i = 0; i < r.num_episodes(); ++i) r.read(i);
  } catch (const StoreError& e) {
    return e.what();
  }
  return "";
}

// Runs a Python snippet with h5py on `file` (the test python from CMake). True on exit 0.
bool run_python(const std::string& code, const fs::path& file) {
  const fs::path script = file.parent_path() / "mutate.py";
  spit(script, "import sys, h5py, numpy as np\nf = h5py.File(sys.argv[1], 'r+')\n" + code +
                   "\nf.close()\n");
  const std::string cmd =
      std::string(PARALLAX_TEST_PYTHON) + " " + script.string() + " " + file.string();
  return std::system(cmd.c_str()) == 0;
}

}  // namespace

TEST_CASE("episode store: round trip is bit-exact", "[store]") {
  const fs::path dir = scratch("roundtrip");
  const DatasetSpec s = small_spec();
  write_n(dir, s, 5);

  EpisodeReader r(dir);
  REQUIRE(r.num_episodes() == 5);
  std::int64_t steps = 0;
  for (int i = 0; i < 5; ++i) steps += make_episode(s, i).steps;
  REQUIRE(r.total_steps() == steps);
  const DatasetSpec& got = r.spec();
  CHECK(got.dataset_id == s.dataset_id);
  CHECK(got.scene_name == s.scene_name);
  CHECK(got.scene_json == s.scene_json);
  CHECK(got.height == s.height);
  CHECK(got.width == s.width);
  CHECK(got.action_size == s.action_size);
  CHECK(got.num_bodies == s.num_bodies);
  CHECK(got.action_low == -1.0f);
  CHECK(got.action_high == 1.0f);
  CHECK(got.algorithm_name == "random");
  for (int i = 0; i < 5; ++i) {
    CHECK(r.steps(i) == make_episode(s, i).steps);
    CHECK(r.seed(i) == make_episode(s, i).seed);
    require_equal(r.read(i), make_episode(s, i));
  }
  // The data/ folder itself is accepted too (that is what minari.MinariDataset takes).
  EpisodeReader r2(dir / "data");
  REQUIRE(r2.num_episodes() == 5);
}

TEST_CASE("episode store: metadata.json has Minari's fields", "[store]") {
  const fs::path dir = scratch("metadata");
  const DatasetSpec s = small_spec();
  write_n(dir, s, 2);
  const auto m = nlohmann::json::parse(slurp(dir / "data" / "metadata.json"));
  CHECK(m["data_format"] == "hdf5");
  CHECK(m["minari_version"] == "0.5.3");
  CHECK(m["dataset_id"] == "parallax/test-v0");
  CHECK(m["total_episodes"] == 2);
  CHECK(m["total_steps"] == make_episode(s, 0).steps + make_episode(s, 1).steps);
  const auto obs = nlohmann::json::parse(m["observation_space"].get<std::string>());
  CHECK(obs["type"] == "Box");
  CHECK(obs["dtype"] == "uint8");
  CHECK(obs["shape"] == nlohmann::json({3, 8, 12}));
  CHECK(obs["low"][2][7][11] == 0);
  CHECK(obs["high"][0][0][0] == 255);
  const auto act = nlohmann::json::parse(m["action_space"].get<std::string>());
  CHECK(act["dtype"] == "float32");
  CHECK(act["shape"] == nlohmann::json({2}));
  CHECK(act["low"] == nlohmann::json({-1.0, -1.0}));
  CHECK(m["scene_json"] == s.scene_json);
  CHECK(m["scene_name"] == "test");
}

TEST_CASE("episode store: resume continues and refuses a different spec", "[store]") {
  const fs::path dir = scratch("resume");
  const DatasetSpec s = small_spec();
  write_n(dir, s, 2);
  // Without resume, an existing dataset is never overwritten.
  REQUIRE_THROWS_WITH(EpisodeWriter(dir, s, false), Catch::Contains("already exists"));
  {
    DatasetSpec other = s;
    other.width = 16;
    REQUIRE_THROWS_WITH(EpisodeWriter(dir, other, true), Catch::Contains("observation_space"));
    other = s;
    other.scene_json += " ";
    REQUIRE_THROWS_WITH(EpisodeWriter(dir, other, true), Catch::Contains("scene_json"));
    other = s;
    other.algorithm_name = "expert";
    REQUIRE_THROWS_WITH(EpisodeWriter(dir, other, true), Catch::Contains("algorithm_name"));
  }
  {
    EpisodeWriter w(dir, s, true);
    REQUIRE(w.num_episodes() == 2);
  }
  write_n(dir, s, 4, true);
  EpisodeReader r(dir);
  REQUIRE(r.num_episodes() == 4);
  for (int i = 0; i < 4; ++i) require_equal(r.read(i), make_episode(s, i));
}

TEST_CASE("episode store: an uncommitted trailing group is ignored and dropped on resume",
          "[store]") {
  const fs::path dir = scratch("uncommitted");
  const DatasetSpec s = small_spec();
  write_n(dir, s, 2);
  const std::string meta_after_2 = slurp(dir / "data" / "metadata.json");
  write_n(dir, s, 3, true);
  // Simulate a kill after the HDF5 flush of episode 2 but before its metadata.json commit.
  spit(dir / "data" / "metadata.json", meta_after_2);
  {
    EpisodeReader r(dir);
    REQUIRE(r.num_episodes() == 2);
  }
  {
    EpisodeWriter w(dir, s, true);
    REQUIRE(w.num_episodes() == 2);
    Episode e = make_episode(s, 7, 4);  // different content than the dropped episode 2
    e.id = 2;
    w.append(e);
  }
  EpisodeReader r(dir);
  REQUIRE(r.num_episodes() == 3);
  Episode want = make_episode(s, 7, 4);
  want.id = 2;
  require_equal(r.read(2), want);
}

TEST_CASE("episode store: bad dataset_id is refused", "[store]") {
  DatasetSpec s = small_spec();
  s.dataset_id = "no version";
  REQUIRE_THROWS_WITH(EpisodeWriter(scratch("badid"), s, false), Catch::Contains("dataset_id"));
}

TEST_CASE("episode store: bad files get one clear line", "[store]") {
  const DatasetSpec s = small_spec();
  const fs::path base = scratch("bad");
  write_n(base / "good", s, 3);
  auto copy = [&](const std::string& name) {
    fs::copy(base / "good", base / name, fs::copy_options::recursive);
    return base / name;
  };
  REQUIRE(open_error(base / "good").empty());

  SECTION("no dataset") {
    CHECK_THAT(open_error(base / "nothing"), Catch::Contains("no dataset folder"));
  }
  SECTION("truncated hdf5") {
    const fs::path d = copy("truncated");
    const fs::path f = d / "data" / "main_data.hdf5";
    fs::resize_file(f, fs::file_size(f) / 2);
    const std::string e = open_error(d);
    CHECK_THAT(e, Catch::Contains("main_data.hdf5"));
    CHECK_THAT(e, Catch::Contains("truncated") || Catch::Contains("read failed"));
  }
  SECTION("garbage hdf5") {
    const fs::path d = copy("garbage");
    spit(d / "data" / "main_data.hdf5", std::string(4096, 'x'));
    CHECK_THAT(open_error(d), Catch::Contains("main_data.hdf5: open: not a readable HDF5"));
  }
  SECTION("metadata not JSON") {
    const fs::path d = copy("notjson");
    spit(d / "data" / "metadata.json", "{\"data_format\": ");
    CHECK_THAT(open_error(d), Catch::Contains("metadata.json: parse: not valid JSON"));
  }
  SECTION("metadata missing a field") {
    const fs::path d = copy("nofield");
    auto m = nlohmann::json::parse(slurp(d / "data" / "metadata.json"));
    m.erase("action_space");
    spit(d / "data" / "metadata.json", m.dump());
    CHECK_THAT(open_error(d), Catch::Contains("metadata.json: action_space: missing"));
  }
  SECTION("metadata counts more episodes than the file holds") {
    const fs::path d = copy("toomany");
    auto m = nlohmann::json::parse(slurp(d / "data" / "metadata.json"));
    m["total_episodes"] = 4;
    spit(d / "data" / "metadata.json", m.dump());
    CHECK_THAT(open_error(d), Catch::Contains("main_data.hdf5: /episode_3: missing"));
  }
  SECTION("metadata total_steps disagrees") {
    const fs::path d = copy("steps");
    auto m = nlohmann::json::parse(slurp(d / "data" / "metadata.json"));
    m["total_steps"] = m["total_steps"].get<int>() + 1;
    spit(d / "data" / "metadata.json", m.dump());
    CHECK_THAT(open_error(d), Catch::Contains("metadata.json: total_steps"));
  }
  SECTION("observation space not channel-first") {
    const fs::path d = copy("hwc");
    auto m = nlohmann::json::parse(slurp(d / "data" / "metadata.json"));
    m["observation_space"] =
        nlohmann::json(
            {{"type", "Box"}, {"dtype", "uint8"}, {"shape", {8, 12, 3}}, {"low", 0}, {"high", 255}})
            .dump();
    spit(d / "data" / "metadata.json", m.dump());
    CHECK_THAT(open_error(d),
               Catch::Contains("observation_space") && Catch::Contains("expected uint8 [3, H, W]"));
  }
  SECTION("dataset with the wrong shape") {
    const fs::path d = copy("shape");
    REQUIRE(
        run_python("del f['episode_1/actions']\n"
                   "f['episode_1/actions'] = np.zeros((3, 5), np.float32)",
                   d / "data" / "main_data.hdf5"));
    CHECK_THAT(open_error(d), Catch::Contains("/episode_1/actions: shape [3, 5], expected [") &&
                                  Catch::Contains(", 2]"));
  }
  SECTION("dataset with the wrong dtype") {
    const fs::path d = copy("dtype");
    REQUIRE(
        run_python("r = f['episode_2/rewards'][()]\ndel f['episode_2/rewards']\n"
                   "f['episode_2/rewards'] = r.astype(np.float64)",
                   d / "data" / "main_data.hdf5"));
    CHECK_THAT(open_error(d), Catch::Contains("/episode_2/rewards: dtype is not float32"));
  }
  SECTION("flag values other than 0/1") {
    const fs::path d = copy("flags");
    REQUIRE(
        run_python("del f['episode_0/terminations']\n"
                   "f['episode_0/terminations'] = np.full(" +
                       std::to_string(make_episode(s, 0).steps) + ", 7, np.int8)",
                   d / "data" / "main_data.hdf5"));
    CHECK_THAT(open_error(d), Catch::Contains("/episode_0/terminations: value 7 at step 0"));
  }
  SECTION("missing infos") {
    const fs::path d = copy("infos");
    REQUIRE(run_python("del f['episode_1/infos']", d / "data" / "main_data.hdf5"));
    CHECK_THAT(open_error(d), Catch::Contains("/episode_1/infos/poses: missing"));
  }
  SECTION("missing total_steps attribute") {
    const fs::path d = copy("attr");
    REQUIRE(run_python("del f['episode_0'].attrs['total_steps']", d / "data" / "main_data.hdf5"));
    CHECK_THAT(open_error(d), Catch::Contains("/episode_0@total_steps: missing"));
  }
}

TEST_CASE("episode store: a writer killed at random moments leaves a readable dataset",
          "[store][crash]") {
  // Frames big enough that each append takes a few milliseconds, so kills land mid-write too.
  DatasetSpec s = small_spec();
  s.height = 64;
  s.width = 64;
  const fs::path dir = scratch("kill");
  std::mt19937 rng(42);
  int last = 0;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      // Child: resume and append forever, until killed.
      try {
        EpisodeWriter w(dir, s, true);
        for (int i = w.num_episodes();; ++i) w.append(make_episode(s, i, 40));
      } catch (const std::exception& e) {
        std::fprintf(stderr, "writer failed: %s\n", e.what());
        ::_exit(3);
      } catch (...) {
        ::_exit(3);
      }
    }
    std::this_thread::sleep_for(
        std::chrono::milliseconds(std::uniform_int_distribution<int>(1, 250)(rng)));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("child status " << status << (WIFEXITED(status) ? " exited " : " signalled ")
                         << (WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status)));
    REQUIRE(WIFSIGNALED(status));  // it was still writing when killed (exit 3 = it failed)
    if (!fs::exists(dir / "data" / "metadata.json")) continue;  // killed before the first commit
    EpisodeReader r(dir);
    INFO("round " << round << ": " << r.num_episodes() << " episodes");
    REQUIRE(r.num_episodes() >= last);
    last = r.num_episodes();
    for (int i = 0; i < r.num_episodes(); ++i) require_equal(r.read(i), make_episode(s, i, 40));
  }
  CHECK(last >= 3);  // the writer did make progress across the kills
}

namespace {
// The commit step the forked writer dies at (crash_points.hpp).
const char* g_kill_point = "";
int g_kill_index = 0;
void kill_at(const char* point, int index) {
  if (std::string(point) == g_kill_point && index == g_kill_index) ::raise(SIGKILL);
}
}  // namespace

TEST_CASE("episode store: a kill at each step of a commit leaves the committed dataset",
          "[store][crash]") {
  // 20 committed episodes: the root group's symbol table already has several nodes, so the 21st
  // episode's commit rewrites committed metadata in place (the writes a kill can tear).
  const DatasetSpec s = small_spec();
  const fs::path base = scratch("steps");
  {
    EpisodeWriter w(base / "base", s, false);
    for (int i = 0; i < 20; ++i) w.append(make_episode(s, i));
  }
  const fs::path journal = base / "base" / "data" / "main_data.hdf5.undo";
  REQUIRE_FALSE(fs::exists(journal));
  int applies = 0;  // in-place writes of the commit that were torn apart one by one
  std::vector<std::pair<std::string, int>> points = {
      {"journal", 0}, {"applied", 0}, {"counted", 0}};
  for (int k = 0; k < 200; ++k) points.emplace_back("apply", k);
  for (const auto& [point, index] : points) {
    const std::string name = point + "-" + std::to_string(index);
    const fs::path dir = base / name;
    fs::copy(base / "base", dir, fs::copy_options::recursive);
    const pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
      g_kill_point = point.c_str();
      g_kill_index = index;
      parallax::worldmodel::detail::set_crash_hook(kill_at);
      try {
        EpisodeWriter w(dir, s, true);
        w.append(make_episode(s, 20));
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    INFO("killed at " << name << ", child status " << status);
    if (point == "apply" && WIFEXITED(status) && WEXITSTATUS(status) == 0) break;  // no such write
    REQUIRE(WIFSIGNALED(status));
    if (point == "apply") ++applies;
    // The journal is on disk at every step: the file below it may be torn.
    REQUIRE(fs::exists(dir / "data" / "main_data.hdf5.undo"));
    const int committed = point == "counted" ? 21 : 20;
    {
      EpisodeReader r(dir);  // reads the committed file through the journal
      REQUIRE(r.num_episodes() == committed);
      for (int i = 0; i < committed; ++i) require_equal(r.read(i), make_episode(s, i));
    }
    {
      EpisodeWriter w(dir, s, true);  // rolls back (or drops a stale journal) and goes on
      REQUIRE(w.num_episodes() == committed);
      REQUIRE_FALSE(fs::exists(dir / "data" / "main_data.hdf5.undo"));
      for (int i = committed; i < 23; ++i) w.append(make_episode(s, i));
    }
    EpisodeReader r(dir);
    REQUIRE(r.num_episodes() == 23);
    for (int i = 0; i < 23; ++i) require_equal(r.read(i), make_episode(s, i));
    remove_tree(dir);
  }
  CHECK(applies >= 2);  // the commit did rewrite committed bytes, and each write was torn apart
}

TEST_CASE("episode store: a damaged or foreign undo journal is refused in one line",
          "[store][crash]") {
  const DatasetSpec s = small_spec();
  const fs::path dir = scratch("badjournal");
  {
    EpisodeWriter w(dir, s, false);
    for (int i = 0; i < 2; ++i) w.append(make_episode(s, i));
  }
  const fs::path j = dir / "data" / "main_data.hdf5.undo";
  // A journal without entries, in the layout of docs/store.md: magic, commit, committed size,
  // count, then FNV-1a 64 (offset basis 14695981039346656037, prime 1099511628211) of the rest.
  auto journal = [](std::uint64_t commit, std::uint64_t size) {
    std::string b = "PXUNDO01";
    for (std::uint64_t v : {commit, size, std::uint64_t{0}})
      for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    std::uint64_t h = 14695981039346656037ull;
    for (unsigned char c : b) h = (h ^ c) * 1099511628211ull;
    for (int i = 0; i < 8; ++i) b.push_back(static_cast<char>((h >> (8 * i)) & 0xff));
    return b;
  };
  SECTION("damaged") {
    std::string b = journal(2, 100);
    b[20] ^= 1;
    spit(j, b);
    REQUIRE_THROWS_WITH(EpisodeReader(dir), Catch::Contains("main_data.hdf5.undo: checksum"));
    REQUIRE_THROWS_WITH(EpisodeWriter(dir, s, true),
                        Catch::Contains("main_data.hdf5.undo: checksum"));
  }
  SECTION("from a later commit than metadata.json's") {
    spit(j, journal(5, 100));
    REQUIRE_THROWS_WITH(EpisodeReader(dir),
                        Catch::Contains("main_data.hdf5.undo: commit: 5, but metadata.json "
                                        "counts 2 episodes"));
  }
  SECTION("stale: its commit landed") {
    spit(j, journal(1, 100));
    {
      EpisodeReader r(dir);
      REQUIRE(r.num_episodes() == 2);
      require_equal(r.read(1), make_episode(s, 1));
    }
    EpisodeWriter w(dir, s, true);
    REQUIRE(w.num_episodes() == 2);
    REQUIRE_FALSE(fs::exists(j));
  }
}

TEST_CASE("episode store: resume leaves a file another writer holds and its journal alone",
          "[store][crash]") {
  const DatasetSpec s = small_spec();
  const fs::path dir = scratch("heldjournal");
  {
    EpisodeWriter w(dir, s, false);
    for (int i = 0; i < 2; ++i) w.append(make_episode(s, i));
  }
  // A writer in the middle of a commit: it holds the file's lock (as libhdf5 does on open) and its
  // journal is live. Recovery must not roll the file back under it.
  const fs::path main = dir / "data" / "main_data.hdf5";
  const fs::path j = dir / "data" / "main_data.hdf5.undo";
  spit(j, "PXUNDO01 a journal being written");
  const int fd = ::open(main.c_str(), O_RDONLY | O_CLOEXEC);
  REQUIRE(fd >= 0);
  REQUIRE(::flock(fd, LOCK_EX | LOCK_NB) == 0);
  REQUIRE_THROWS_WITH(EpisodeWriter(dir, s, true),
                      Catch::Contains("main_data.hdf5: open: another process is writing it"));
  REQUIRE(fs::exists(j));
  ::close(fd);
  fs::remove(j);
  EpisodeWriter w(dir, s, true);
  REQUIRE(w.num_episodes() == 2);
}
