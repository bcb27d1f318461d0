// What the viewer does for a scripted command or a key (one path for both), and its text
// outputs for scripts and tests: the per-tick trace and the panels' rectangles.
#pragma once

#include <fstream>
#include <string>

#include "input_script.hpp"
#include "session.hpp"
#include "teleop.hpp"
#include "ui.hpp"

namespace parallax::viewer {

// Applies one command (input_script.hpp) to the session, UI state and teleoperation.
void apply(const ScriptCommand& c, Session& session, UiState& ui, Teleop& teleop, bool& quit);
// One JSON line for this tick of the selected env (--trace).
void trace_line(std::ofstream& out, const Snapshot& s);
// Each panel's rectangle in the last frame, as JSON (--panels-json); written atomically.
void write_panels_json(const std::string& path, const UiState& ui);

}  // namespace parallax::viewer
