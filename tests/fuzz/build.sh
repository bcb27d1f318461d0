#!/usr/bin/env bash
# Builds the libFuzzer targets with Debian's clang (not part of the CMake build):
#   tests/fuzz/build.sh [OUT_DIR] [TARGET...]   -> OUT_DIR/fuzz_scene, fuzz_store, fuzz_checkpoint
# (default OUT_DIR build-fuzz/, default targets: all three). fuzz_checkpoint needs the normal
# build's libparallax_worldmodel.a (BUILD_DIR, default build/) and LibTorch from PARALLAX_PYTHON
# (default the bootstrap venv). Run, e.g.:
#   OUT_DIR/fuzz_store -max_total_time=600 CORPUS_DIR tests/fuzz/corpus/store
# (new inputs go to CORPUS_DIR; crashes to ./crash-*). The shipped corpora are replayed by ctest.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
out=${1:-$here/build-fuzz}
shift || true
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(fuzz_scene fuzz_store fuzz_checkpoint)
mkdir -p "$out"
cxx=${CLANGXX:-clang++}
flags=(-std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined)
for t in "${targets[@]}"; do
  case $t in
    fuzz_scene)
      # The scene loader: scene.cpp, its per-concept parsers (scene_*.cpp), the JSON pre-scan.
      "$cxx" "${flags[@]}" -I"$here/sim/include" -I"$here/sim/src" \
        "$here/tests/fuzz/fuzz_scene.cpp" "$here"/sim/src/scene*.cpp \
        "$here/sim/src/json_prescan.cpp" -o "$out/fuzz_scene" ;;
    fuzz_store)
      # shellcheck disable=SC2046
      "$cxx" "${flags[@]}" -I"$here/worldmodel/include" -I"$here/base/include" \
        $(pkg-config --cflags hdf5) "$here/tests/fuzz/fuzz_store.cpp" \
        "$here/worldmodel/src/episode_store.cpp" "$here/base/src/atomic_file.cpp" \
        $(pkg-config --libs hdf5) -o "$out/fuzz_store" ;;
    fuzz_checkpoint)
      # Our loading layer instrumented; the rest of the worldmodel library (the models) comes
      # from the normal build's static library (g++), LibTorch as shipped; the definitions are
      # the ones Torch's CMake config gives that library. Even so clang and g++ lay out
      # UNetImpl differently (672 and 712 bytes), which ASan reports as a new-delete-type-mismatch
      # when one half frees what the other allocated: run it with
      # ASAN_OPTIONS=new_delete_type_mismatch=0 (the product is built by one compiler).
      py=${PARALLAX_PYTHON:-$HOME/.cache/parallax/venv-torch-2.11.0/bin/python}
      torch=$("$py" -c 'import os, torch; print(os.path.dirname(torch.__file__))')
      lib=${BUILD_DIR:-$here/build}/worldmodel/libparallax_worldmodel.a
      [ -f "$lib" ] || { echo "build.sh: $lib missing (build the worldmodel library first)" >&2; exit 1; }
      "$cxx" "${flags[@]}" -Wno-unused-command-line-argument -I"$here/worldmodel/include" \
        -I"$here/base/include" \
        -isystem "$torch/include" -isystem "$torch/include/torch/csrc/api/include" \
        -D_GLIBCXX_USE_CXX11_ABI=1 -DNDEBUG -DUSE_C10D_GLOO -DUSE_C10D_NCCL -DUSE_DISTRIBUTED \
        -DUSE_NVSHMEM -DUSE_RPC -DUSE_TENSORPIPE \
        "$here/tests/fuzz/fuzz_checkpoint.cpp" "$here/worldmodel/src/model_registry.cpp" \
        "$here/worldmodel/src/checkpoint.cpp" "$here/worldmodel/src/config.cpp" \
        "$here/base/src/atomic_file.cpp" "$lib" \
        $(pkg-config --libs hdf5) -L"$torch/lib" -Wl,-rpath,"$torch/lib" \
        -Wl,--no-as-needed -ltorch_cpu -lc10 -Wl,--as-needed -lpthread -o "$out/fuzz_checkpoint" ;;
    *) echo "build.sh: unknown target $t" >&2; exit 2 ;;
  esac
  echo "built $out/$t"
done
