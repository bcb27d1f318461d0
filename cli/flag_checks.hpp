// Flag checks shared by several commands (a candidate for the CLI toolkit in cli/common.*).
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <string>

namespace parallax::cli {

// --seed: a decimal whole number in [0, 2^64 - 1]. CLI11 alone reads through strtoull, which
// turns "-1" and every number above 2^64 - 1 into 2^64 - 1 silently (and "0x10" into 16).
inline CLI::Validator seed_check() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        std::uint64_t v = 0;
        const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
        if (s.empty() || ec != std::errc() || end != s.data() + s.size())
          return "expected a whole number in [0, 18446744073709551615], found '" + s + "'";
        return "";
      },
      "UINT64");
}

}  // namespace parallax::cli
