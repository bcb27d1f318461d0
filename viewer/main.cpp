// parallax-view: Bullet and the world model side by side, as an instrument (SDL2 + OpenGL3 +
// Dear ImGui). Reads top to bottom like Dear ImGui's example_sdl2_opengl3: parse flags -> load
// the session -> set up window and ImGui -> loop (events and script -> advance -> new frame ->
// panels -> render -> record -> present) -> clean up in reverse order. No globals. The worlds
// live in Session (session.hpp), the panels in their own files (ui.hpp).
#include <SDL.h>
#include <SDL_opengl.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "actions.hpp"
#include "bench_stats.hpp"
#include "input_script.hpp"
#include "options.hpp"
#include "parallax/sim/image_io.hpp"
#include "parallax/worldmodel/torch_setup.hpp"
#include "recorder.hpp"
#include "session.hpp"
#include "teleop.hpp"
#include "ui.hpp"

namespace pv = parallax::viewer;

namespace {

// Reads the back buffer and writes it as a PNG (rows flipped: GL's origin is bottom-left).
void save_screenshot(const std::string& path, int w, int h) {
  std::vector<std::uint8_t> px(static_cast<std::size_t>(w) * h * 3);
  glPixelStorei(GL_PACK_ALIGNMENT, 1);
  glReadBuffer(GL_BACK);
  glReadPixels(0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, px.data());
  std::vector<std::uint8_t> flipped(px.size());
  for (int y = 0; y < h; ++y)
    std::copy_n(px.data() + static_cast<std::size_t>(h - 1 - y) * w * 3, w * 3,
                flipped.data() + static_cast<std::size_t>(y) * w * 3);
  parallax::sim::write_png(path, w, h, 3, flipped.data());
}

int run(const pv::ViewerOptions& o, const std::vector<pv::ScriptCommand>& script) {
  // Simulation side first: a bad scene or model fails before any window opens.
  parallax::worldmodel::init_torch_threads(0);
  pv::Session session(pv::SessionOptions{.scene = o.scene,
                                         .model = o.model,
                                         .envs = o.envs,
                                         .seed = o.seed,
                                         .policy = o.policy,
                                         .planner_model = o.planner_model,
                                         .threads = o.threads,
                                         .precision = o.precision});
  // Lockstep (one tick per frame) for --frames and scripts, so runs are reproducible; the
  // worker thread otherwise (and for --bench, which measures it).
  const bool lockstep = (o.frames > 0 || !o.input_script.empty()) && !o.bench;
  std::ofstream trace;
  if (!o.trace.empty()) {
    trace.open(o.trace);
    if (!trace) throw std::runtime_error("cannot write " + o.trace);
  }

  // Window, GL context, ImGui.
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER | SDL_INIT_GAMECONTROLLER) != 0)
    throw std::runtime_error(std::string("SDL_Init failed: ") + SDL_GetError());
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  SDL_Window* window =
      SDL_CreateWindow("parallax-view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, o.width,
                       o.height, SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE);
  if (!window) {
    SDL_Quit();
    throw std::runtime_error(std::string("cannot open a window: ") + SDL_GetError());
  }
  SDL_GLContext gl = SDL_GL_CreateContext(window);
  if (!gl) {
    SDL_DestroyWindow(window);
    SDL_Quit();
    throw std::runtime_error(std::string("no OpenGL 3 context: ") + SDL_GetError());
  }
  SDL_GL_MakeCurrent(window, gl);
  SDL_GL_SetSwapInterval(o.frames > 0 ? 0 : 1);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini litter
  ImGui::StyleColorsDark();
  ImGui_ImplSDL2_InitForOpenGL(window, gl);
  ImGui_ImplOpenGL3_Init("#version 130");

  pv::UiState ui;
  pv::Teleop teleop;
  teleop.open_controller();
  pv::Recorder recorder;
  pv::Snapshot snap;
  pv::BenchStats frame_times;
  if (!o.record.empty()) {
    ui.record_path = o.record;
    ui.toggle_record = true;
  }
  if (!lockstep) session.start_worker();

  // Main loop.
  int rc = 0;
  bool done = false;
  std::size_t next_cmd = 0;
  std::uint64_t last_tick = 0;  // Snapshot::ticks_total of the last recorded or traced tick
  const auto run_start = std::chrono::steady_clock::now();
  for (int frame = 0; !done; ++frame) {
    const auto frame_start = std::chrono::steady_clock::now();
    // 1. Events and script.
    SDL_Event event;
    while (SDL_PollEvent(&event)) {
      ImGui_ImplSDL2_ProcessEvent(&event);
      if (event.type == SDL_QUIT) done = true;
      const bool kb_free = !ImGui::GetIO().WantTextInput;
      if (teleop.handle(event, kb_free)) continue;
      if (event.type == SDL_KEYDOWN && kb_free && !event.key.repeat) {
        const std::string k = pv::key_name(event.key.keysym.sym);
        if (!k.empty())
          pv::apply(pv::ScriptCommand{.verb = "tap", .args = {k}}, session, ui, teleop, done);
      }
    }
    for (; next_cmd < script.size() && script[next_cmd].frame <= frame; ++next_cmd)
      pv::apply(script[next_cmd], session, ui, teleop, done);
    session.set_teleop(ui.teleop, teleop.action(snap.a > 0 ? snap.a : 2));
    // 2. Advance (lockstep) and take the latest snapshot.
    if (lockstep) session.pump(1);
    const bool fresh = session.latest(snap);
    // 3. Recording requests, then one video frame per new tick.
    try {
      if (ui.toggle_record) {
        ui.toggle_record = false;
        if (recorder.recording()) {
          const int n = recorder.stop();
          std::printf("parallax-view: recorded %d frames to %s\n", n, recorder.path().c_str());
        } else {
          recorder.start(ui.record_path, snap);
        }
        ui.recording = recorder.recording();
      }
      if (fresh && snap.ticks_total != last_tick && recorder.recording()) recorder.add(snap);
      if (ui.take_snapshot) {
        ui.take_snapshot = false;
        pv::Recorder::snapshot(ui.snapshot_path, snap);
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
      ui.recording = false;
      if (o.frames > 0) rc = 1;
    }
    if (fresh && snap.ticks_total != last_tick && trace.is_open()) pv::trace_line(trace, snap);
    last_tick = snap.ticks_total;

    // 4. New frame, panels, render.
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplSDL2_NewFrame();
    ImGui::NewFrame();
    ui.rects.clear();
    pv::draw_instrument(session, snap, ui, teleop);
    ImGui::Render();
    int w = 0, h = 0;
    SDL_GL_GetDrawableSize(window, &w, &h);
    glViewport(0, 0, w, h);
    glClearColor(0.08f, 0.08f, 0.1f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (o.frames > 0 && frame + 1 >= o.frames) done = true;
    if (done) {
      try {
        if (!o.screenshot.empty()) save_screenshot(o.screenshot, w, h);
        if (!o.panels_json.empty()) pv::write_panels_json(o.panels_json, ui);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
        rc = 1;
      }
    }
    SDL_GL_SwapWindow(window);
    // 5. Frame time: the work of this frame (events to present). Interactive runs then wait
    // for the next 60 Hz slot (xvfb has no vsync), leaving the cores to the worker's ticks.
    const auto now = std::chrono::steady_clock::now();
    const float ms = std::chrono::duration<float, std::milli>(now - frame_start).count();
    if (!lockstep) std::this_thread::sleep_until(frame_start + std::chrono::microseconds(16667));
    ui.frame_ms.push_back(ms);
    if (ui.frame_ms.size() > 240) ui.frame_ms.pop_front();
    if (frame > 0) frame_times.add(ms);
  }
  if (recorder.recording()) {
    try {
      const int n = recorder.stop();
      std::printf("parallax-view: recorded %d frames to %s\n", n, recorder.path().c_str());
    } catch (const std::exception& e) {
      std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
      rc = 1;
    }
  }
  if (o.bench) {
    pv::BenchStats ticks;
    for (double t : session.tick_times_ms()) ticks.add(t);
    const double wall =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - run_start).count();
    std::printf("%s\n", pv::bench_json(o, snap, frame_times, ticks, wall).c_str());
  }

  // Clean up in reverse order.
  for (auto* t : {&ui.true_tex, &ui.pred_tex, &ui.err_tex, &ui.bar_tex, &ui.futures_tex})
    t->destroy();
  for (auto& t : ui.thumbs) t.destroy();
  ImGui_ImplOpenGL3_Shutdown();
  ImGui_ImplSDL2_Shutdown();
  ImGui::DestroyContext();
  SDL_GL_DeleteContext(gl);
  SDL_DestroyWindow(window);
  SDL_Quit();
  return rc;
}

}  // namespace

int main(int argc, char** argv) {
  int code = 0;
  const auto o = pv::parse_options(argc, argv, code);
  if (!o) return code;
  std::vector<pv::ScriptCommand> script;
  try {
    if (!o->input_script.empty()) script = pv::parse_input_script(o->input_script);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
    return 2;
  }
  try {
    return run(*o, script);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
    return 1;
  }
}
