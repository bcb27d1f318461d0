#!/usr/bin/env bash
# The shipped `unet` recipe on a GPU (CUDA, bf16 autocast), within 8 minutes, for the device
# machine (PyTorch in its python3, no Bullet/HDF5/h5py: the data travels as a training pack).
# Here first:  scripts/train-default-model push   (collects runs/default-model-push), then
#   python worldmodel/python/train_unet.py --data runs/default-model-push/random,runs/default-model-push/noisy,runs/default-model-push/expert \
#     --eval-data runs/default-model-push/heldout-random,runs/default-model-push/heldout-noisy --pack .device-pack/push.npz
# Then:        device run, carry [".device-pack"], command: bash bench/device-train.sh push
# Writes $OUT/push.pt (loadable by the C++ library on any machine; $OUT/push-unet.pt is the
# U-Net stage before the head stage; $OUT/push-nodecoy.pt the model before the decoy stage when
# it ran), $OUT/push-latent.pt (the planners' `latent` model), the logs in $OUT/logs.tar.gz.
# Budget: U-Net 330 s + heads + latent 120 s, within the 8 minutes (with the decoy pack: U-Net
# 150 s + the decoy stage at most 60 s + heads twice + the round-7 stage at most 40 s + latent
# 120 s; the split is a guess until a first GPU run measures the stages' speed).
# The latent here is round 0: the rounds of the planner's own data (stage 6 of
# scripts/train-default-model) record episodes in Bullet, which the GPU machine does not have;
# fine-tune there from packs of recorded datasets with train_latent.py --init --data-weights.
# Bigger batches than the CPU recipe (--frames-per-step 256) and the same step schedule.
# Status: written for the GPU machine, exercised here only on the CPU (TRAIN_DEVICE=cpu with a
# tiny budget); no session with a GPU has run it yet.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
scene=${1:-push}
OUT=${OUT:-$here/out/device-train}
mkdir -p "$OUT"
pack="$here/.device-pack/$scene.npz"
[[ -f $pack ]] || { echo "device-train: $pack missing (see the header of this script)" >&2; exit 1; }
# (push) The decoy stage of scripts/train-default-model (step 3b) runs when its pack is there:
#   train_unet.py --data runs/default-model-push/decoy --pack .device-pack/push-decoy.npz
# and then the U-Net stage gets 150 s instead of 330 s.
decoy="${pack%.npz}-decoy.npz"
unet_seconds=330
[[ -f $decoy ]] && unet_seconds=150
device=${TRAIN_DEVICE:-cuda}
extra=()
[[ $device == cuda ]] && extra=(--bf16)
"${PYTHON:-python3}" "$here/worldmodel/python/train_unet.py" --data "$pack" --eval-data "${pack%.npz}-eval.npz" \
  --eval-episodes 12 --steps "${TRAIN_STEPS:-5000}" --frames-per-step "${TRAIN_FRAMES:-256}" \
  --lr 2e-3 --eval-every 1000 --checkpoint-every 500 --rollout 1:0.5,4:0.8,8:1 \
  --device "$device" "${extra[@]}" --threads 8 --seed 0 --max-seconds "${TRAIN_MAX_SECONDS:-$unet_seconds}" \
  --out "$OUT/$scene-unet.pt" --log "$OUT/train.jsonl" 2>&1 | tail -n 40 >"$OUT/train-stderr.txt"
# The head stage (assets/models/SCENE.md): a frame-reading reward head on true frames, U-Net frozen.
"${PYTHON:-python3}" "$here/worldmodel/python/train_unet.py" --data "$pack" --init "$OUT/$scene-unet.pt" \
  --reward-input frame --heads-only --true-frames-only --steps "${HEADS_STEPS:-3000}" --frames-per-step 64 \
  --rollout 1:1 --checkpoint-every 1000 --device "$device" --threads 8 --seed 0 \
  --out "$OUT/$scene.pt" --log "$OUT/train.jsonl" 2>&1 | tail -n 10 >>"$OUT/train-stderr.txt"
if [[ -f $decoy ]]; then
  mv "$OUT/$scene.pt" "$OUT/$scene-nodecoy.pt"
  "${PYTHON:-python3}" "$here/worldmodel/python/train_unet.py" --data "$pack,$decoy" --data-weights 1,2 \
    --init "$OUT/$scene-nodecoy.pt" --reward-input frame --steps 1500 --frames-per-step "${TRAIN_FRAMES:-256}" \
    --lr 6e-4 --lr-final 6e-5 --rollout 4:0.4,8:1 --checkpoint-every 500 --device "$device" "${extra[@]}" \
    --threads 8 --seed 1 --max-seconds "${TRAIN_DECOY_SECONDS:-60}" --out "$OUT/$scene-decoy.pt" \
    --log "$OUT/train.jsonl" 2>&1 | tail -n 10 >>"$OUT/train-stderr.txt"
  "${PYTHON:-python3}" "$here/worldmodel/python/train_unet.py" --data "$pack,$decoy" --data-weights 1,2 \
    --init "$OUT/$scene-decoy.pt" --reward-input frame --heads-only --true-frames-only --steps "${HEADS_STEPS:-3000}" \
    --frames-per-step 64 --rollout 1:1 --checkpoint-every 1000 --device "$device" --threads 8 --seed 0 \
    --out "$OUT/$scene-decoy-heads.pt" --log "$OUT/train.jsonl" 2>&1 | tail -n 10 >>"$OUT/train-stderr.txt"
  # Step 3c (round 7): one-step, then 4- and 8-step training at a low learning rate.
  "${PYTHON:-python3}" "$here/worldmodel/python/train_unet.py" --data "$pack,$decoy" --data-weights 1,2 \
    --init "$OUT/$scene-decoy-heads.pt" --reward-input frame --steps 1000 --frames-per-step "${TRAIN_FRAMES:-256}" \
    --lr 2e-4 --lr-final 2e-5 --rollout 1:0.3,4:0.6,8:1 --checkpoint-every 500 --device "$device" "${extra[@]}" \
    --threads 8 --seed 2 --max-seconds "${TRAIN_R7_SECONDS:-40}" --out "$OUT/$scene.pt" \
    --log "$OUT/train.jsonl" 2>&1 | tail -n 10 >>"$OUT/train-stderr.txt"
fi
# The planners' `latent` model (assets/models/SCENE-latent.md): bigger batches, same steps.
"${PYTHON:-python3}" "$here/worldmodel/python/train_latent.py" --data "$pack" --eval-data "${pack%.npz}-eval.npz" \
  --eval-episodes 12 --steps 2500 --batch "${LATENT_BATCH:-128}" --horizon 20 --eval-every 500 \
  --device "$device" --threads 8 --seed 0 --max-seconds "${LATENT_MAX_SECONDS:-120}" \
  --out "$OUT/$scene-latent.pt" --log "$OUT/latent.jsonl" 2>&1 | tail -n 10 >>"$OUT/train-stderr.txt"
# At most 8 files come back from the device machine: drop the resume states and the decoy
# stages' intermediate checkpoints, pack the logs.
rm -f "$OUT"/*.state "$OUT/$scene-decoy.pt" "$OUT/$scene-decoy-heads.pt"
tar -C "$OUT" -czf "$OUT/logs.tar.gz" train.jsonl latent.jsonl train-stderr.txt &&
  rm -f "$OUT/train.jsonl" "$OUT/latent.jsonl" "$OUT/train-stderr.txt"
echo "device-train: wrote $OUT/$scene.pt, $OUT/$scene-latent.pt and $OUT/logs.tar.gz" >&2
