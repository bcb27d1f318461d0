// bench_startup: wall time and peak RSS of `parallax` start-up per command, against the model
// path measured in the same run (`parallax demo --help` loads the plugin and LibTorch, as every
// command did before the torch-free executable). One JSON line per command:
//   {"bench":"startup","command":"scenes","runs":R,"ms_median":..,"ms_min":..,"peak_rss_mb":..,
//    "baseline":"demo --help","baseline_ms_median":..,"baseline_peak_rss_mb":..,
//    "ms_ratio":..,"rss_ratio":..}   (ratios: this command / baseline; < 1 is faster, smaller)
// Usage: bench_startup [--parallax PATH] [--runs R]
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace {

struct Sample {
  double ms = 0;
  double rss_mb = 0;
};

// Runs argv with stdout/stderr to /dev/null; wall time and the child's peak RSS.
Sample run_once(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  rusage ru{};
  ::wait4(pid, &status, 0, &ru);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    std::fprintf(stderr, "bench_startup: '%s' failed (status %d)\n", cmd.c_str(), status);
    std::exit(1);
  }
  return {ms, ru.ru_maxrss / 1024.0};  // ru_maxrss is in KiB on Linux
}

struct Stats {
  double median = 0, min = 0, rss = 0;
};

Stats measure(const std::vector<std::string>& args, int runs) {
  std::vector<double> ms;
  double rss = 0;
  for (int i = 0; i < runs; ++i) {
    const Sample s = run_once(args);
    ms.push_back(s.ms);
    rss = std::max(rss, s.rss_mb);
  }
  std::sort(ms.begin(), ms.end());
  return {ms[ms.size() / 2], ms.front(), rss};
}

}  // namespace

int main(int argc, char** argv) {
  std::string exe = PARALLAX_CLI_EXE;
  int runs = 9;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i];
    if (flag == "--parallax") {
      exe = argv[i + 1];
    } else if (flag == "--runs") {
      runs = std::max(1, std::atoi(argv[i + 1]));
    } else {
      std::fprintf(stderr, "usage: bench_startup [--parallax PATH] [--runs R]\n");
      return 2;
    }
  }
  const std::string png = "/tmp/parallax-bench-startup-" + std::to_string(::getpid()) + ".png";
  const std::vector<std::pair<std::string, std::vector<std::string>>> commands = {
      {"--help", {"--help"}},
      {"scenes", {"scenes"}},
      {"sim --steps 1", {"sim", "--scene", "push", "--steps", "1"}},
      {"render --width 16 --height 16",
       {"render", "--scene", "push", "--seed", "0", "--width", "16", "--height", "16", "--out",
        png}},
      {"collect --help", {"collect", "--help"}},
  };
  // Interleaved: the baseline before and after the commands, the better median kept, so that
  // a change in machine load hits both sides.
  Stats base = measure({exe, "demo", "--help"}, runs);
  std::vector<Stats> stats;
  for (const auto& [name, args] : commands) {
    std::vector<std::string> full{exe};
    full.insert(full.end(), args.begin(), args.end());
    stats.push_back(measure(full, runs));
  }
  const Stats base2 = measure({exe, "demo", "--help"}, runs);
  if (base2.median < base.median) base = base2;
  ::unlink(png.c_str());
  for (std::size_t i = 0; i < commands.size(); ++i) {
    const Stats& s = stats[i];
    nlohmann::json j = {{"bench", "startup"},
                        {"command", commands[i].first},
                        {"runs", runs},
                        {"ms_median", s.median},
                        {"ms_min", s.min},
                        {"peak_rss_mb", s.rss},
                        {"baseline", "demo --help"},
                        {"baseline_ms_median", base.median},
                        {"baseline_peak_rss_mb", base.rss},
                        {"ms_ratio", s.median / base.median},
                        {"rss_ratio", s.rss / base.rss}};
    std::printf("%s\n", j.dump().c_str());
  }
  return 0;
}
