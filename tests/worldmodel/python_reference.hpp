// Reading what a PyTorch reference script (tests/python/*_reference.py) wrote: the script runs
// once per process into a scratch folder; its torch.save'd dicts are read with pickle_load.
#pragma once

#include <torch/torch.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "temp_dir.hpp"

namespace parallax::worldmodel::testing {

// Runs `python SOURCE/tests/python/<script> DIR` into a fresh scratch folder; returns DIR, or
// an empty path when the script failed (the caller REQUIREs it).
inline std::filesystem::path run_python_reference(const std::string& script,
                                                  const std::string& tag) {
  auto d = temp_dir(tag, "reference");
  const std::string cmd = std::string(PARALLAX_TEST_PYTHON) + " " + PARALLAX_SOURCE_DIR +
                          "/tests/python/" + script + " " + d.string() + " >/dev/null";
  return std::system(cmd.c_str()) == 0 ? d : std::filesystem::path();
}

inline c10::Dict<c10::IValue, c10::IValue> read_dict(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  return torch::pickle_load(bytes).toGenericDict();
}

inline torch::Tensor get(const c10::Dict<c10::IValue, c10::IValue>& d, const std::string& k) {
  return d.at(c10::IValue(k)).toTensor();
}

inline double max_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat) - b.to(torch::kFloat)).abs().max().item<double>();
}

}  // namespace parallax::worldmodel::testing
