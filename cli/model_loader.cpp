#include "model_loader.hpp"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <system_error>

#include "commands.hpp"
#include "model_plugin.hpp"

namespace parallax::cli {

namespace {

struct ModelCommand {
  const char* name;
  const char* description;
};
constexpr ModelCommand kModelCommands[] = {
#define PARALLAX_MODEL_COMMAND(name, description) {#name, description},
#include "model_commands.inc"
#undef PARALLAX_MODEL_COMMAND
};

// dlerror() can span lines (the loader's "undefined symbol" messages do not, but be safe).
std::string one_line(const char* s) {
  std::string out = s ? s : "unknown error";
  for (char& c : out)
    if (c == '\n' || c == '\r') c = ' ';
  return out;
}

}  // namespace

bool selects_model_command(int argc, const char* const* argv) {
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help-all") return true;
    if (arg.empty() || arg[0] == '-') continue;  // the top level has flags only, no values
    for (const auto& c : kModelCommands)
      if (arg == c.name) return true;
    return false;
  }
  return false;
}

void add_model_command_stubs(CLI::App& app) {
  for (const auto& c : kModelCommands) {
    auto* sub = app.add_subcommand(c.name, c.description);
    sub->allow_extras();
    // Unreachable: selects_model_command() loads the plugin for these names first.
    sub->callback([name = std::string(c.name)] {
      throw std::runtime_error("internal: model command '" + name +
                               "' selected without its plugin");
    });
  }
}

std::vector<std::string> model_plugin_candidates() {
  if (const char* env = std::getenv("PARALLAX_MODEL_CLI"); env && *env) return {env};
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) return {kModelPluginFile};
  const auto dir = exe.parent_path();
  return {(dir / kModelPluginFile).string(),
          (dir / ".." / "lib" / "parallax" / kModelPluginFile).lexically_normal().string()};
}

void load_model_commands(CLI::App& app) {
  const auto candidates = model_plugin_candidates();
  std::string path;
  for (const auto& c : candidates) {
    if (std::filesystem::exists(c)) {
      path = c;
      break;
    }
  }
  if (path.empty()) {
    std::string tried;
    for (const auto& c : candidates) tried += (tried.empty() ? "" : ", ") + c;
    throw ModelPluginError("the model commands' plugin " + std::string(kModelPluginFile) +
                           " was not found (looked for " + tried +
                           "; build the target parallax_model_cli, or set PARALLAX_MODEL_CLI)");
  }
  // RTLD_LOCAL: the plugin's copies of our libraries stay its own. Never closed: its code runs
  // until exit (and LibTorch does not support unloading).
  void* handle = ::dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle)
    throw ModelPluginError("cannot load the model commands' plugin " + path + ": " +
                           one_line(::dlerror()));
  auto entry = reinterpret_cast<ModelPluginEntry>(::dlsym(handle, kModelPluginEntry));
  if (!entry)
    throw ModelPluginError(path + " is not a Parallax model-commands plugin (no symbol " +
                           std::string(kModelPluginEntry) + ")");
  if (const int abi = entry(&app, kModelPluginAbi); abi != 0)
    throw ModelPluginError(path + " was built for plugin interface " + std::to_string(abi) +
                           ", this parallax needs " + std::to_string(kModelPluginAbi) +
                           " (a stale build or a mixed install: rebuild both)");
  for (const auto& c : kModelCommands) {
    const auto found =
        app.get_subcommands([&](const CLI::App* s) { return s->get_name() == c.name; });
    if (found.empty())
      throw ModelPluginError(path + " did not register the command '" + c.name +
                             "' (listed in cli/model_commands.inc)");
    // One source for the summary: a developer who changes one of the two texts finds out here.
    if (found[0]->get_description() != c.description)
      throw ModelPluginError("the command '" + std::string(c.name) +
                             "' has another description in its cmd_" + c.name +
                             ".cpp than in cli/model_commands.inc: make them equal");
  }
}

}  // namespace parallax::cli
