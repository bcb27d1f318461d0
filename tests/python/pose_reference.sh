#!/usr/bin/env bash
# agents::PoseDynamics against PyTorch: worldmodel/python/train_pose_dynamics.py's network with
# random weights (its last layer too) is saved as the trainer saves it, its step() is run in
# PyTorch on 300 random rows (yaws across several folds, moving and resting bodies), and the
# agents test binary's hidden "[pose_reference]" case loads the checkpoint and compares.
# usage: pose_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR
set -u
exe=${1:?usage: pose_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR}
py=${2:?usage: pose_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR}
src=${3:?usage: pose_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -c "import torch" 2>/dev/null || { echo "FAIL: $py cannot import torch"; exit 1; }
"$py" - "$src/worldmodel/python" "$tmp" <<'PY' || { echo "FAIL: the PyTorch side failed"; exit 1; }
import json, math, sys
sys.path.insert(0, sys.argv[1])
import torch
import train_pose_dynamics as tpd
torch.manual_seed(3)
net = tpd.build(32)
torch.nn.init.normal_(net[-1].weight, std=0.3)
torch.nn.init.normal_(net[-1].bias, std=0.3)
s = 0.5 / 30
cfg = {"scene": "push", "driver": "pusher", "pushed": "cube", "hidden": 32, "step_m": s,
       "position_scale_m": tpd.POS_SCALE, "yaw_scale_rad": tpd.YAW_SCALE}
tpd.save_checkpoint(sys.argv[2] + "/m.pt", net, cfg)
b = 300
g = torch.Generator().manual_seed(4)
u = lambda *shape, lo=-1.0, hi=1.0: lo + (hi - lo) * torch.rand(*shape, generator=g)  # noqa: E731
c = u(b, 2, lo=-0.3, hi=0.3)
p = c + u(b, 2, lo=-0.12, hi=0.12)
pn = p + u(b, 2) * s
cp = c - u(b, 2) * s * (torch.rand(b, 1, generator=g) < 0.5)
th = u(b, lo=-3.0, hi=3.0)  # several 90-degree folds
thp = th - u(b, lo=-0.1, hi=0.1)
with torch.no_grad():
    cn, thn = tpd.step(net, p, pn, c, cp, th, thp, s)
flat = lambda t: [float(x) for x in t.reshape(-1)]  # noqa: E731
json.dump({"p": flat(p), "pn": flat(pn), "c": flat(c), "cp": flat(cp), "th": flat(th),
           "thp": flat(thp), "c_next": flat(cn), "th_next": flat(thn)},
          open(sys.argv[2] + "/cases.json", "w"))
PY
PARALLAX_POSE_CHECKPOINT="$tmp/m.pt" PARALLAX_POSE_CASES="$tmp/cases.json" \
  "$exe" "[pose_reference]" >"$tmp/log" 2>&1 || { cat "$tmp/log"; echo "FAIL: C++ differs"; exit 1; }
grep -q "1 test case" "$tmp/log" || { cat "$tmp/log"; echo "FAIL: the case did not run"; exit 1; }
echo "ok: PoseDynamics equals PyTorch on 300 rows"
