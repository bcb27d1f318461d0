// Subcommands of `parallax`. Each lives in its own cli/cmd_<name>.cpp and registers itself on
// the app; its callback throws on bad input (caught in main.cpp: one line on stderr, exit 1).
// Which commands exist and where they are built: docs/cli.md, "Adding a command".
#pragma once

#include <CLI/CLI.hpp>
#include <stdexcept>
#include <string>

namespace parallax::cli {

// A usage error found after parsing (bad value combination, missing file...): exit code 2.
class UsageError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Ends the command with a specific exit code after it printed its own findings (the gates).
class ExitCode : public std::exception {
 public:
  explicit ExitCode(int code) : code_(code) {}
  int code() const { return code_; }
  const char* what() const noexcept override { return "exit code"; }

 private:
  int code_;
};

// The torch-free commands, built into the executable (cli/main.cpp).
void register_scenes(CLI::App& app);
void register_sim(CLI::App& app);
void register_render(CLI::App& app);

// The model commands, built into the plugin libparallax_model_cli.so: each cli/cmd_NAME.cpp
// defines `void register_NAME(CLI::App& app)`, declared from cli/model_commands.inc.
#define PARALLAX_MODEL_COMMAND(name, description) void register_##name(CLI::App& app);
#include "model_commands.inc"
#undef PARALLAX_MODEL_COMMAND

}  // namespace parallax::cli
