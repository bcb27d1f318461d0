// bench_store: what a durable commit of one episode costs in the episode store (EpisodeWriter:
// HDF5 groups, gzip-1 frames, flush, undo journal, fsync, metadata.json), against writing the
// same bytes raw to a file and fsync'ing it plus an atomic metadata rewrite, in the same run:
//   {"bench":"store","episodes":E,"steps":T,"size":S,"episode_mb":..,"ms_median":..,"ms_p90":..,
//    "baseline":"raw write + fsync + metadata rename","baseline_ms_median":..,"ms_ratio":..}
// Usage: bench_store [--episodes E] [--steps T] [--size S] [--dir DIR]
#include <fcntl.h>
#include <ftw.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "guarded_main.hpp"
#include "parallax/worldmodel/episode_store.hpp"

namespace {

namespace fs = std::filesystem;
using parallax::worldmodel::DatasetSpec;
using parallax::worldmodel::Episode;
using parallax::worldmodel::EpisodeWriter;
using Clock = std::chrono::steady_clock;

// rm -rf without std::filesystem::remove_all (it crashes in binaries linked with libtorch.so).
void remove_tree(const fs::path& p) {
  ::nftw(
      p.c_str(), [](const char* f, const struct stat*, int, struct FTW*) { return ::remove(f); },
      16, FTW_DEPTH | FTW_PHYS);
}

// An episode that looks like a rendered one to the compressor: flat colours, a few moving
// squares, a little noise (random bytes would not compress at all, a blank frame completely).
Episode make_episode(int id, int T, int S, int K) {
  std::mt19937 rng(static_cast<unsigned>(id));
  Episode e;
  e.id = id;
  e.seed = static_cast<std::uint64_t>(id);
  e.steps = T;
  const std::size_t n = static_cast<std::size_t>(S) * S;
  e.observations.assign(static_cast<std::size_t>(T + 1) * 3 * n, 0);
  e.ids.assign(static_cast<std::size_t>(T + 1) * n, 0);
  for (int t = 0; t <= T; ++t)
    for (int y = 0; y < S; ++y)
      for (int x = 0; x < S; ++x) {
        const int body = (std::abs(x - (t % S)) < 5 && std::abs(y - S / 2) < 5) ? 1 : 0;
        const std::size_t px = static_cast<std::size_t>(y) * S + x;
        e.ids[t * n + px] = static_cast<std::uint8_t>(body);
        for (int c = 0; c < 3; ++c)
          e.observations[(static_cast<std::size_t>(t) * 3 + c) * n + px] =
              static_cast<std::uint8_t>((body ? 200 : 90 + 20 * c) + rng() % 3);
      }
  e.actions.assign(static_cast<std::size_t>(T) * 2, 0.5f);
  e.rewards.assign(static_cast<std::size_t>(T), -1.0f);
  e.terminations.assign(static_cast<std::size_t>(T), 0);
  e.truncations.assign(static_cast<std::size_t>(T), 0);
  e.truncations.back() = 1;
  e.poses.assign(static_cast<std::size_t>(T + 1) * K * 7, 0.25f);
  return e;
}

std::size_t episode_bytes(const Episode& e) {
  return e.observations.size() + e.ids.size() +
         4 * (e.actions.size() + e.rewards.size() + e.poses.size()) + e.terminations.size() +
         e.truncations.size();
}

void write_all(int fd, const void* p, std::size_t n) {
  if (::write(fd, p, n) != static_cast<ssize_t>(n)) throw std::runtime_error("raw write failed");
}

// The floor: the episode's bytes appended to one file and fsync'ed, then a small metadata file
// rewritten atomically (temp, fsync, rename).
double raw_commit_ms(int fd, const fs::path& dir, const Episode& e, int count) {
  const auto t0 = Clock::now();
  write_all(fd, e.observations.data(), e.observations.size());
  write_all(fd, e.ids.data(), e.ids.size());
  write_all(fd, e.actions.data(), 4 * e.actions.size());
  write_all(fd, e.rewards.data(), 4 * e.rewards.size());
  write_all(fd, e.poses.data(), 4 * e.poses.size());
  write_all(fd, e.terminations.data(), e.terminations.size());
  write_all(fd, e.truncations.data(), e.truncations.size());
  if (::fsync(fd) != 0) throw std::runtime_error("raw fsync failed");
  const std::string meta = "{\"total_episodes\": " + std::to_string(count) + "}";
  const fs::path tmp = dir / "meta.tmp";
  const int m = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (m < 0) throw std::runtime_error("cannot create " + tmp.string());
  write_all(m, meta.data(), meta.size());
  ::fsync(m);
  ::close(m);
  fs::rename(tmp, dir / "meta.json");
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}

int int_value(const std::string& flag, const std::string& v) {
  std::size_t used = 0;
  int x = 0;
  try {
    x = std::stoi(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != v.size())
    throw std::invalid_argument(flag + " " + v + ": expected an integer");
  return x;
}

int run(int argc, char** argv) {
  int episodes = 32, steps = 100, size = 64;
  fs::path dir = fs::temp_directory_path() / ("parallax-bench-store-" + std::to_string(::getpid()));
  const std::string usage = "usage: bench_store [--episodes E] [--steps T] [--size S] [--dir DIR]";
  for (int i = 1; i < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag != "--episodes" && flag != "--steps" && flag != "--size" && flag != "--dir")
      throw std::invalid_argument("unknown flag " + flag + " (" + usage + ")");
    if (i + 1 >= argc) throw std::invalid_argument(flag + " needs a value (" + usage + ")");
    const std::string v = argv[i + 1];
    if (flag == "--episodes") {
      episodes = int_value(flag, v);
    } else if (flag == "--steps") {
      steps = int_value(flag, v);
    } else if (flag == "--size") {
      size = int_value(flag, v);
    } else {
      dir = fs::path(v) / ("parallax-bench-store-" + std::to_string(::getpid()));
    }
  }
  if (episodes < 2 || steps < 1 || size < 8 || size > 512)
    throw std::invalid_argument("--episodes >= 2, --steps >= 1, --size in [8, 512]");
  const int K = 3;
  DatasetSpec spec;
  spec.dataset_id = "parallax/bench-v0";
  spec.scene_name = "bench";
  spec.scene_json = "{\"name\": \"bench\"}";
  spec.height = spec.width = size;
  spec.action_size = 2;
  spec.num_bodies = K;
  spec.algorithm_name = "bench";
  std::vector<Episode> eps;
  for (int i = 0; i < episodes; ++i) eps.push_back(make_episode(i, steps, size, K));

  remove_tree(dir);
  fs::create_directories(dir / "raw");
  std::vector<double> store_ms, raw_ms;
  {
    EpisodeWriter w(dir / "store", spec, false);
    const int fd = ::open((dir / "raw" / "data.bin").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) throw std::runtime_error("cannot create " + (dir / "raw").string());
    // Interleaved, so that a change in machine load hits both sides.
    for (int i = 0; i < episodes; ++i) {
      const auto t0 = Clock::now();
      w.append(eps[static_cast<std::size_t>(i)]);
      store_ms.push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
      raw_ms.push_back(raw_commit_ms(fd, dir / "raw", eps[static_cast<std::size_t>(i)], i + 1));
    }
    ::close(fd);
  }
  remove_tree(dir);
  const double store_med = quantile(store_ms, 0.5), raw_med = quantile(raw_ms, 0.5);
  const nlohmann::json j = {{"bench", "store"},
                            {"episodes", episodes},
                            {"steps", steps},
                            {"size", size},
                            {"episode_mb", static_cast<double>(episode_bytes(eps[0])) / 1e6},
                            {"ms_median", store_med},
                            {"ms_p90", quantile(store_ms, 0.9)},
                            {"baseline", "raw write + fsync + metadata rename"},
                            {"baseline_ms_median", raw_med},
                            {"ms_ratio", store_med / raw_med}};
  std::printf("%s\n", j.dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return guarded_main("bench_store", run, argc, argv);
}
