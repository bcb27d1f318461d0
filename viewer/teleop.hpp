// Teleoperation input: keyboard (arrows or WASD), a game controller's left stick (SDL2's
// GameController API) and a mouse drag on the true frame, combined into one planar action for
// env 0: screen right = action[0] = +1, screen up = action[1] = +1 (push: the pusher's world +x
// and +y, as its camera looks along +y from above). Scripts hold keys and drags through the
// same state, so a scripted run exercises the same code.
#pragma once

#include <SDL.h>

#include <array>
#include <set>
#include <string>
#include <vector>

namespace parallax::viewer {

class Teleop {
 public:
  ~Teleop();
  // Opens the first game controller, if any (call after SDL_Init with GAMECONTROLLER).
  void open_controller();
  // Feeds an SDL event (key up/down, controller add/remove); returns true if it used it.
  bool handle(const SDL_Event& e, bool keyboard_free);
  // Scripted keys and drags.
  void set_key(const std::string& name, bool down);
  // Drag on the true frame: from (x0, y0) to (x1, y1), frame pixels; `frame_width` scales it.
  void set_drag(float dx, float dy, float frame_width);
  void clear_drag() { drag_ = {0, 0}; }
  // The action [A] for env 0 (components past the first two are 0), each in [-1, 1].
  std::vector<float> action(int action_size) const;
  // Whether anything is pushing right now.
  bool active() const;
  bool controller_connected() const { return controller_ != nullptr; }

 private:
  std::set<std::string> keys_;
  std::array<float, 2> drag_{0, 0};
  SDL_GameController* controller_ = nullptr;
};

// SDL key -> the script's key name ("left", "w", "space", ...), "" for others.
std::string key_name(SDL_Keycode key);

}  // namespace parallax::viewer
