#!/usr/bin/env bash
# Planner part of bench/device-check.sh (issue 11), run on the GPU machine:
#   bash bench/device-check-planner.sh BUILD_DIR OUT_DIR
# 1. bench_planner on CUDA: CEM decisions with the shipped push models (latent, unet, and the
#    pose-head latent with --reward poses, also with the unet judging 2, 4, 8 finalists) at
#    K = 64, 256, 1024
#    (H = 15, 4 iterations, 2 decisions; the unet at f32 and bf16), eager and with CUDA graphs, against the Bullet oracle on this
#    machine's cores in the same run; then the CPU figures (K = 64 only: the CPU is slow here).
# 2. `parallax scale` on CUDA with more decisions than the CPU allows (12, K up to 512, in what is
#    left of the deadline).
# 3. `parallax plan` with push.pt (the success goal's planner) on CUDA, bf16 and CUDA graphs: its
#    decision latency p50 against the goal's 100 ms.
# Writes OUT_DIR/planner-bench.jsonl, OUT_DIR/planner-unet-cuda.json and OUT_DIR/planner-scale/
# (scale.json, scale.md, scale.png).
set -uo pipefail
build=${1:?usage: device-check-planner.sh BUILD_DIR OUT_DIR}
out=${2:?usage: device-check-planner.sh BUILD_DIR OUT_DIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
source "$here/bench/device-lib.sh"  # cap: every timeout ends before DEVICE_DEADLINE
export PARALLAX_ASSETS="$here/assets"
mkdir -p "$out"
bench="$out/planner-bench.jsonl"
: >"$bench"
rc=0

echo "planner: CUDA benchmark (eager, then CUDA graphs), the planners' latent model and the unet"
for model in "$here/assets/models/push-latent.pt" "$here/assets/models/push.pt"; do
  bf16=0; [[ $model == */push.pt ]] && bf16=1  # the unet also at bf16 (speed_ratio_bf16_vs_f32)
  for graph in 0 1; do
    timeout "$(cap 200)" "$build/bench/bench_planner" "$model" --device cuda --graph "$graph" \
      --bf16 "$bf16" --k 64,256,1024 --horizon 15 --iterations 4 --decisions 2 >>"$bench" 2>&1 || rc=1
  done
done
# The fast dream planner's model (assets/models/push-latent.md, "Round 24"): the reward from its
# pose head (poses_ms_per_decision), next to its reward head's decisions.
timeout "$(cap 200)" "$build/bench/bench_planner" "$here/assets/models/push-latent-poses.pt" \
  --device cuda --graph 1 --reward poses --k 64,256,1024 --horizon 15 --iterations 4 \
  --decisions 2 >>"$bench" 2>&1 || rc=1
# The fast planner with the unet as its judge (docs/agents.md "A judge"): 2, 4 and 8 finalists.
timeout "$(cap 200)" "$build/bench/bench_planner" "$here/assets/models/push-latent-poses.pt" \
  --device cuda --graph 1 --reward poses --judge "$here/assets/models/push.pt" \
  --finalists 2,4,8 --k 64 --horizon 15 --iterations 4 --decisions 3 >>"$bench" 2>&1 || rc=1
# The planner that meets the success goal on the CPU (push.pt, round 23, 57 / 60 at 10 s a
# decision there): its decision time on this GPU, bf16 with CUDA graphs, 3 episodes.
timeout "$(cap 240)" "$build/cli/parallax" plan --scene push --world dream --device cuda \
  --cuda-graph --model "$here/assets/models/push.pt" --reward poses --precision bf16 \
  --planner cem --k 64 --horizon 15 --iterations 4 --replan-every 5 --rest-tolerance 0.01 \
  --contact-gate 0.12 --proprioception --edge-guard --edge-reader --reach 1.0 --reach-behind 0.08 \
  --episodes 3 --seed 1000 --quiet --json >"$out/planner-unet-cuda.json" 2>"$out/planner-unet-cuda.log" ||
  { echo "planner: unet plan on CUDA FAILED"; tail -3 "$out/planner-unet-cuda.log"; rc=1; }
model="$here/assets/models/push-latent.pt"
grep -q '"device":"cuda"' "$bench" || { echo "planner: no CUDA figures"; rc=1; }
grep -q '"cuda_graph":true' "$bench" || echo "planner: note: CUDA graphs not in use (eager only)"

if cpu_figures planner; then
  echo "planner: CPU benchmark on this machine ($(nproc) cores), K = 64"
  timeout "$(cap 180)" "$build/bench/bench_planner" "$model" --device cpu --k 64 --decisions 1 \
    >>"$bench" 2>&1 || rc=1
fi

echo "planner: parallax scale on CUDA"
timeout "$(cap 600)" "$build/cli/parallax" scale --scene push --device cuda --decisions 12 \
  --k 1,2,4,...,512 --batch 1024 --out "$out/planner-scale" --quiet \
  >>"$out/planner-scale.log" 2>&1 || { echo "planner: scale FAILED"; tail -5 "$out/planner-scale.log"; rc=1; }
cat "$bench"
[[ -s $out/planner-unet-cuda.json ]] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); print('planner: unet on CUDA, success', d['success_rate'], 'p50 ms', d['latency_ms']['p50'], 'graphs', d['cuda_graph'])" "$out/planner-unet-cuda.json"
[[ -f $out/planner-scale/scale.md ]] && cat "$out/planner-scale/scale.md"
exit $rc
