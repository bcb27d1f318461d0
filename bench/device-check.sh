#!/usr/bin/env bash
# GPU check, run on the device machine from the repository root (it has CUDA 13 and PyTorch 2.11 in
# its python3, but no Bullet, HDF5, stb, JSON, CLI11 or Catch2, and no package registry).
# Here first:   scripts/prepare-device-deps            (fills .device-deps/, ~36 MiB)
# Then:         device run, carry [".device-deps"], command: bash bench/device-check.sh
# It builds without the viewer and with CUDA, runs the ctest suite except the viewer entries
# (the per-layer Catch2 entries leave out the hidden "[.cuda]" tests; the entry "cuda: GPU tests of
# sim and worldmodel" runs them, and fails if a device is present but they do not run live), then
# every bench/device-check-*.sh part (the same "[cuda]" tests again with their logs, plus the
# renderer and world-model benchmarks and a CUDA training run), and writes everything under $OUT
# (default out/device): summary.txt, nvidia-smi.txt, torch.txt, configure.log, build.log,
# ctest.log, parts.log and the parts' own files.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$here/out/device}
mkdir -p "$OUT"
root="$here/.device-deps/root"
[[ -d $root ]] || { echo "device-check: $root missing: run scripts/prepare-device-deps here and carry .device-deps" >&2; exit 1; }
log() { echo "device-check: $*" | tee -a "$OUT/summary.txt" >&2; }

# Carried sysroot: pkgconf resolves the Debian .pc files inside it.
export PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_LIBDIR="$root/usr/lib/x86_64-linux-gnu/pkgconfig:$root/usr/share/pkgconfig"
export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu/hdf5/serial:$root/runtime:${LD_LIBRARY_PATH:-}"
export PATH="/usr/local/cuda/bin:$PATH"
py=$(command -v python3)
nvidia-smi >"$OUT/nvidia-smi.txt" 2>&1 || log "nvidia-smi failed"
"$py" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available())" >"$OUT/torch.txt" 2>&1

build="$here/build-device"
log "configure"
cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPARALLAX_WITH_VIEWER=OFF -DPARALLAX_CUDA=ON \
  -DPARALLAX_PYTHON="$py" -DPKG_CONFIG_EXECUTABLE="$root/usr/bin/pkgconf" \
  -DCMAKE_PREFIX_PATH="$root/usr;$root/usr/lib/cmake;$root/usr/share/cmake" \
  >"$OUT/configure.log" 2>&1 || { log "configure FAILED (configure.log)"; tail -30 "$OUT/configure.log" >&2; exit 1; }
log "build"
cmake --build "$build" -j "$(nproc)" >"$OUT/build.log" 2>&1 || { log "build FAILED (build.log)"; tail -40 "$OUT/build.log" >&2; exit 1; }
log "ctest"
(cd "$build" && ctest -j 8 --output-on-failure -E "^viewer:" >"$OUT/ctest.log" 2>&1); rc=$?
tail -5 "$OUT/ctest.log" | tee -a "$OUT/summary.txt"
for part in "$here"/bench/device-check-*.sh; do
  [[ -e $part ]] || continue
  log "part $(basename "$part")"
  bash "$part" "$build" "$OUT" >>"$OUT/parts.log" 2>&1 || { log "part $(basename "$part") FAILED"; rc=1; }
done
log "done rc=$rc"
exit $rc
