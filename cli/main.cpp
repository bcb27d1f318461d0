// parallax: the headless front end (scenes, sim, render, collect, train, demo, export).
#include <cstdio>
#include <exception>

#include "commands.hpp"

int main(int argc, char** argv) {
  CLI::App app{
      "parallax: a learned video world model side by side with a Bullet physics reference.\n"
      "Run `parallax COMMAND --help` for the options of each command."};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show the help of every command");
  parallax::cli::register_scenes(app);
  parallax::cli::register_sim(app);
  parallax::cli::register_render(app);
  parallax::cli::register_collect(app);
  parallax::cli::register_train(app);
  parallax::cli::register_demo(app);
  parallax::cli::register_export(app);
  parallax::cli::register_fidelity(app);
  parallax::cli::register_plan(app);
  parallax::cli::register_evaluate(app);
  parallax::cli::register_scale(app);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // Every bad flag or value is a usage error: one line, exit 2 (not CLI11's two lines).
    if (e.get_exit_code() == 0) return app.exit(e);
    std::fprintf(stderr, "parallax: error: %s\n", e.what());
    return 2;
  } catch (const parallax::cli::ExitCode& e) {
    return e.code();
  } catch (const parallax::cli::UsageError& e) {
    std::fprintf(stderr, "parallax: error: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "parallax: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
