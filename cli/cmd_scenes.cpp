// parallax scenes: placeholder until its issue lands (exits 2 with a message, never pretends).
#include "commands.hpp"

namespace parallax::cli {

void register_scenes(CLI::App& app) {
  auto* sub = app.add_subcommand("scenes", "(not built yet)");
  sub->callback([] { throw UsageError("'parallax scenes' is not implemented yet"); });
}

}  // namespace parallax::cli
