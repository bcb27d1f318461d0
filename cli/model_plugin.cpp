// The entry point of libparallax_model_cli.so: registers every model command on the app that
// the executable built (cli/model_commands.inc lists them).
#include "model_plugin.hpp"

#include "commands.hpp"

// Returns 0 when every command was registered; the ABI version it was built for when the
// executable's differs (nothing registered then).
extern "C" __attribute__((visibility("default"))) int parallax_model_cli_register(CLI::App* app,
                                                                                  int abi) {
  if (abi != parallax::cli::kModelPluginAbi) return parallax::cli::kModelPluginAbi;
#define PARALLAX_MODEL_COMMAND(name, description) parallax::cli::register_##name(*app);
#include "model_commands.inc"
#undef PARALLAX_MODEL_COMMAND
  return 0;
}
