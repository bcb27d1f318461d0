#!/usr/bin/env bash
# Builds the libFuzzer targets with Debian's clang (not part of the CMake build):
#   tests/fuzz/build.sh [OUT_DIR]          -> OUT_DIR/fuzz_scene (default build-fuzz/)
# Run:  OUT_DIR/fuzz_scene -max_total_time=600 CORPUS_DIR tests/fuzz/corpus/scene
# (new inputs go to CORPUS_DIR; crashes to ./crash-*). The shipped corpus is replayed by ctest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$here/build-fuzz}
mkdir -p "$out"
cxx=${CLANGXX:-clang++}
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
       -I"$here/sim/include" -I"$here/sim/src")
# The scene loader: scene.cpp, its per-concept parsers (scene_*.cpp) and the JSON pre-scan.
"$cxx" "${flags[@]}" "$here/tests/fuzz/fuzz_scene.cpp" "$here"/sim/src/scene*.cpp \
  "$here/sim/src/json_prescan.cpp" -o "$out/fuzz_scene"
echo "built $out/fuzz_scene"
