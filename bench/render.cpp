// bench_render: frames per second of the batch renderer, as JSON lines.
//
//   bench_render [--scene push] [--sizes 64,128] [--ns 1,64,1024] [--threads 1,2] [--spp 1]
//                [--seconds 0.5] [--cpu-only | --cuda-only] [--python PY] [--no-pybullet]
//                [--pybullet-frames 200] [--pybullet-png FOLDER]
//
// One line per (device, size, N, threads): frames/s and exact ray-primitive tests per second
// (the tests a render runs after its screen-rectangle and bounding-sphere culls; see
// Renderer::count_ray_tests). States come from seeded World resets (seed i for env i, tiled
// past 64), so frames look like training data. With CUDA and a device: the same sizes and Ns on
// the GPU (device buffers, one launch per call, timed to the end of the last kernel).
// Reference: PyBullet's TinyRenderer (bench/render_pybullet.py, getCameraImage with
// ER_TINY_RENDERER, shadows on) on the same primitives, camera, light and size, in the same
// run; a final line gives our frames/s over its frames/s per size. If pybullet is missing the
// line says so.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "parallax/sim/renderer.hpp"
#include "parallax/sim/scene.hpp"
#include "parallax/sim/world.hpp"
#include "parallax/sim/world_batch.hpp"

namespace ps = parallax::sim;
using Clock = std::chrono::steady_clock;

namespace {

struct Args {
  std::string scene = "push";
  std::vector<int> sizes{64, 128};
  std::vector<int> ns{1, 64, 1024};
  std::vector<int> threads{1, 2};
  int spp = 1;
  double seconds = 0.5;
  bool cpu = true, cuda = true, pybullet = true;
  std::string python;
  int pybullet_frames = 200;
  std::string
      pybullet_png;  // folder: also save TinyRenderer's frame as <folder>/pybullet_<size>.png
};

std::vector<int> parse_list(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  if (const char* py = std::getenv("PARALLAX_PYTHON")) a.python = py;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(k + " needs a value");
      return argv[++i];
    };
    if (k == "--scene")
      a.scene = next();
    else if (k == "--sizes")
      a.sizes = parse_list(next());
    else if (k == "--ns")
      a.ns = parse_list(next());
    else if (k == "--threads")
      a.threads = parse_list(next());
    else if (k == "--spp")
      a.spp = std::stoi(next());
    else if (k == "--seconds")
      a.seconds = std::stod(next());
    else if (k == "--cpu-only")
      a.cuda = false;
    else if (k == "--cuda-only")
      a.cpu = false;
    else if (k == "--python")
      a.python = next();
    else if (k == "--no-pybullet")
      a.pybullet = false;
    else if (k == "--pybullet-frames")
      a.pybullet_frames = std::stoi(next());
    else if (k == "--pybullet-png")
      a.pybullet_png = next();
    else
      throw std::invalid_argument("unknown option " + k + " (see the top of bench/render.cpp)");
  }
  if (a.python.empty()) {
    const char* home = std::getenv("HOME");
    const std::string venv =
        std::string(home ? home : "") + "/.cache/parallax/venv-torch-2.11.0/bin/python";
    a.python = std::filesystem::exists(venv) ? venv : "python3";
  }
  return a;
}

// Poses, markers, colours and size scales of n envs: [n, K, 7], [n, M, 3], [n, K, 3], [n, K].
struct States {
  std::vector<float> poses, markers, colors, scales;
};

States make_states(const std::shared_ptr<const ps::SceneModel>& scene, int n) {
  const int distinct = std::min(n, 64);
  const std::size_t k = scene->bodies.size(), m = scene->markers.size();
  const ps::WorldBatch batch(scene, distinct, 0, 1);  // env i: seed i
  const States one{{batch.poses().begin(), batch.poses().end()},
                   {batch.marker_positions().begin(), batch.marker_positions().end()},
                   {batch.body_colors().begin(), batch.body_colors().end()},
                   {batch.body_size_scales().begin(), batch.body_size_scales().end()}};
  States s;
  for (int i = 0; i < n; ++i) {
    const int j = i % distinct;
    s.poses.insert(s.poses.end(), one.poses.begin() + j * k * 7,
                   one.poses.begin() + (j + 1) * k * 7);
    s.markers.insert(s.markers.end(), one.markers.begin() + j * m * 3,
                     one.markers.begin() + (j + 1) * m * 3);
    s.colors.insert(s.colors.end(), one.colors.begin() + j * k * 3,
                    one.colors.begin() + (j + 1) * k * 3);
    s.scales.insert(s.scales.end(), one.scales.begin() + j * k, one.scales.begin() + (j + 1) * k);
  }
  return s;
}

// Ray-primitive tests per frame, averaged over the distinct states (tiling repeats them).
double tests_per_frame(const std::shared_ptr<const ps::SceneModel>& scene, ps::RenderOptions opt,
                       const States& s, int n) {
  opt.threads = 1;
  ps::Renderer r(scene, opt);
  const int distinct = std::min(n, 64);
  return static_cast<double>(r.count_ray_tests(
             {.n = distinct, .poses = s.poses.data(), .markers = s.markers.data()})) /
         distinct;
}

void print(const nlohmann::json& j) {
  std::printf("%s\n", j.dump().c_str());
  std::fflush(stdout);
}

// Frames per wall-clock second, and per second of this process's CPU time (all threads): on a
// shared machine the second is the one that does not depend on what else runs.
struct Rate {
  double fps = 0, fps_per_cpu_s = 0;
};

// Runs `call` (renders n frames) until `seconds` have passed.
template <class F>
Rate time_fps(int n, double seconds, F call) {
  call();  // warm-up
  int calls = 0;
  const auto t0 = Clock::now();
  const std::clock_t c0 = std::clock();
  double elapsed = 0;
  do {
    call();
    ++calls;
    elapsed = std::chrono::duration<double>(Clock::now() - t0).count();
  } while (elapsed < seconds);
  const double cpu = static_cast<double>(std::clock() - c0) / CLOCKS_PER_SEC;
  return {static_cast<double>(calls) * n / elapsed, cpu > 0 ? calls * n / cpu : 0.0};
}

// Writes the resolved primitives for render_pybullet.py; returns the spec path.
std::filesystem::path write_pybullet_spec(const ps::SceneModel& scene, const States& s, int width,
                                          int height, int frames) {
  using nlohmann::json;
  json prims = json::array();
  const char* names[] = {"plane", "box", "sphere", "cylinder", "capsule"};
  for (std::size_t i = 0; i < scene.bodies.size(); ++i) {
    const ps::BodyDef& b = scene.bodies[i];
    const float* p = &s.poses[i * 7];
    const double sc = s.scales[i];
    prims.push_back(
        {{"shape", names[static_cast<int>(b.shape)]},
         {"half_extents", {b.half_extents[0] * sc, b.half_extents[1] * sc, b.half_extents[2] * sc}},
         {"radius", b.radius * sc},
         {"half_height", b.half_height * sc},
         {"normal", b.plane_normal},
         {"color", {s.colors[i * 3], s.colors[i * 3 + 1], s.colors[i * 3 + 2]}},
         {"position", {p[0], p[1], p[2]}},
         {"orientation", {p[3], p[4], p[5], p[6]}}});
  }
  for (std::size_t j = 0; j < scene.markers.size(); ++j) {
    const float* p = &s.markers[j * 3];
    prims.push_back({{"shape", "disc"},
                     {"radius", scene.markers[j].radius},
                     {"color", scene.markers[j].color},
                     {"position", {p[0], p[1], p[2] + 0.0005}},
                     {"orientation", {0, 0, 0, 1}}});
  }
  const json spec = {
      {"scene", scene.name},
      {"width", width},
      {"height", height},
      {"frames", frames},
      {"camera",
       {{"eye", scene.camera.eye},
        {"target", scene.camera.target},
        {"up", scene.camera.up},
        {"fov_deg", scene.camera.fov_deg}}},
      {"light", {{"direction", scene.light.direction}, {"ambient", scene.light.ambient}}},
      {"prims", prims}};
  const auto path =
      std::filesystem::temp_directory_path() /
      ("parallax_bench_render_" + std::to_string(width) + "x" + std::to_string(height) + ".json");
  std::ofstream(path) << spec.dump();
  return path;
}

// Runs render_pybullet.py; returns its JSON line (or one with "error").
nlohmann::json run_pybullet(const Args& a, const std::filesystem::path& spec, int size) {
  const std::string script = std::string(PARALLAX_SOURCE_DIR) + "/bench/render_pybullet.py";
  std::string cmd = "'" + a.python + "' '" + script + "' '" + spec.string() + "'";
  if (!a.pybullet_png.empty()) {
    cmd += " --png '" + a.pybullet_png + "/pybullet_" + std::to_string(size) + ".png'";
  }
  cmd += " 2>&1";
  std::string out;
  if (FILE* pipe = popen(cmd.c_str(), "r")) {
    char buf[4096];
    while (std::fgets(buf, sizeof buf, pipe)) out += buf;
    pclose(pipe);
  }
  // The last line that parses as JSON.
  std::stringstream ss(out);
  std::string line;
  nlohmann::json result = {{"renderer", "pybullet_tiny"}, {"error", "no output from " + cmd}};
  while (std::getline(ss, line)) {
    const auto brace = line.find("{\"renderer\"");
    if (brace == std::string::npos) continue;
    auto j = nlohmann::json::parse(line.substr(brace), nullptr, false);
    if (!j.is_discarded() && j.is_object()) result = j;
  }
  if (result.contains("error") && !out.empty() &&
      result["error"].get<std::string>().rfind("no output", 0) == 0) {
    result["error"] = "render_pybullet.py failed: " + out.substr(0, 300);
  }
  return result;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    auto scene = std::make_shared<const ps::SceneModel>(ps::resolve_scene(a.scene));
    const int max_n = *std::max_element(a.ns.begin(), a.ns.end());
    const States states = make_states(scene, max_n);
    std::map<int, double> best_cpu_fps;     // size -> best CPU frames/s (for the PyBullet ratio)
    std::map<int, double> best_cpu_fps_1t;  // same, one thread (TinyRenderer uses one)

    for (int size : a.sizes) {
      for (int n : a.ns) {
        ps::RenderOptions opt;
        opt.width = opt.height = size;
        opt.spp = a.spp;
        const double tpf = tests_per_frame(scene, opt, states, n);
        const std::size_t px = static_cast<std::size_t>(n) * size * size;
        if (a.cpu) {
          std::vector<std::uint8_t> rgb(px * 3), ids(px);  // [N, H, W, 3] u8, [N, H, W] u8
          for (int t : a.threads) {
            opt.threads = t;
            ps::Renderer r(scene, opt);
            const Rate rate = time_fps(n, a.seconds, [&] {
              r.render({.n = n,
                        .poses = states.poses.data(),
                        .markers = states.markers.data(),
                        .colors = states.colors.data(),
                        .scales = states.scales.data()},
                       rgb.data(), ids.data());
            });
            const double fps = rate.fps;
            best_cpu_fps[size] = std::max(best_cpu_fps[size], fps);
            if (t == 1) best_cpu_fps_1t[size] = std::max(best_cpu_fps_1t[size], fps);
            print({{"bench", "render"},
                   {"device", "cpu"},
                   {"scene", scene->name},
                   {"width", size},
                   {"height", size},
                   {"n", n},
                   {"threads", t},
                   {"spp", a.spp},
                   {"shadows", true},
                   {"fps", std::round(fps)},
                   {"fps_per_cpu_s", std::round(rate.fps_per_cpu_s)},
                   {"ray_tests_per_frame", std::round(tpf)},
                   {"ray_tests_per_s", std::round(tpf * fps)}});
          }
        }
        if (a.cuda) {
          if (!ps::cuda_renderer_available()) {
            if (size == a.sizes.front() && n == a.ns.front()) {
              print({{"bench", "render"},
                     {"device", "cuda"},
                     {"skipped", "no CUDA device or built without CUDA"}});
            }
            continue;
          }
          ps::CudaRenderer r(scene, opt);
          ps::DeviceBuffer poses(states.poses.size() * 4), markers(states.markers.size() * 4 + 4),
              colors(states.colors.size() * 4), scales(states.scales.size() * 4), rgb(px * 3),
              ids(px);
          poses.upload(states.poses.data(), n * scene->bodies.size() * 7 * 4);
          markers.upload(states.markers.data(), n * scene->markers.size() * 3 * 4);
          colors.upload(states.colors.data(), n * scene->bodies.size() * 3 * 4);
          scales.upload(states.scales.data(), n * scene->bodies.size() * 4);
          auto* d_rgb = static_cast<std::uint8_t*>(rgb.data());
          auto* d_ids = static_cast<std::uint8_t*>(ids.data());
          // Time batches of launches to the end of the last kernel.
          const int per_batch = std::max(1, 4096 / n);
          const double fps = time_fps(n * per_batch, a.seconds, [&] {
                               for (int b = 0; b < per_batch; ++b) {
                                 r.render({.n = n,
                                           .poses = static_cast<const float*>(poses.data()),
                                           .markers = static_cast<const float*>(markers.data()),
                                           .colors = static_cast<const float*>(colors.data()),
                                           .scales = static_cast<const float*>(scales.data())},
                                          d_rgb, d_ids);
                               }
                               r.synchronize();
                             }).fps;
          print({{"bench", "render"},
                 {"device", "cuda"},
                 {"scene", scene->name},
                 {"width", size},
                 {"height", size},
                 {"n", n},
                 {"spp", a.spp},
                 {"shadows", true},
                 {"fps", std::round(fps)},
                 {"ray_tests_per_frame", std::round(tpf)},
                 {"ray_tests_per_s", std::round(tpf * fps)}});
        }
      }
    }

    // PyBullet TinyRenderer on env 0's state, same sizes.
    if (a.pybullet) {
      for (int size : a.sizes) {
        const auto spec = write_pybullet_spec(*scene, states, size, size, a.pybullet_frames);
        nlohmann::json pb = run_pybullet(a, spec, size);
        std::filesystem::remove(spec);
        pb["bench"] = "render_reference";
        print(pb);
        if (pb.contains("fps") && best_cpu_fps.count(size)) {
          const double theirs = pb["fps"].get<double>();
          const double one = best_cpu_fps_1t.count(size) ? best_cpu_fps_1t[size] : 0.0;
          print({{"bench", "render_ratio"},
                 {"scene", scene->name},
                 {"width", size},
                 {"height", size},
                 {"pybullet_tiny_fps", std::round(theirs)},
                 {"ours_cpu_fps", std::round(best_cpu_fps[size])},
                 {"ratio", std::round(best_cpu_fps[size] / theirs * 10) / 10},
                 {"ours_cpu_1thread_fps", std::round(one)},
                 {"ratio_1thread", std::round(one / theirs * 10) / 10}});
        }
      }
    }
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_render: error: %s\n", e.what());
    return 1;
  }
}
