#!/usr/bin/env bash
# Renderer part of bench/device-check.sh (issue 4), run on the GPU machine:
#   bash bench/device-check-render.sh BUILD_DIR OUT_DIR
# 1. CUDA vs CPU: tests/sim/test_render_cuda.cpp ("[cuda]"): every shipped scene, 16 seeded and
#    stepped envs, 96x72, spp 1 and 4; at most 0.5% of pixels may differ by more than 2 (ids: 0.5%).
# 2. CUDA benchmark: frames/s at 64x64 and 128x128 for N = 1 .. 16384 (goal: >= 1,000,000 frames/s
#    at 64x64 on one H100), then the CPU figures on this machine's cores for comparison.
# Writes OUT_DIR/render-cuda-vs-cpu.log, render-bench-cuda.jsonl, render-bench-cpu.jsonl.
set -uo pipefail
build=${1:?usage: device-check-render.sh BUILD_DIR OUT_DIR}
out=${2:?usage: device-check-render.sh BUILD_DIR OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/bench/device-lib.sh"  # cap: every timeout ends before DEVICE_DEADLINE
export PARALLAX_ASSETS="$here/assets"
mkdir -p "$out"
rc=0

echo "render: CUDA vs CPU"
if timeout "$(cap 90)" "$build/tests/parallax_tests_sim" "[cuda]" >"$out/render-cuda-vs-cpu.log" 2>&1; then
  if grep -q "CUDA-vs-CPU comparison not run" "$out/render-cuda-vs-cpu.log"; then
    echo "render: FAILED: the CUDA renderer is not live (built without sim/src/render_cuda.cu?)"
    rc=1
  else
    echo "render: CUDA vs CPU ok"
  fi
else
  echo "render: CUDA vs CPU FAILED (render-cuda-vs-cpu.log)"
  tail -30 "$out/render-cuda-vs-cpu.log"
  rc=1
fi

echo "render: CUDA benchmark"
timeout "$(cap 240)" "$build/bench/bench_render" --cuda-only --no-pybullet --seconds 0.5 \
  --ns 1,64,1024,4096,16384 >"$out/render-bench-cuda.jsonl" 2>&1 || rc=1
cat "$out/render-bench-cuda.jsonl"
grep -q '"device":"cuda","fps"' "$out/render-bench-cuda.jsonl" || { echo "render: no CUDA figures"; rc=1; }

if cpu_figures render; then
  echo "render: CPU benchmark on this machine ($(nproc) cores)"
  timeout "$(cap 240)" "$build/bench/bench_render" --cpu-only --seconds 0.3 --ns 1,64,1024 \
    --threads "1,2,$(nproc)" >"$out/render-bench-cpu.jsonl" 2>&1 || rc=1
  cat "$out/render-bench-cpu.jsonl"
fi
exit $rc
