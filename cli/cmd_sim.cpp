// parallax sim: placeholder until its issue lands (exits 2 with a message, never pretends).
#include "commands.hpp"

namespace parallax::cli {

void register_sim(CLI::App& app) {
  auto* sub = app.add_subcommand("sim", "(not built yet)");
  sub->callback([] { throw UsageError("'parallax sim' is not implemented yet"); });
}

}  // namespace parallax::cli
