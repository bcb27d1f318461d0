// Subcommands of `parallax`. Each lives in its own cli/cmd_<name>.cpp and registers itself on
// the app; its callback throws on bad input (caught in main.cpp: one line on stderr, exit 1).
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

void register_scenes(CLI::App& app);
void register_sim(CLI::App& app);
void register_render(CLI::App& app);
void register_collect(CLI::App& app);
void register_train(CLI::App& app);
void register_demo(CLI::App& app);
void register_export(CLI::App& app);
void register_fidelity(CLI::App& app);
void register_plan(CLI::App& app);
void register_evaluate(CLI::App& app);
void register_scale(CLI::App& app);

}  // namespace parallax::cli
