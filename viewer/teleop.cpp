#include "teleop.hpp"

#include <algorithm>
#include <cmath>

namespace parallax::viewer {

std::string key_name(SDL_Keycode key) {
  switch (key) {
    case SDLK_LEFT:
      return "left";
    case SDLK_RIGHT:
      return "right";
    case SDLK_UP:
      return "up";
    case SDLK_DOWN:
      return "down";
    case SDLK_w:
      return "w";
    case SDLK_a:
      return "a";
    case SDLK_s:
      return "s";
    case SDLK_d:
      return "d";
    case SDLK_SPACE:
      return "space";
    case SDLK_r:
      return "r";
    case SDLK_p:
      return "p";
    case SDLK_t:
      return "t";
    case SDLK_f:
      return "f";
    case SDLK_n:
      return "n";
    default:
      return "";
  }
}

Teleop::~Teleop() {
  if (controller_) SDL_GameControllerClose(controller_);
}

void Teleop::open_controller() {
  for (int i = 0; i < SDL_NumJoysticks() && !controller_; ++i)
    if (SDL_IsGameController(i)) controller_ = SDL_GameControllerOpen(i);
}

bool Teleop::handle(const SDL_Event& e, bool keyboard_free) {
  if (e.type == SDL_CONTROLLERDEVICEADDED && !controller_) {
    open_controller();
    return true;
  }
  if (e.type == SDL_CONTROLLERDEVICEREMOVED && controller_) {
    SDL_GameControllerClose(controller_);
    controller_ = nullptr;
    open_controller();
    return true;
  }
  if ((e.type == SDL_KEYDOWN || e.type == SDL_KEYUP) && keyboard_free) {
    const std::string k = key_name(e.key.keysym.sym);
    if (k == "left" || k == "right" || k == "up" || k == "down" || k == "w" || k == "a" ||
        k == "s" || k == "d") {
      set_key(k, e.type == SDL_KEYDOWN);
      return true;
    }
  }
  return false;
}

void Teleop::set_key(const std::string& name, bool down) {
  if (down)
    keys_.insert(name);
  else
    keys_.erase(name);
}

void Teleop::set_drag(float dx, float dy, float frame_width) {
  // A drag of a quarter of the frame is full speed; screen y grows downwards.
  const float s = 4.0f / std::max(1.0f, frame_width);
  drag_ = {std::clamp(dx * s, -1.0f, 1.0f), std::clamp(-dy * s, -1.0f, 1.0f)};
}

std::vector<float> Teleop::action(int action_size) const {
  std::vector<float> a(std::max(0, action_size), 0.0f);
  if (action_size < 1) return a;
  float x = 0, y = 0;
  if (keys_.count("right") || keys_.count("d")) x += 1;
  if (keys_.count("left") || keys_.count("a")) x -= 1;
  if (keys_.count("up") || keys_.count("w")) y += 1;
  if (keys_.count("down") || keys_.count("s")) y -= 1;
  x += drag_[0];
  y += drag_[1];
  if (controller_) {
    auto axis = [&](SDL_GameControllerAxis ax) {
      const float v = SDL_GameControllerGetAxis(controller_, ax) / 32767.0f;
      return std::abs(v) < 0.15f ? 0.0f : v;  // dead zone
    };
    x += axis(SDL_CONTROLLER_AXIS_LEFTX);
    y -= axis(SDL_CONTROLLER_AXIS_LEFTY);
  }
  a[0] = std::clamp(x, -1.0f, 1.0f);
  if (action_size > 1) a[1] = std::clamp(y, -1.0f, 1.0f);
  return a;
}

bool Teleop::active() const {
  return !keys_.empty() || drag_[0] != 0 || drag_[1] != 0;
}

}  // namespace parallax::viewer
