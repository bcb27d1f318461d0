// parallax collect: placeholder until its issue lands (exits 2 with a message, never pretends).
#include "commands.hpp"

namespace parallax::cli {

void register_collect(CLI::App& app) {
  auto* sub = app.add_subcommand("collect", "(not built yet)");
  sub->callback([] { throw UsageError("'parallax collect' is not implemented yet"); });
}

}  // namespace parallax::cli
