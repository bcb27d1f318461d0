#!/usr/bin/env bash
# worldmodel/python/train_value.py (a value head for a `latent` checkpoint): the world model's
# weights come out bit-identical, the returns-to-go match closed forms, the log carries held-out
# figures, `parallax plan --value` plans with the head (and refuses a model without one); bad
# flags give one line, exit 2.
# usage: train_value.sh PARALLAX_EXE SOURCE_DIR
source "$(dirname "${BASH_SOURCE[0]}")/lib/preamble.bash" "$@"
value=("$py" "$src/worldmodel/python/train_value.py")

"$exe" collect --scene push --agent random --episodes 2 --envs 2 --seed 5 --threads 1 \
  --out "$tmp/ds" --quiet >/dev/null 2>"$tmp/collect.txt" ||
  fail "parallax collect could not make a dataset: $(cat "$tmp/collect.txt")"
"$py" "$src/worldmodel/python/train_latent.py" --data "$tmp/ds" --batch 2 --horizon 4 \
  --decode-steps 2 --latent 8 --hidden 16 --enc-channels 4,4,4,4 --dec-channels 4,4,4,4 \
  --threads 1 --seed 1 --steps 2 --out "$tmp/m.pt" 2>"$tmp/m.err" ||
  fail "train_latent failed: $(tail -3 "$tmp/m.err")"

# 4 steps with a held-out evaluation: a checkpoint with the head, the rest bit-identical.
"${value[@]}" --init "$tmp/m.pt" --data "$tmp/ds" --eval-data "$tmp/ds" --eval-episodes 1 \
  --batch 4 --horizon 5 --gamma 0.9 --steps 4 --eval-every 4 --checkpoint-every 2 --threads 1 \
  --out "$tmp/v.pt" --log "$tmp/v.jsonl" 2>"$tmp/v.err" ||
  fail "train_value failed: $(tail -3 "$tmp/v.err")"
[ -s "$tmp/v.pt" ] && [ -s "$tmp/v.pt.state" ] || fail "no checkpoint or state written"
"$py" - "$tmp/m.pt" "$tmp/v.pt" "$tmp/v.jsonl" "$src/worldmodel/python" <<'PY' || fail "checkpoint"
import json, sys
sys.path.insert(0, sys.argv[4])
import numpy as np, torch
import parallax_latent as pl
from train_value import returns_to_go
a, b = pl.load_checkpoint(sys.argv[1]), pl.load_checkpoint(sys.argv[2])
assert b.cfg == dict(a.cfg, value_gamma=0.9), b.cfg
sa, sb = a.state_dict(), b.state_dict()
assert set(sb) - set(sa) == {"value.fc1.weight", "value.fc1.bias", "value.fc2.weight",
                             "value.fc2.bias"}, set(sb) - set(sa)
assert all(torch.equal(sa[k], sb[k]) for k in sa)
lines = [json.loads(l) for l in open(sys.argv[3])]
ev = [l for l in lines if "eval" in l]
assert len(ev) == 1 and ev[0]["step"] == 4 and "k0" in ev[0]["eval"], lines
# Returns-to-go against closed forms. A cut episode of constant reward r: r / (1 - gamma) at
# every frame (the last reward held forever). A terminated one: the finite geometric sums.
g = returns_to_go(np.full(6, -0.5, np.float32), np.zeros(6, bool), 0.9)
assert np.allclose(g, -5.0), g
term = np.zeros(3, bool); term[-1] = True
g = returns_to_go(np.array([1.0, 2.0, 4.0], np.float32), term, 0.5)
assert np.allclose(g, [1 + 0.5 * 2 + 0.25 * 4, 2 + 0.5 * 4, 4, 0]), g
PY

# Resume: the state's step is where it continues.
"${value[@]}" --init "$tmp/m.pt" --data "$tmp/ds" --batch 4 --horizon 5 --gamma 0.9 --steps 6 \
  --threads 1 --out "$tmp/v.pt" --resume 2>"$tmp/r.err" ||
  fail "resume failed: $(tail -3 "$tmp/r.err")"
grep -q "resumed .* at step 4" "$tmp/r.err" || fail "did not resume at step 4: $(head -3 "$tmp/r.err")"

# The planner uses the head; the report says so. A model without a head is refused (exit 2).
plan=(plan --scene push --world dream --k 4 --horizon 4 --iterations 1 --elites 2 --episodes 1
      --max-steps 3 --threads 1 --quiet --json)
"$exe" "${plan[@]}" --model "$tmp/v.pt" --value >"$tmp/p.json" 2>"$tmp/p.err" ||
  fail "plan --value: $(cat "$tmp/p.err")"
grep -q '"terminal_value": *true' "$tmp/p.json" || fail "plan report: $(cat "$tmp/p.json")"
"$exe" "${plan[@]}" --model "$tmp/m.pt" --value >/dev/null 2>"$tmp/n.err"; rc=$?
[ $rc -eq 2 ] || fail "plan --value without a head: expected exit 2, got $rc: $(cat "$tmp/n.err")"
grep -q "has no value head" "$tmp/n.err" || fail "plan --value message: $(cat "$tmp/n.err")"
"$exe" "${plan[@]}" --world bullet --value >/dev/null 2>"$tmp/n.err"; rc=$?
[ $rc -eq 2 ] || fail "plan --value in bullet: expected exit 2, got $rc"

# Bad flags: exit 2, one line naming the flag (bad WORD ARGS...).
bad() {
  local word=$1; shift
  "${value[@]}" --data "$tmp/ds" --out "$tmp/x.pt" "$@" >/dev/null 2>"$tmp/err"; rc=$?
  [ $rc -eq 2 ] || fail "expected exit 2 for $*, got $rc: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "expected one line for $*: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "message does not name $word: $(cat "$tmp/err")"
}
bad --gamma --init "$tmp/m.pt" --gamma 1
bad --horizon --init "$tmp/m.pt" --horizon 0
bad --init --init "$tmp/no-such.pt"
bad --data-weights --init "$tmp/m.pt" --data-weights 1,2
[ -e "$tmp/x.pt" ] && fail "a refused run wrote a checkpoint"
echo "train_value ok"
