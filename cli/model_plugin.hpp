// The boundary between `parallax` (torch-free: help, scenes, sim, render) and the plugin
// libparallax_model_cli.so that holds the model commands (cli/model_commands.inc) and LibTorch.
#pragma once

#include <CLI/CLI.hpp>

namespace parallax::cli {

// Bumped whenever the entry point's contract changes; the executable refuses a plugin built for
// another version (a stale build folder, a mixed install).
inline constexpr int kModelPluginAbi = 1;

// The plugin's file name; the executable looks for it next to itself, then in ../lib/parallax/
// (an install: bin/parallax + lib/parallax/libparallax_model_cli.so). PARALLAX_MODEL_CLI, when
// set, names the file instead.
inline constexpr const char* kModelPluginFile = "libparallax_model_cli.so";

// The plugin's one exported symbol (extern "C", so dlsym finds it by this name).
inline constexpr const char* kModelPluginEntry = "parallax_model_cli_register";
using ModelPluginEntry = int (*)(CLI::App* app, int abi);

}  // namespace parallax::cli
