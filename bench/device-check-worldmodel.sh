#!/usr/bin/env bash
# World-model part of bench/device-check.sh (issue 5), run on the GPU machine:
#   bash bench/device-check-worldmodel.sh BUILD_DIR OUT_DIR
# 1. CUDA tests (tests/worldmodel/test_cuda.cpp, "[cuda]"): DreamBatch on CUDA equals the CPU
#    engine (fp32, no TF32), bf16 autocast training learns and stays finite, a CUDA checkpoint
#    loads on the CPU bit-identically, resume on CUDA, DreamBatch ticks replayed from a CUDA graph
#    equal eager ticks.
# 2. `parallax collect` + `parallax train --device cuda` end to end (bf16 autocast, 200 steps).
# 3. Benchmark: training frames/s and imagination steps/s (latent only, with decoding) per preset
#    on CUDA (DreamBatch N = 1 .. 4096, eager and CUDA graph), then the CPU figures on this
#    machine's cores.
# Writes two files (the device tool brings back at most 8 in all):
#   OUT_DIR/worldmodel-cuda.log      test log, train summary and the tail of its metrics
#   OUT_DIR/worldmodel-bench.jsonl   benchmark lines (cuda, then cpu)
set -uo pipefail
build=${1:?usage: device-check-worldmodel.sh BUILD_DIR OUT_DIR}
out=${2:?usage: device-check-worldmodel.sh BUILD_DIR OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/bench/device-lib.sh"  # cap: every timeout ends before DEVICE_DEADLINE
export PARALLAX_ASSETS="$here/assets"
mkdir -p "$out"
log="$out/worldmodel-cuda.log"
bench="$out/worldmodel-bench.jsonl"
: >"$log"
: >"$bench"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
rc=0

echo "worldmodel: CUDA tests"
if timeout "$(cap 240)" "$build/tests/parallax_tests_worldmodel" "[cuda]" -d yes >>"$log" 2>&1; then
  if grep -q "CUDA not available" "$log"; then
    echo "worldmodel: FAILED: LibTorch sees no CUDA device (tests not live)"
    rc=1
  else
    echo "worldmodel: CUDA tests ok"
  fi
else
  echo "worldmodel: CUDA tests FAILED (worldmodel-cuda.log)"
  tail -30 "$log"
  rc=1
fi

echo "worldmodel: collect + train --device cuda"
{
  echo "== parallax collect + train --device cuda"
  timeout "$(cap 120)" "$build/cli/parallax" collect --scene push --agent noisy --episodes 16 --envs 16 \
    --seed 1 --out "$tmp/ds" --quiet &&
  timeout "$(cap 240)" "$build/cli/parallax" train --data "$tmp/ds" --preset small --device cuda \
    --steps 200 --batch 16 --seq 32 --out "$tmp/m.pt" --log "$tmp/train.jsonl" --quiet --json
} >>"$log" 2>&1
train_rc=$?
{ echo "== first and last metric lines"; head -2 "$tmp/train.jsonl"; tail -2 "$tmp/train.jsonl"; } >>"$log" 2>&1
if [[ $train_rc -ne 0 ]] || ! grep -q '"skipped":0' "$log"; then
  echo "worldmodel: CUDA training FAILED or skipped steps (worldmodel-cuda.log)"
  tail -20 "$log"
  rc=1
else
  echo "worldmodel: CUDA training ok: $(tail -1 "$tmp/train.jsonl")"
fi

echo "worldmodel: CUDA benchmark"
timeout "$(cap 240)" "$build/bench/bench_worldmodel" --device cuda --presets tiny,small,base --batch 16 \
  --seq 64 --train-steps 10 --dream 1,64,1024,4096 --ticks 50 >>"$bench" 2>&1 || rc=1
grep -q '"device":"cuda","frames_per_s"' "$bench" || { echo "worldmodel: no CUDA figures"; rc=1; }

if cpu_figures worldmodel; then
  echo "worldmodel: CPU benchmark on this machine ($(nproc) cores)"
  timeout "$(cap 180)" "$build/bench/bench_worldmodel" --device cpu --presets tiny,small --batch 8 \
    --seq 16 --train-steps 3 --dream 1,64 --ticks 10 >>"$bench" 2>&1 || rc=1
fi
cat "$bench"
exit $rc
