#!/usr/bin/env bash
# The shipped `unet` recipe of scripts/train-default-model on a GPU (CUDA, bf16 autocast) in 8
# minutes or less, for the device machine (PyTorch and h5py in its python3; no Bullet there, but
# bench/device-check.sh builds our CLI against the carried Bullet and collects the data there).
#   bash bench/device-check.sh --train push      (the usual way: collects, then runs this script)
#   bash bench/device-train.sh --collect SCENE PARALLAX DIR    (the data of scripts/train-default-model:
#        same policies, episodes and seeds, so the same episodes; DEVICE_COLLECT_THREADS threads)
#   TRAIN_DATA=DIR bash bench/device-train.sh SCENE            (train on DIR's datasets)
#   bash bench/device-train.sh SCENE                           (train on a carried pack instead:
#        .device-pack/SCENE.npz and -eval.npz, written here by train_unet.py --pack; packs over
#        ~25 MiB do not fit the device tool's 64 MiB next to .device-deps)
# Stages (scripts/train-default-model): the U-Net, its frame-reading head on true frames; with
# decoy data (push) the decoy stage, its head again, the round-7 stage (1-, 4- and 8-step
# rollouts) and the keypoint heads (on true frames, then on the frozen U-Net's rollouts); without
# (billiards) 8-step rollouts from the headed model; then the planners' `latent` model (round 0: the rounds of the planner's own data
# need Bullet episodes played by the planner; fine-tune those on a CPU machine).
# Time: TRAIN_DEADLINE (epoch second) or TRAIN_BUDGET seconds (default 480) is split between the
# stages (--max-seconds each; about a quarter is left for start-up, data loading and evaluation).
# Bigger batches than the CPU recipe (--frames-per-step 256), learning rate scaled up; every stage
# runs --time-schedule (its learning-rate and rollout schedules end with its share of the time).
# Writes $OUT/SCENE.pt (loadable by the C++ library on any machine), $OUT/SCENE-unet.pt (the
# U-Net stage), $OUT/SCENE-latent.pt and $OUT/train-logs.tar.gz (JSON lines of every stage).
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
py=${PYTHON:-python3}

if [[ ${1:-} == --collect ]]; then
  scene=${2:?usage: device-train.sh --collect SCENE PARALLAX DIR}
  px=${3:?usage: device-train.sh --collect SCENE PARALLAX DIR}
  dir=${4:?usage: device-train.sh --collect SCENE PARALLAX DIR}
  case $scene in
    push) sets=("random random 400 0" "noisy noisy 400 100000" "expert expert 100 200000"
                "heldout-random random 24 500000" "heldout-noisy noisy 24 510000"
                "decoy decoy 800 600000" "heldout-decoy decoy 24 610000") ;;
    billiards) sets=("random random 300 0" "noisy noisy 300 100000" "expert expert 100 200000"
                     "heldout-random random 24 500000" "heldout-noisy noisy 24 510000") ;;
    *) echo "device-train: error: no recipe for scene '$scene' (push, billiards)" >&2; exit 2 ;;
  esac
  for s in "${sets[@]}"; do
    read -r name agent episodes seed <<<"$s"
    [[ -f $dir/$name/data/metadata.json ]] && continue
    "$px" collect --scene "$scene" --agent "$agent" --episodes "$episodes" --envs 16 --seed "$seed" \
      --threads "${DEVICE_COLLECT_THREADS:-0}" --quiet --out "$dir/$name"
  done
  echo "device-train: collected ${#sets[@]} datasets of $scene under $dir" >&2
  exit 0
fi

scene=${1:?usage: device-train.sh SCENE | --collect SCENE PARALLAX DIR}
case $scene in
  push) context=2 ;;
  billiards) context=4 ;;
  *) echo "device-train: error: no recipe for scene '$scene' (push, billiards)" >&2; exit 2 ;;
esac
OUT=${OUT:-$here/out/device-train}
mkdir -p "$OUT"
logs=$(mktemp -d)
if [[ -n ${TRAIN_DATA:-} ]]; then
  d=$TRAIN_DATA
  for s in random noisy expert heldout-random heldout-noisy; do
    [[ -f $d/$s/data/metadata.json ]] || { echo "device-train: error: $d/$s: no dataset (device-train.sh --collect)" >&2; exit 1; }
  done
  data="$d/random,$d/noisy,$d/expert"
  eval_data="$d/heldout-random,$d/heldout-noisy"
  decoy=; [[ -f $d/decoy/data/metadata.json ]] && decoy="$d/decoy"
  weights=1,1,1,2
else
  data="$here/.device-pack/$scene.npz"
  eval_data="${data%.npz}-eval.npz"
  [[ -f $data ]] || { echo "device-train: error: $data missing and TRAIN_DATA unset (see the header)" >&2; exit 1; }
  decoy=; [[ -f ${data%.npz}-decoy.npz ]] && decoy="${data%.npz}-decoy.npz"
  weights=1,2
fi
now=$(date +%s)
budget=$(( ${TRAIN_DEADLINE:-$((now + ${TRAIN_BUDGET:-480}))} - now ))
((budget >= 60)) || { echo "device-train: error: ${budget} s left, 60 needed" >&2; exit 1; }
# Shares of the budget per stage, in percent (the rest: start-up, loading, evaluation).
if [[ -n $decoy ]]; then
  s_unet=$((budget * 30 / 100)); s_heads=$((budget * 5 / 100)); s_decoy=$((budget * 11 / 100))
  s_r7=$((budget * 7 / 100)); s_kp=$((budget * 4 / 100)); s_latent=$((budget * 10 / 100))
else
  s_unet=$((budget * 42 / 100)); s_heads=$((budget * 8 / 100)); s_r8=$((budget * 10 / 100))
  s_latent=$((budget * 15 / 100))
fi
device=${TRAIN_DEVICE:-cuda}
bf16=(); [[ $device == cuda ]] && bf16=(--bf16)
common=(--context "$context" --device "$device" --threads "${TRAIN_THREADS:-4}" --time-schedule)
frames=${TRAIN_FRAMES:-256}
stage() {  # stage NAME ARGS...: one train_unet.py run, its log kept
  local name=$1; shift
  echo "device-train: [$(date +%T)] $name" >&2
  "$py" "$here/worldmodel/python/train_unet.py" "${common[@]}" "$@" --log "$logs/$name.jsonl" \
    >"$logs/$name.txt" 2>&1 || { tail -20 "$logs/$name.txt" >&2; return 1; }
  tail -2 "$logs/$name.txt" >&2
}
stage unet --data "$data" --eval-data "$eval_data" --eval-episodes 12 --steps "${TRAIN_STEPS:-5000}" \
  --frames-per-step "$frames" --lr 2e-3 --eval-every 1000 --checkpoint-every 500 --rollout 1:0.5,4:0.8,8:1 \
  "${bf16[@]}" --seed 0 --max-seconds "$s_unet" --out "$OUT/$scene-unet.pt"
# The head stage: a frame-reading reward head on true frames, the U-Net frozen.
stage heads --data "$data" --init "$OUT/$scene-unet.pt" --reward-input frame --heads-only --true-frames-only \
  --steps "${HEADS_STEPS:-3000}" --frames-per-step 64 --rollout 1:1 --checkpoint-every 1000 --seed 0 \
  --max-seconds "$s_heads" --out "$OUT/$scene.pt"
if [[ -n $decoy ]]; then
  # Decoy pushes weighted 2 (4- and 8-step rollouts), the head again, then the round-7 stage.
  stage decoy --data "$data,$decoy" --data-weights "$weights" --init "$OUT/$scene.pt" --reward-input frame \
    --steps 1500 --frames-per-step "$frames" --lr 6e-4 --lr-final 6e-5 --rollout 4:0.4,8:1 \
    --checkpoint-every 500 "${bf16[@]}" --seed 1 --max-seconds "$s_decoy" --out "$logs/decoy.pt"
  stage decoy-heads --data "$data,$decoy" --data-weights "$weights" --init "$logs/decoy.pt" --reward-input frame \
    --heads-only --true-frames-only --steps "${HEADS_STEPS:-3000}" --frames-per-step 64 --rollout 1:1 \
    --checkpoint-every 1000 --seed 0 --max-seconds "$s_heads" --out "$logs/decoy-heads.pt"
  stage r7 --data "$data,$decoy" --data-weights "$weights" --init "$logs/decoy-heads.pt" --reward-input frame \
    --steps 1000 --frames-per-step "$frames" --lr 2e-4 --lr-final 2e-5 --rollout 1:0.3,4:0.6,8:1 \
    --checkpoint-every 500 "${bf16[@]}" --seed 2 --max-seconds "$s_r7" --out "$logs/r7.pt"
  stage kp --data "$data,$decoy" --data-weights "$weights" --init "$logs/r7.pt" --reward-input keypoints \
    --heads-only --true-frames-only --steps "${HEADS_STEPS:-3000}" --frames-per-step 64 --rollout 1:1 \
    --checkpoint-every 1000 --seed 0 --max-seconds "$s_kp" --out "$logs/kp.pt"
  stage kp-rollouts --data "$data,$decoy" --data-weights "$weights" --init "$logs/kp.pt" \
    --reward-input keypoints --heads-only --steps 1000 --frames-per-step "$frames" --lr 3e-4 --lr-final 3e-5 \
    --rollout 1:0.3,4:0.6,8:1 --checkpoint-every 500 "${bf16[@]}" --seed 5 --max-seconds "$s_kp" \
    --out "$OUT/$scene.pt"
else
  # (billiards) 1,000 more steps, all 8-step rollouts, the heads along (scripts/train-default-model 3e).
  stage r8 --data "$data" --init "$OUT/$scene.pt" --reward-input frame --steps 1000 \
    --frames-per-step "$frames" --lr 6e-4 --lr-final 6e-5 --rollout 8:1 --checkpoint-every 500 \
    "${bf16[@]}" --seed 5 --max-seconds "$s_r8" --out "$logs/r8.pt"
  mv "$logs/r8.pt" "$OUT/$scene.pt"
fi
echo "device-train: [$(date +%T)] latent" >&2
"$py" "$here/worldmodel/python/train_latent.py" --data "$data" --eval-data "$eval_data" \
  --eval-episodes 12 --steps 2500 --batch "${LATENT_BATCH:-128}" --horizon 20 --eval-every 500 \
  --device "$device" --threads "${TRAIN_THREADS:-4}" --time-schedule --seed 0 --max-seconds "$s_latent" \
  --out "$OUT/$scene-latent.pt" --log "$logs/latent.jsonl" >"$logs/latent.txt" 2>&1 ||
  { tail -20 "$logs/latent.txt" >&2; exit 1; }
tail -2 "$logs/latent.txt" >&2
# At most 8 files come back from the device machine: no resume states, the logs in one archive.
rm -f "$OUT"/*.state "$logs"/*.pt "$logs"/*.state
tar -C "$logs" -czf "$OUT/train-logs.tar.gz" . && rm -rf "$logs"
echo "device-train: wrote $OUT/$scene.pt, $OUT/$scene-unet.pt, $OUT/$scene-latent.pt, $OUT/train-logs.tar.gz" >&2
