// Scripted input for parallax-view (--input-script FILE): timed key presses and UI actions, so
// tests (and demos) drive teleoperation, mode switches, recording and switching under xvfb.
//
// Format: one command per line, `FRAME VERB [ARGS...]`; FRAME is the UI frame (0-based, non-
// decreasing down the file) at whose start the command applies; `#` starts a comment. Scripted
// runs are lockstep (one tick per frame while playing), so a script is reproducible.
//   F key NAME down|up      hold or release a key: left right up down w a s d (teleoperation)
//   F tap NAME              press and release (space: play/pause, r: record, p: snapshot,
//                           t: teleoperation on/off, f: imagine futures, n: resync now)
//   F drag X0 Y0 X1 Y1      mouse drag on the true frame, frame pixels; held until `release`
//   F release               ends a drag
//   F teleop on|off         teleoperation of env 0
//   F overlays on|off       body centroids on the frames
//   F mode mirror|dream     switch the arena mode
//   F mode resync N         resync every N ticks (N >= 1)
//   F resync                resync now
//   F policy NAME           random | noisy | expert
//   F env I                 select env I
//   F play | pause | step | reset
//   F record start FILE | record stop    side-by-side MP4 of the selected env
//   F snapshot FILE         PNG of the side-by-side view
//   F screenshot FILE       PNG of the whole window
//   F futures K random|planner           imagine K futures from the selected env
//   F scene NAME [MODEL]    switch scene (and model; default: the shipped one)
//   F model PATH            switch model, same scene
//   F quit
// A bad line is refused before the window opens: "FILE:LINE: ..." naming the value, exit 2.
#pragma once

#include <string>
#include <vector>

namespace parallax::viewer {

struct ScriptCommand {
  int frame = 0;
  int line = 0;
  std::string verb{};               // as written (key, tap, drag, ...)
  std::vector<std::string> args{};  // checked by parse_input_script
  std::vector<float> numbers{};     // drag: x0 y0 x1 y1; futures: K; mode resync: N; env: I
};

// Throws std::invalid_argument("FILE:LINE: ...") on the first bad line.
std::vector<ScriptCommand> parse_input_script(const std::string& path);

// Key names the script and the teleoperation share; "" if unknown.
bool is_script_key(const std::string& name);

}  // namespace parallax::viewer
