"""Independent NumPy implementation of the Physics-IQ motion metrics as docs/fidelity.md pins
them (Motamed et al. 2025): reads two frame sequences and prints the four scores as JSON.

    physics_iq_reference.py TRUTH.u8 PRED.u8 T1 H W THRESHOLD
TRUTH.u8 / PRED.u8: raw uint8 arrays [T1, H, W, 3] (T1 = T + 1 frames, index 0 shared).
"""
import json
import sys

import numpy as np

truth_path, pred_path, t1, h, w, thr = sys.argv[1:7]
t1, h, w, thr = int(t1), int(h), int(w), int(thr)
truth = np.fromfile(truth_path, np.uint8).reshape(t1, h, w, 3).astype(np.int32)
pred = np.fromfile(pred_path, np.uint8).reshape(t1, h, w, 3).astype(np.int32)


def masks(seq):  # [T, H, W] bool: some channel changed by more than thr since the previous frame
    return (np.abs(np.diff(seq, axis=0)).max(axis=-1) > thr)


mt, mp = masks(truth), masks(pred)
st, sp = mt.any(axis=0), mp.any(axis=0)
union = (st | sp).sum()
if union == 0:
    print(json.dumps({"defined": False}))
    sys.exit(0)
either = mt | mp
err = ((truth[1:] - pred[1:]) / 255.0) ** 2  # [T, H, W, 3]
out = {
    "defined": True,
    "spatial_iou": float((st & sp).sum() / union),
    "spatiotemporal_iou": float((mt & mp).sum() / either.sum()),
    "weighted_spatial_iou": float(np.minimum(mt.sum(0), mp.sum(0)).sum() /
                                  np.maximum(mt.sum(0), mp.sum(0)).sum()),
    "masked_mse": float(err[either].mean()),
}
print(json.dumps(out))
