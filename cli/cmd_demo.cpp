// parallax demo: placeholder until its issue lands (exits 2 with a message, never pretends).
#include "commands.hpp"

namespace parallax::cli {

void register_demo(CLI::App& app) {
  auto* sub = app.add_subcommand("demo", "(not built yet)");
  sub->callback([] { throw UsageError("'parallax demo' is not implemented yet"); });
}

}  // namespace parallax::cli
