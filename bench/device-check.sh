#!/usr/bin/env bash
# GPU check, run on the device machine from the repository root (it has CUDA 13 and PyTorch 2.11 in
# its python3, but no Bullet, HDF5, stb, JSON, CLI11 or Catch2, and no package registry).
# Here first:   scripts/prepare-device-deps            (fills .device-deps/, ~36 MiB)
# Then:         device run, carry [".device-deps"], timeout_s 590, command:
#                 DEVICE_SECONDS=545 bash bench/device-check.sh [--train SCENE]
# (first run, 2026-12-04 on an H200: 9 minutes with --train push; README "GPU check").
# The device tool runs one command for at most 10 minutes, build included, and brings back at most
# 8 files, so this script works to one deadline (DEVICE_SECONDS, default 560 s from its start; every
# step's timeout is capped by it, bench/device-lib.sh) and leaves at most 6 files under $OUT.
# 1. configure with CUDA, without the viewer and FFmpeg (not on that machine); build the CLI
#    (`parallax` and its model plugin);
# 2. with --train SCENE: collect SCENE's training data with that CLI (Bullet is carried; the seeds of
#    scripts/train-default-model) and start bench/device-train.sh in the background on it, its
#    budget what is left of the deadline; it shares the GPU with steps 3-4 (the benchmark figures
#    say so: "concurrent_training" in summary.txt, and the parts skip their CPU benchmarks);
# 3. build the GPU checks' targets (the sim and worldmodel test binaries, the benchmarks); the CPU
#    ctest suite is not run here (CI runs it);
# 4. the bench/device-check-{render,worldmodel,planner}.sh parts: the "[cuda]" tests live (they
#    fail if a device is present but they do not run), the renderer, world-model and planner
#    benchmarks, a CUDA training run of the RSSM and `parallax scale` on CUDA;
# 5. $OUT: summary.txt, logs.tar.gz (nvidia-smi, torch, configure, build, the parts' logs, JSON
#    lines and the scale report) and, with --train, the models of bench/device-train.sh.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${OUT:-$here/out/device}
train_scene=
case ${1:-} in
  "") ;;
  --train) train_scene=${2:?usage: device-check.sh [--train SCENE]} ;;
  *) echo "device-check: error: unknown argument '$1' (usage: device-check.sh [--train SCENE])" >&2; exit 2 ;;
esac
export DEVICE_DEADLINE=${DEVICE_DEADLINE:-$(($(date +%s) + ${DEVICE_SECONDS:-560}))}
source "$here/bench/device-lib.sh"
mkdir -p "$OUT"
logs="$OUT/logs"
mkdir -p "$logs"
root="$here/.device-deps/root"
[[ -d $root ]] || { echo "device-check: $root missing: run scripts/prepare-device-deps here and carry .device-deps" >&2; exit 1; }
log() { echo "device-check: [$(date +%T)] $*" | tee -a "$OUT/summary.txt" >&2; }

# Carried sysroot: pkgconf resolves the Debian .pc files inside it.
export PKG_CONFIG_SYSROOT_DIR="$root"
export PKG_CONFIG_LIBDIR="$root/usr/lib/x86_64-linux-gnu/pkgconfig:$root/usr/share/pkgconfig"
export LD_LIBRARY_PATH="$root/usr/lib/x86_64-linux-gnu:$root/usr/lib/x86_64-linux-gnu/hdf5/serial:$root/runtime:${LD_LIBRARY_PATH:-}"
export PATH="/usr/local/cuda/bin:$PATH"
export PARALLAX_ASSETS="$here/assets"
py=$(command -v python3)
nvidia-smi >"$logs/nvidia-smi.txt" 2>&1 || log "nvidia-smi failed"
"$py" -c "import torch; print(torch.__version__, torch.version.cuda, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')" >"$logs/torch.txt" 2>&1
log "torch: $(tail -1 "$logs/torch.txt")"

pack() {  # everything but the summary and the models in one archive (the tool brings back 8 files)
  tar -C "$OUT" -czf "$OUT/logs.tar.gz.tmp" logs && mv "$OUT/logs.tar.gz.tmp" "$OUT/logs.tar.gz" && rm -rf "$logs"
}
build="${DEVICE_BUILD_DIR:-$here/build-device}"
rc=0
if [[ ${DEVICE_SKIP_CONFIGURE:-0} != 1 ]]; then  # (1 reuses a configured build dir: a dry run of this script)
  log "configure"
  timeout "$(cap 180)" cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DPARALLAX_WITH_VIEWER=OFF \
    -DPARALLAX_WITH_FFMPEG=OFF -DPARALLAX_CUDA=ON -DPARALLAX_PYTHON="$py" -DPKG_CONFIG_EXECUTABLE="$root/usr/bin/pkgconf" \
    -DCMAKE_PREFIX_PATH="$root/usr;$root/usr/lib/cmake;$root/usr/share/cmake" \
    >"$logs/configure.log" 2>&1 || { log "configure FAILED"; tail -30 "$logs/configure.log" >&2; pack; exit 1; }
fi
jobs=$(nproc)
log "build parallax ($jobs jobs)"
built=1
timeout "$(cap 300)" cmake --build "$build" -j "$jobs" --target parallax >"$logs/build.log" 2>&1 ||
  { log "build of parallax FAILED (build.log; the checks that need no CLI still run)"; grep -m5 "error" "$logs/build.log" >&2; built=0; rc=1; }

train_pid=
if [[ -n $train_scene && $built == 1 ]]; then
  data="$here/runs/device-$train_scene"
  log "collect $train_scene training data into $data"
  if DEVICE_COLLECT_THREADS=$jobs bash "$here/bench/device-train.sh" --collect "$train_scene" "$build/cli/parallax" "$data" \
      >"$logs/collect.log" 2>&1; then
    log "train $train_scene in the background (bench/device-train.sh, until $(date -d "@$((DEVICE_DEADLINE - 25))" +%T))"
    TRAIN_DATA="$data" TRAIN_DEADLINE=$((DEVICE_DEADLINE - 25)) OUT="$OUT" \
      bash "$here/bench/device-train.sh" "$train_scene" >"$logs/device-train.log" 2>&1 &
    train_pid=$!
    export DEVICE_CONCURRENT_TRAINING=1  # the parts skip their CPU benchmarks (bench/device-lib.sh)
    echo "concurrent_training: $train_scene (bench/device-train.sh shares the GPU with the checks below)" >>"$OUT/summary.txt"
  else
    log "collect FAILED (collect.log)"; rc=1
  fi
fi

log "build the GPU checks' targets"
timeout "$(cap 300 120)" cmake --build "$build" -j "$jobs" --target parallax_tests_sim parallax_tests_worldmodel \
  bench_render bench_worldmodel bench_planner -- -k >>"$logs/build.log" 2>&1 ||
  { log "build of the checks FAILED (build.log)"; tail -40 "$logs/build.log" >&2; rc=1; }
# The parts in order of what matters most (the [cuda] tests first), each with a share of the time
# left (seconds; the planner part takes what remains): DEVICE_DEADLINE is lowered for each.
for spec in render:70 worldmodel:160 planner:0; do
  name=${spec%%:*} share=${spec##*:}
  part="$here/bench/device-check-$name.sh"
  if ! time_left 30; then log "part $name NOT RUN: deadline"; rc=1; continue; fi
  part_deadline=$DEVICE_DEADLINE
  ((share > 0 && $(date +%s) + share < part_deadline)) && part_deadline=$(($(date +%s) + share))
  log "part $name (until $(date -d "@$part_deadline" +%T))"
  DEVICE_DEADLINE=$part_deadline bash "$part" "$build" "$logs" >>"$logs/parts.log" 2>&1 ||
    { log "part $name FAILED"; rc=1; }
done
if [[ -n $train_pid ]]; then
  log "wait for the training"
  wait "$train_pid" || { log "device-train FAILED (device-train.log)"; rc=1; }
  tail -5 "$logs/device-train.log" >>"$OUT/summary.txt"
fi
grep -h "^\(render\|worldmodel\|planner\): " "$logs/parts.log" >>"$OUT/summary.txt" 2>/dev/null
pack
log "done rc=$rc"
exit $rc
