// Flag checks shared by every command (the CLI toolkit; docs/cli.md, "Flags every command shares").
#pragma once

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdint>
#include <string>

#include "parallax/sim/thread_pool.hpp"

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

// --threads: 0 (all cores, resolved by sim::resolve_threads) up to sim::kMaxThreads.
inline CLI::Validator threads_check() {
  return CLI::Range(0, sim::kMaxThreads).description("INT in [0 (all cores), 256]");
}

}  // namespace parallax::cli
