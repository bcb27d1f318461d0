// parallax train: placeholder until its issue lands (exits 2 with a message, never pretends).
#include "commands.hpp"

namespace parallax::cli {

void register_train(CLI::App& app) {
  auto* sub = app.add_subcommand("train", "(not built yet)");
  sub->callback([] { throw UsageError("'parallax train' is not implemented yet"); });
}

}  // namespace parallax::cli
