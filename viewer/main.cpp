// parallax-view: true and predicted rollouts side by side (SDL2 + OpenGL3 + Dear ImGui).
// Reads top to bottom like Dear ImGui's example_sdl2_opengl3: parse flags -> set up window and
// ImGui -> loop (events -> step the arena -> new frame -> UI -> render -> present) -> clean up
// in reverse order. No globals: all state lives in ViewerState inside main().
#include <SDL.h>
#include <SDL_opengl.h>
#include <imgui.h>
#include <imgui_impl_opengl3.h>
#include <imgui_impl_sdl.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "parallax/agents/arena.hpp"
#include "parallax/agents/model_source.hpp"
#include "parallax/sim/image_io.hpp"
#include "parallax/worldmodel/torch_setup.hpp"

namespace {

struct ViewerOptions {
  std::string scene = "push";
  std::string model;
  int envs = 4;
  std::uint64_t seed = 0;
  std::string policy = "random";
  int frames = 0;          // > 0: run this many frames then exit (headless test mode)
  std::string screenshot;  // with --frames: write the window to this PNG before exiting
  int width = 1280, height = 720;
};

// One RGB texture per displayed image, updated in place each tick.
struct FrameTexture {
  GLuint id = 0;
  int w = 0, h = 0;
  void create(int width, int height) {
    w = width;
    h = height;
    glGenTextures(1, &id);
    glBindTexture(GL_TEXTURE_2D, id);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MIN_FILTER, GL_NEAREST);
    glTexParameteri(GL_TEXTURE_2D, GL_TEXTURE_MAG_FILTER, GL_NEAREST);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexImage2D(GL_TEXTURE_2D, 0, GL_RGB, w, h, 0, GL_RGB, GL_UNSIGNED_BYTE, nullptr);
  }
  void upload(const std::uint8_t* rgb) {  // [h, w, 3] u8
    glBindTexture(GL_TEXTURE_2D, id);
    glPixelStorei(GL_UNPACK_ALIGNMENT, 1);
    glTexSubImage2D(GL_TEXTURE_2D, 0, 0, 0, w, h, GL_RGB, GL_UNSIGNED_BYTE, rgb);
  }
  void destroy() {
    if (id) glDeleteTextures(1, &id);
    id = 0;
  }
  ImTextureID imgui_id() const {
    return reinterpret_cast<ImTextureID>(static_cast<std::uintptr_t>(id));
  }
};

struct ViewerState {
  bool playing = true;
  bool step_once = false;
  int env = 0;
  int ticks_per_frame = 1;
  std::deque<float> psnr_history;  // of the selected env, last 240 ticks (dB; inf shown as 60)
  std::deque<float> reward_true, reward_pred;
  std::vector<double> returns;
  std::string model_description;
};

void push_history(std::deque<float>& d, float v) {
  d.push_back(v);
  if (d.size() > 240) d.pop_front();
}

void record(ViewerState& s, std::span<const parallax::agents::StepMetrics> m) {
  for (const auto& e : m) s.returns[e.env] = e.reset ? 0.0 : s.returns[e.env] + e.reward_true;
  const auto& e = m[s.env];
  push_history(s.psnr_history, std::isfinite(e.psnr) ? static_cast<float>(e.psnr) : 60.0f);
  push_history(s.reward_true, e.reward_true);
  push_history(s.reward_pred, e.reward_pred);
}

void plot(const char* label, const std::deque<float>& d, const char* overlay) {
  std::vector<float> v(d.begin(), d.end());
  ImGui::PlotLines(label, v.data(), static_cast<int>(v.size()), 0, overlay, FLT_MAX, FLT_MAX,
                   ImVec2(0, 70));
}

// The whole UI, built once per frame.
void build_ui(ViewerState& s, parallax::agents::Arena& arena, FrameTexture& true_tex,
              FrameTexture& pred_tex, const std::vector<parallax::agents::StepMetrics>& last) {
  const ImVec2 display = ImGui::GetIO().DisplaySize;
  ImGui::SetNextWindowPos(ImVec2(10, 10), ImGuiCond_FirstUseEver);
  ImGui::SetNextWindowSize(ImVec2(display.x - 20, display.y - 20), ImGuiCond_FirstUseEver);
  ImGui::Begin("Parallax: Bullet (left) vs world model (right)");
  ImGui::Text("scene '%s'  |  %d envs  |  tick %d", arena.scene().name.c_str(), arena.num_envs(),
              arena.ticks());
  ImGui::TextWrapped("model: %s", s.model_description.c_str());
  if (ImGui::Button(s.playing ? "Pause" : "Play")) s.playing = !s.playing;
  ImGui::SameLine();
  if (ImGui::Button("Step")) s.step_once = true;
  ImGui::SameLine();
  if (ImGui::Button("Reset")) {
    arena.reset();
    s.psnr_history.clear();
    s.reward_true.clear();
    s.reward_pred.clear();
    std::fill(s.returns.begin(), s.returns.end(), 0.0);
  }
  ImGui::SameLine();
  ImGui::SetNextItemWidth(120);
  ImGui::SliderInt("ticks/frame", &s.ticks_per_frame, 1, 8);
  ImGui::SetNextItemWidth(200);
  ImGui::SliderInt("env", &s.env, 0, arena.num_envs() - 1);

  const float side = 360.0f;
  ImGui::BeginGroup();
  ImGui::TextUnformatted("true (Bullet)");
  ImGui::Image(true_tex.imgui_id(), ImVec2(side, side * true_tex.h / true_tex.w));
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  ImGui::PushItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - 110.0f));
  ImGui::TextUnformatted("predicted (dream)");
  ImGui::Image(pred_tex.imgui_id(), ImVec2(side, side * pred_tex.h / pred_tex.w));
  ImGui::EndGroup();
  ImGui::SameLine();
  ImGui::BeginGroup();
  ImGui::PushItemWidth(std::max(120.0f, ImGui::GetContentRegionAvail().x - 110.0f));

  if (!last.empty()) {
    const auto& m = last[s.env];
    ImGui::Text("MSE %.5f   PSNR %.2f dB   SSIM %.4f", m.mse, std::isfinite(m.psnr) ? m.psnr : 99.0,
                m.ssim);
    ImGui::Text("reward: true %.4f  predicted %.4f   return %.3f", m.reward_true, m.reward_pred,
                s.returns[s.env]);
  }
  plot("PSNR (dB)", s.psnr_history, nullptr);
  plot("reward (true)", s.reward_true, nullptr);
  plot("reward (pred)", s.reward_pred, nullptr);
  ImGui::PopItemWidth();
  ImGui::EndGroup();
  ImGui::End();
}

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

int run(const ViewerOptions& o) {
  // Simulation side first: a bad scene or model fails before any window opens.
  parallax::worldmodel::init_torch_threads(0);
  auto scene =
      std::make_shared<const parallax::sim::SceneModel>(parallax::sim::resolve_scene(o.scene));
  auto src = parallax::agents::load_model_for_scene(*scene, o.model, "cpu", o.seed);
  parallax::agents::Arena arena(
      scene, src.model,
      parallax::agents::ArenaOptions{
          .num_envs = o.envs, .seed = o.seed, .threads = 0, .policy = o.policy});
  ViewerState state;
  state.model_description = src.description;
  state.returns.assign(o.envs, 0.0);

  // Window, GL context, ImGui.
  if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_TIMER) != 0) {
    std::fprintf(stderr, "parallax-view: error: SDL_Init failed: %s\n", SDL_GetError());
    return 1;
  }
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MAJOR_VERSION, 3);
  SDL_GL_SetAttribute(SDL_GL_CONTEXT_MINOR_VERSION, 0);
  SDL_GL_SetAttribute(SDL_GL_DOUBLEBUFFER, 1);
  SDL_Window* window =
      SDL_CreateWindow("parallax-view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED, o.width,
                       o.height, SDL_WINDOW_OPENGL | SDL_WINDOW_RESIZABLE);
  if (!window) {
    std::fprintf(stderr, "parallax-view: error: cannot open a window: %s\n", SDL_GetError());
    SDL_Quit();
    return 1;
  }
  SDL_GLContext gl = SDL_GL_CreateContext(window);
  if (!gl) {
    std::fprintf(stderr, "parallax-view: error: no OpenGL 3 context: %s\n", SDL_GetError());
    SDL_DestroyWindow(window);
    SDL_Quit();
    return 1;
  }
  SDL_GL_MakeCurrent(window, gl);
  SDL_GL_SetSwapInterval(o.frames > 0 ? 0 : 1);
  IMGUI_CHECKVERSION();
  ImGui::CreateContext();
  ImGui::GetIO().IniFilename = nullptr;  // no imgui.ini litter
  ImGui::StyleColorsDark();
  ImGui_ImplSDL2_InitForOpenGL(window, gl);
  ImGui_ImplOpenGL3_Init("#version 130");
  FrameTexture true_tex, pred_tex;
  true_tex.create(arena.width(), arena.height());
  pred_tex.create(arena.width(), arena.height());
  const std::size_t frame_bytes = static_cast<std::size_t>(arena.width()) * arena.height() * 3;
  std::vector<parallax::agents::StepMetrics> last;

  // Main loop.
  int rc = 0;
  bool done = false;
  for (int frame = 0; !done; ++frame) {
    // 1. Events.
    SDL_Event event;
    while (SDL_PollEvent(&event)) {
      ImGui_ImplSDL2_ProcessEvent(&event);
      if (event.type == SDL_QUIT) done = true;
      if (event.type == SDL_KEYDOWN && event.key.keysym.sym == SDLK_SPACE)
        state.playing = !state.playing;
    }
    // 2. Advance the arena.
    if (state.playing || state.step_once) {
      const int n = state.step_once && !state.playing ? 1 : state.ticks_per_frame;
      for (int i = 0; i < n; ++i) {
        const auto m = arena.tick();
        last.assign(m.begin(), m.end());
        record(state, m);
      }
      state.step_once = false;
    }
    true_tex.upload(arena.true_frames().data() + state.env * frame_bytes);
    pred_tex.upload(arena.predicted_frames().data() + state.env * frame_bytes);
    // 3. New frame, UI, render, present.
    ImGui_ImplOpenGL3_NewFrame();
    ImGui_ImplSDL2_NewFrame();
    ImGui::NewFrame();
    build_ui(state, arena, true_tex, pred_tex, last);
    ImGui::Render();
    int w = 0, h = 0;
    SDL_GL_GetDrawableSize(window, &w, &h);
    glViewport(0, 0, w, h);
    glClearColor(0.08f, 0.08f, 0.1f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
    if (o.frames > 0 && frame + 1 >= o.frames) {
      if (!o.screenshot.empty()) {
        try {
          save_screenshot(o.screenshot, w, h);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
          rc = 1;
        }
      }
      done = true;
    }
    SDL_GL_SwapWindow(window);
  }

  // Clean up in reverse order.
  pred_tex.destroy();
  true_tex.destroy();
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
  ViewerOptions o;
  CLI::App app{"parallax-view: Bullet and the world model side by side (space: play/pause)"};
  app.add_option("--scene", o.scene, "Shipped scene name or path to a scene .json")
      ->capture_default_str();
  app.add_option("--model", o.model, "World-model checkpoint (default: assets/models/<scene>.pt)")
      ->check(CLI::ExistingFile);
  app.add_option("--envs", o.envs, "Environments")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--seed", o.seed, "Base seed")->capture_default_str();
  app.add_option("--policy", o.policy, "Agent: random | expert | noisy")->capture_default_str();
  app.add_option("--frames", o.frames, "Run N frames then exit (test mode)")
      ->check(CLI::PositiveNumber);
  app.add_option("--screenshot", o.screenshot, "With --frames: write the last frame to this PNG");
  app.add_option("--width", o.width, "Window width")
      ->check(CLI::Range(320, 7680))
      ->capture_default_str();
  app.add_option("--height", o.height, "Window height")
      ->check(CLI::Range(240, 4320))
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (!o.screenshot.empty() && o.frames <= 0) {
    std::fprintf(stderr, "parallax-view: error: --screenshot needs --frames N\n");
    return 2;
  }
  try {
    return run(o);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parallax-view: error: %s\n", e.what());
    return 1;
  }
}
