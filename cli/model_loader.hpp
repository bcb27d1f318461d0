// Model commands seen from the torch-free executable: their names and descriptions (for
// `parallax --help`), and loading the plugin that implements them when one is selected.
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace parallax::cli {

// True when the command line selects a model command (its first word that is not an option is
// one, its --help included) or asks for --help-all: then the plugin must be loaded.
bool selects_model_command(int argc, const char* const* argv);

// Adds every model command as a name and description only (for `parallax --help`).
void add_model_command_stubs(CLI::App& app);

// Loads the plugin and lets it register the model commands on `app`. Throws ModelPluginError
// (one line naming the file and the reason) when it is missing or cannot be loaded.
void load_model_commands(CLI::App& app);

class ModelPluginError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Where the plugin is looked for, in order (PARALLAX_MODEL_CLI, next to the executable, then
// ../lib/parallax/ from it).
std::vector<std::string> model_plugin_candidates();

}  // namespace parallax::cli
