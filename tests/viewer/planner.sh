#!/usr/bin/env bash
# `parallax-view --policy planner`: the arena's agent is the README's fast dream planner
# (PlannerPolicy, the pose-space model push-poses.pt). In mirror mode env 0 (episode seed 0, whose staggered
# decisions fall every 5 ticks, as plan's) plays exactly the plans `parallax plan --world dream`
# chooses with the same model, flags and seed (its decisions.jsonl, one plan per 5 ticks); the
# policy can be chosen from a script too; a scene without a planner model is refused by name.
# usage: planner.sh PARALLAX_VIEW SOURCE_DIR PARALLAX
set -euo pipefail
view=${1:?parallax-view}; src=${2:?source dir}; exe=${3:?parallax}
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
command -v xvfb-run >/dev/null || { echo "xvfb-run missing (apt-get install xvfb): skipped"; exit 77; }
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene push --envs 2 --seed 0 --frames 20 \
  --policy planner --trace "$tmp/trace.jsonl" >"$tmp/out"
"$exe" plan --scene push --world dream --model "$src/assets/models/push-poses.pt" \
  --reward poses --reach 1.0 --reach-behind 0.08 \
  --planner cem --k 64 --horizon 15 --iterations 4 --replan-every 5 --episodes 1 --seed 0 \
  --max-steps 20 --verify --out "$tmp/plan" --quiet --json >"$tmp/plan.json"
"$py" - "$tmp" <<'PY'
import json, sys
tmp = sys.argv[1]
trace = [json.loads(l) for l in open(f"{tmp}/trace.jsonl")]
acted = [t["action"] for t in trace if t["env"] == 0]
decisions = [json.loads(l) for l in open(f"{tmp}/plan/decisions.jsonl")]
planned = []
for d in decisions:
    plan = d["chosen_plan"]
    planned += [plan[2 * s:2 * s + 2] for s in range(5)]
steps = json.load(open(f"{tmp}/plan.json"))["per_episode"][0]["steps"]
n = min(len(acted), steps)
assert n >= 15, (len(acted), steps)
for t in range(n):
    assert all(abs(a - b) < 2e-6 for a, b in zip(acted[t], planned[t])), (t, acted[t], planned[t])
# Not a still agent: the plans move the pusher.
assert max(abs(v) for a in acted[:n] for v in a) > 0.3, acted[:n]
print(f"planner: env 0 played plan's {n} actions")
PY
# Chosen from a script: the policy switches to the planner at frame 3 (the tool bar reports it).
printf '3 policy planner\n' >"$tmp/s.txt"
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene push --envs 2 --seed 0 --frames 12 \
  --input-script "$tmp/s.txt" >"$tmp/out2"
grep -q "policy planner" "$tmp/out2" || { echo "no switch to the planner"; cat "$tmp/out2"; exit 1; }
# Another scene has no planner model: refused with the reason, the viewer runs on.
xvfb-run -a -s "-screen 0 1280x720x24" "$view" --scene reacher --envs 1 --frames 3 \
  --policy planner >"$tmp/out3"
grep -q "planner refused, random actions: no planner model" "$tmp/out3" ||
  { echo "no refusal"; cat "$tmp/out3"; exit 1; }
echo "viewer planner ok"
