// A "parallax-model/2" checkpoint file, read without building its model: the dict
// {"parallax_format", "family", "config" (JSON text), "weights" {name: tensor}} that
// worldmodel/python writes for every family (load_world_model() dispatches on its family; other
// libraries read their own families through it, e.g. agents::PoseDynamics).
// Reference: docs/worldmodel.md.
#pragma once

#include <torch/torch.h>

#include <optional>
#include <string>

namespace parallax::worldmodel {

struct ModelFile {
  std::string family;
  std::string config;  // the family's config, JSON text
  c10::impl::GenericDict weights{c10::StringType::get(), c10::AnyType::get()};
  std::string sha256;  // of the file's bytes
};

// Reads and validates the dict. Returns nullopt for the RSSM's own archive format (a TorchScript
// archive: checkpoint.hpp). Throws std::runtime_error with one line naming the file for a missing,
// truncated, corrupt or foreign file, or a missing or mistyped field.
std::optional<ModelFile> read_model_file(const std::string& path);

// The family a checkpoint names ("rssm" for the RSSM's archive); the errors of read_model_file().
std::string checkpoint_family(const std::string& path);

// Copies every named parameter and buffer of `m` from `weights`, checking names, shapes and
// finiteness; throws std::runtime_error starting with `where` otherwise (also for weights the
// module does not have).
void load_weights(torch::nn::Module& m, const c10::Dict<c10::IValue, c10::IValue>& weights,
                  const std::string& where);

}  // namespace parallax::worldmodel
