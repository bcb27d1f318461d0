// parallax export: copies a checkpoint's weights and config into a new checkpoint without the
// optimiser and trainer state (a third of the size): what ships in assets/models/.
#include <cstdio>
#include <filesystem>

#include "commands.hpp"
#include "parallax/worldmodel/checkpoint.hpp"

namespace parallax::cli {

void register_export(CLI::App& app) {
  struct Options {
    std::string in, out;
  };
  auto o = std::make_shared<Options>();
  auto* sub = app.add_subcommand(
      "export", "Write a weights-only copy of a checkpoint (no optimiser or trainer state)");
  sub->add_option("--in", o->in, "Checkpoint written by `parallax train`")
      ->required()
      ->check(CLI::ExistingFile);
  sub->add_option("--out", o->out, "Weights-only checkpoint to write (atomically)")->required();
  sub->callback([o] {
    if (std::filesystem::exists(o->out) && std::filesystem::equivalent(o->in, o->out))
      throw UsageError("--out must differ from --in ('" + o->in + "')");
    const auto loaded = worldmodel::load_checkpoint(o->in, torch::kCPU);
    worldmodel::save_checkpoint(o->out, loaded.model, loaded.config);
    std::printf("exported %s (%s preset, %dx%d frames, %d actions) -> %s (%ju bytes)\n",
                o->in.c_str(), loaded.config.preset.c_str(), loaded.config.height,
                loaded.config.width, loaded.config.action_size, o->out.c_str(),
                static_cast<std::uintmax_t>(std::filesystem::file_size(o->out)));
  });
}

}  // namespace parallax::cli
