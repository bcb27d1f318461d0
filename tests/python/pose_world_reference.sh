#!/usr/bin/env bash
# agents::PoseWorldModel's step against PyTorch: worldmodel/python/train_pose_world.py's network
# with random weights (its last layer too) is saved as the trainer saves it, its step() is run in
# PyTorch on 300 random rows (balls resting and rolling, actions in [-1, 1]; once without and once
# with the rolling state: random rolling displacements, carried or not), and the agents test
# binary's hidden "[pose_world_reference]" case loads the checkpoint and compares.
# usage: pose_world_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR
set -u
exe=${1:?usage: pose_world_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR}
py=${2:?usage: pose_world_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR}
src=${3:?usage: pose_world_reference.sh AGENTS_TEST_BINARY PYTHON SOURCE_DIR}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$py" -c "import torch" 2>/dev/null || { echo "FAIL: $py cannot import torch"; exit 1; }
"$py" - "$src/worldmodel/python" "$tmp" <<'PY' || { echo "FAIL: the PyTorch side failed"; exit 1; }
import json, sys
sys.path.insert(0, sys.argv[1])
import torch
import train_pose_world as tpw
b = 300
g = torch.Generator().manual_seed(6)
start = -0.4 + 0.8 * torch.rand(b, 1, 4, 2, generator=g)
moves = (torch.rand(b, 3, 4, 2, generator=g) - 0.5) * 0.04 * (torch.rand(b, 1, 4, 1, generator=g) < 0.6)
hist = torch.cat([start, start + moves.cumsum(1)], 1)  # [B, 4, P, 2]
acts = torch.rand(b, 3, 2, generator=g) * 2 - 1
roll = (torch.rand(b, 4, 2, generator=g) - 0.5) * 0.04  # rolling displacements [B, P, 2]
carried = (torch.rand(b, 1, generator=g) < 0.5).float()
flat = lambda t: [float(x) for x in t.reshape(-1)]  # noqa: E731
for name, spin in (("plain", False), ("rolling", True)):
    torch.manual_seed(5)
    net = tpw.build(4, 2, 32, spin)
    torch.nn.init.normal_(net[-1].weight, std=0.3)
    torch.nn.init.normal_(net[-1].bias, std=0.3)
    cfg = {"scene": "billiards", "bodies": ["cue", "red", "blue", "yellow"], "action_size": 2,
           "hidden": 32, "history": tpw.HISTORY, "action_history": tpw.ACTION_HISTORY,
           "step_m": tpw.STEP_M, "position_scale_m": tpw.POS_SCALE}
    case = {"rows": b, "hist": flat(hist), "acts": flat(acts)}
    with torch.no_grad():
        if spin:
            cfg["rolling_state"] = True
            nxt, nroll = tpw.step(net, hist, acts, roll, carried)
            case.update({"roll": flat(roll), "carried": flat(carried), "next_roll": flat(nroll)})
        else:
            nxt = tpw.step(net, hist, acts)
    case["next"] = flat(nxt)
    tpw.save_checkpoint(f"{sys.argv[2]}/{name}.pt", net, cfg)
    json.dump(case, open(f"{sys.argv[2]}/{name}.json", "w"))
PY
for name in plain rolling; do
  PARALLAX_POSE_WORLD_CHECKPOINT="$tmp/$name.pt" PARALLAX_POSE_WORLD_CASES="$tmp/$name.json" \
    "$exe" "[pose_world_reference]" >"$tmp/log" 2>&1 ||
    { cat "$tmp/log"; echo "FAIL: C++ differs ($name)"; exit 1; }
  grep -q "1 test case" "$tmp/log" || { cat "$tmp/log"; echo "FAIL: the case did not run ($name)"; exit 1; }
done
echo "ok: PoseWorldModel's step equals PyTorch on 300 rows, with and without the rolling state"
