// The benchmarks' main(): runs `run` and turns an exception into one line on stderr naming the
// benchmark, exit 2 for a bad value (std::stoi's invalid_argument and out_of_range, a bad
// precision or option) and 1 for anything else (a missing or corrupt checkpoint).
#pragma once

#include <cstdio>
#include <exception>
#include <stdexcept>

inline int guarded_main(const char* name, int (*run)(int, char**), int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::logic_error& e) {
    std::fprintf(stderr, "%s: bad value: %s\n", name, e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s: %s\n", name, e.what());
    return 1;
  }
}
