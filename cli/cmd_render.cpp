// parallax render: placeholder until its issue lands (exits 2 with a message, never pretends).
#include "commands.hpp"

namespace parallax::cli {

void register_render(CLI::App& app) {
  auto* sub = app.add_subcommand("render", "(not built yet)");
  sub->callback([] { throw UsageError("'parallax render' is not implemented yet"); });
}

}  // namespace parallax::cli
