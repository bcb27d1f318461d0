// parallax sim: step a scene in Bullet with zero, random or recorded actions and write the
// trajectory as JSON lines (one per control step; every env and body: pose and velocities).
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "commands.hpp"
#include "common.hpp"
#include "flag_checks.hpp"
#include "parallax/sim/world_batch.hpp"

namespace parallax::cli {

namespace {

struct SimArgs {
  std::string scene = "push";
  std::uint64_t seed = 0;
  int steps = 100;
  std::string actions = "zero";
  int envs = 1;
  int threads = 1;
  std::string out;
  bool json = false;
};

// Recorded actions: one row per control step; A values (same for every env) or N * A.
struct ActionTable {
  std::vector<std::vector<float>> rows;
  bool per_env = false;
};

std::string trim(const std::string& s) {
  auto b = s.find_first_not_of(" \t\r");
  auto e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

ActionTable read_actions_csv(const std::string& path, int steps, int envs, int action_size) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open the actions file (does it exist?)");
  ActionTable t;
  std::string line;
  int line_no = 0;
  const std::size_t a = static_cast<std::size_t>(action_size);
  const std::size_t na = a * static_cast<std::size_t>(envs);
  while (std::getline(in, line)) {
    ++line_no;
    std::string l = trim(line);
    if (l.empty() || l[0] == '#') continue;
    std::vector<float> row;
    std::size_t start = 0;
    for (int col = 1;; ++col) {
      std::size_t comma = l.find(',', start);
      std::string cell = trim(l.substr(start, comma == std::string::npos ? comma : comma - start));
      double v = 0;
      auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
      if (ec != std::errc() || ptr != cell.data() + cell.size() || cell.empty() ||
          !std::isfinite(v)) {
        throw std::runtime_error(path + ":" + std::to_string(line_no) + ": column " +
                                 std::to_string(col) +
                                 ": expected a finite number in [-1, 1], "
                                 "found '" +
                                 cell + "'");
      }
      row.push_back(static_cast<float>(v));
      if (comma == std::string::npos) break;
      start = comma + 1;
    }
    if (row.size() != a && row.size() != na) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) + ": expected " +
                               std::to_string(a) + " values (one action for every env) or " +
                               std::to_string(na) + " (envs x action size), found " +
                               std::to_string(row.size()));
    }
    if (!t.rows.empty() && (row.size() == na) != t.per_env && a != na) {
      throw std::runtime_error(path + ":" + std::to_string(line_no) +
                               ": every row must have the same number of values");
    }
    t.per_env = row.size() == na && a != na;
    t.rows.push_back(std::move(row));
    if (static_cast<int>(t.rows.size()) == steps) break;
  }
  if (static_cast<int>(t.rows.size()) < steps) {
    throw std::runtime_error(path + ": has " + std::to_string(t.rows.size()) +
                             " action rows; --steps " + std::to_string(steps) + " needs " +
                             std::to_string(steps) + " (one row per control step)");
  }
  return t;
}

// Shortest text that reads back as the same float; null for non-finite values.
void put_float(std::string& s, float v) {
  if (!std::isfinite(v)) {
    s += "null";
    return;
  }
  char buf[32];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  s.append(buf, r.ptr);
}
void put_floats(std::string& s, const float* v, int n) {
  s += '[';
  for (int i = 0; i < n; ++i) {
    if (i) s += ',';
    put_float(s, v[i]);
  }
  s += ']';
}

void run_sim(const SimArgs& a) {
  auto scene = std::make_shared<const sim::SceneModel>(sim::resolve_scene(a.scene));
  const int A = scene->action_size();
  const int K = static_cast<int>(scene->bodies.size());
  ActionTable table;
  const bool from_file = a.actions != "zero" && a.actions != "random";
  if (from_file) table = read_actions_csv(a.actions, a.steps, a.envs, A);

  // The batch first: it refuses what cannot fit or cannot start before any output exists.
  const auto t0 = std::chrono::steady_clock::now();
  const int threads = sim::resolve_threads(a.threads);
  sim::WorldBatch batch(scene, a.envs, a.seed, threads);
  std::unique_ptr<AtomicFile> out;
  if (!a.out.empty()) out = std::make_unique<AtomicFile>(a.out);
  std::vector<float> actions(static_cast<std::size_t>(a.envs) * A, 0.0f);  // [N, A] f32
  std::mt19937_64 rng(a.seed ^ 0x5eedac7105ull);
  std::vector<std::string> names;  // JSON-escaped body names
  for (const auto& b : scene->bodies) names.push_back(nlohmann::json(b.name).dump());

  double total_reward = 0;
  int episodes_ended = 0, successes = 0;
  double step_seconds = 0;
  std::string line;
  for (int t = 0; t < a.steps; ++t) {
    if (a.actions == "random") {
      for (auto& x : actions)
        x = static_cast<float>(static_cast<double>(rng() >> 11) * 0x1.0p-53 * 2 - 1);
    } else if (from_file) {
      const auto& row = table.rows[static_cast<std::size_t>(t)];
      for (int i = 0; i < a.envs; ++i)
        for (int k = 0; k < A; ++k)
          actions[static_cast<std::size_t>(i) * A + k] =
              row[(table.per_env ? static_cast<std::size_t>(i) * A : 0) + k];
    }
    const auto s0 = std::chrono::steady_clock::now();
    batch.step(actions);
    step_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - s0).count();
    for (int i = 0; i < a.envs; ++i) {
      total_reward += batch.rewards()[i];
      episodes_ended += batch.terminated()[i] || batch.truncated()[i];
      successes += batch.terminated()[i];
    }
    if (!out) continue;
    line.clear();
    line += "{\"step\":" + std::to_string(t + 1) + ",\"envs\":[";
    for (int i = 0; i < a.envs; ++i) {
      if (i) line += ',';
      line += "{\"env\":" + std::to_string(i) + ",\"reward\":";
      put_float(line, batch.rewards()[i]);
      line += ",\"terminated\":";
      line += batch.terminated()[i] ? "true" : "false";
      line += ",\"truncated\":";
      line += batch.truncated()[i] ? "true" : "false";
      line += ",\"reset\":";
      line += batch.reset_mask()[i] ? "true" : "false";
      line += ",\"action\":";
      put_floats(line, &actions[static_cast<std::size_t>(i) * A], A);
      line += ",\"bodies\":[";
      for (int k = 0; k < K; ++k) {
        const float* p = &batch.poses()[(static_cast<std::size_t>(i) * K + k) * 7];
        const float* v = &batch.velocities()[(static_cast<std::size_t>(i) * K + k) * 6];
        if (k) line += ',';
        line += "{\"name\":" + names[k] + ",\"position\":";
        put_floats(line, p, 3);
        line += ",\"orientation\":";
        put_floats(line, p + 3, 4);
        line += ",\"linear_velocity\":";
        put_floats(line, v, 3);
        line += ",\"angular_velocity\":";
        put_floats(line, v + 3, 3);
        line += '}';
      }
      line += "]}";
    }
    line += "]}\n";
    out->write(line);
  }
  if (out) out->commit();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const double ticks = static_cast<double>(a.steps) * a.envs;
  if (a.json) {
    nlohmann::json j = {{"scene", scene->name},
                        {"source", scene->source.string()},
                        {"seed", a.seed},
                        {"steps", a.steps},
                        {"envs", a.envs},
                        {"threads", threads},
                        {"actions", a.actions},
                        {"out", a.out.empty() ? nlohmann::json(nullptr) : nlohmann::json(a.out)},
                        {"mean_reward", total_reward / ticks},
                        {"episodes_ended", episodes_ended},
                        {"terminated", successes},
                        {"control_ticks_per_s", step_seconds > 0 ? ticks / step_seconds : 0.0},
                        {"seconds", seconds}};
    // Paths need not be UTF-8: replace what is not rather than fail after the work is done.
    std::printf("%s\n", json_text(j).c_str());
  } else {
    std::printf(
        "%s: %d envs x %d steps, mean reward %.4f, %d episodes ended (%d terminated), "
        "%.0f control ticks/s%s%s\n",
        scene->name.c_str(), a.envs, a.steps, total_reward / ticks, episodes_ended, successes,
        step_seconds > 0 ? ticks / step_seconds : 0.0, a.out.empty() ? "" : "; wrote ",
        a.out.c_str());
  }
}

}  // namespace

void register_sim(CLI::App& app) {
  auto args = std::make_shared<SimArgs>();
  auto* sub = app.add_subcommand(
      "sim",
      "Step a scene in Bullet and write its trajectory as JSON lines (one per control step)");
  sub->add_option("--scene", args->scene, "Shipped scene name or path to a scene .json file")
      ->capture_default_str();
  sub->add_option("--seed", args->seed, "Base seed; env i uses seed + i")
      ->check(seed_check())
      ->capture_default_str();
  sub->add_option("--steps", args->steps, "Control steps to run (>= 1)")
      ->check(CLI::Range(1, 100000000))
      ->capture_default_str();
  sub->add_option("--actions", args->actions,
                  "zero, random (uniform in [-1, 1], seeded), or a CSV file with one row per step: "
                  "A values for every env, or N*A")
      ->capture_default_str();
  sub->add_option("--envs", args->envs, "Number of parallel envs N (>= 1)")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  sub->add_option("--threads", args->threads, "Worker threads (0 = all cores)")
      ->check(threads_check())
      ->capture_default_str();
  sub->add_option("--out", args->out,
                  "Trajectory file (.jsonl), written atomically; omitted = summary only");
  sub->add_flag("--json", args->json, "Print the summary as one JSON object");
  sub->callback([args] {
    if (!args->out.empty()) {
      auto dir = std::filesystem::path(args->out).parent_path();
      if (!dir.empty() && !std::filesystem::is_directory(dir))
        throw UsageError("--out " + args->out + ": folder " + dir.string() + " does not exist");
    }
    run_sim(*args);
  });
}

}  // namespace parallax::cli
