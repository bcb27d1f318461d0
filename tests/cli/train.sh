#!/usr/bin/env bash
# parallax train: trains on a dataset written by `parallax collect`, writes a checkpoint and
# JSON-lines metrics, --resume continues exactly like an uninterrupted run, and bad flags/files
# give one clear error line with a non-zero exit.
# usage: train.sh PARALLAX_EXE SOURCE_DIR
set -u
exe=$1
py=${PARALLAX_TEST_PYTHON:-python3}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# A small dataset. A collect that cannot make one is a failure of the product, not a reason to
# skip: this test would otherwise hide it.
"$exe" collect --scene push --agent random --episodes 2 --envs 2 --seed 3 --threads 1 \
  --out "$tmp/ds" --quiet >/dev/null 2>"$tmp/collect.txt" ||
  fail "parallax collect could not make a dataset: $(cat "$tmp/collect.txt")"
common=(--data "$tmp/ds" --batch 2 --lr 1e-3 --threads 1 --seed 4)
run=("${common[@]}" --preset tiny --seq 8)

# 4 steps with a checkpoint every 2, metrics as JSON lines, progress on stderr.
"$exe" train "${run[@]}" --steps 4 --checkpoint-every 2 --out "$tmp/m/a.pt" \
  --log "$tmp/a.jsonl" --json >"$tmp/a.json" 2>"$tmp/a.err" || fail "train failed: $(cat "$tmp/a.err")"
[ -s "$tmp/m/a.pt" ] || fail "no checkpoint written"
[ "$(wc -l <"$tmp/a.jsonl")" -eq 4 ] || fail "expected 4 metric lines: $(cat "$tmp/a.jsonl")"
grep -q '"steps":4' "$tmp/a.json" || fail "summary: $(cat "$tmp/a.json")"
grep -q 'frames/s' "$tmp/a.err" || fail "no progress line: $(cat "$tmp/a.err")"
grep -q 'ETA' "$tmp/a.err" || fail "progress line lacks ETA"
ls -a "$tmp/m" | grep -q tmp && fail "temporary checkpoint file left behind"

# Resume to 7 steps; an uninterrupted 7-step run must log the same losses.
"$exe" train "${run[@]}" --steps 7 --out "$tmp/m/a.pt" --log "$tmp/a.jsonl" --resume \
  --json >"$tmp/r.json" 2>"$tmp/r.err" || fail "resume failed: $(cat "$tmp/r.err")"
grep -q '"resumed":true' "$tmp/r.json" || fail "not resumed: $(cat "$tmp/r.json")"
grep -q 'resuming' "$tmp/r.err" || fail "no resume message on stderr"
"$exe" train "${run[@]}" --steps 7 --out "$tmp/m/b.pt" --log "$tmp/b.jsonl" --quiet \
  >/dev/null || fail "straight run failed"
# same_losses A.jsonl B.jsonl N: both logs have N lines with equal losses, step by step.
same_losses() {
  "$py" - "$1" "$2" "$3" <<'PY'
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
b = [json.loads(l) for l in open(sys.argv[2])]
n = int(sys.argv[3])
assert len(a) == len(b) == n, (len(a), len(b), n)
keys = ["step", "loss", "recon", "reward", "cont", "kl_dyn", "kl_rep", "grad_norm", "skipped"]
for x, y in zip(a, b):
    for k in keys:
        assert x[k] == y[k], (x["step"], k, x[k], y[k])
assert a[-1]["loss"] is not None
PY
}
same_losses "$tmp/a.jsonl" "$tmp/b.jsonl" 7 || fail "resumed run differs from the straight run"

# SIGINT: stops after the current step, writes a checkpoint, exits 1 with a message; --resume
# then continues from that step.
"$exe" train "${run[@]}" --steps 100000 --out "$tmp/m/int.pt" --log "$tmp/int.jsonl" --quiet \
  >/dev/null 2>"$tmp/int.err" &
pid=$!
for _ in $(seq 1 300); do
  [ -s "$tmp/int.jsonl" ] && [ "$(wc -l <"$tmp/int.jsonl")" -ge 2 ] && break
  sleep 0.1
done
kill -INT "$pid"
wait "$pid"
[ $? -eq 1 ] || fail "SIGINT: expected exit 1"
grep -q "parallax: error: interrupted at step [0-9]*; checkpoint written" "$tmp/int.err" ||
  fail "SIGINT message: $(cat "$tmp/int.err")"
done_steps=$(wc -l <"$tmp/int.jsonl")
"$exe" train "${run[@]}" --steps $((done_steps + 2)) --out "$tmp/m/int.pt" --log "$tmp/int.jsonl" \
  --resume --quiet >/dev/null || fail "resume after SIGINT failed"
[ "$(wc -l <"$tmp/int.jsonl")" -eq $((done_steps + 2)) ] || fail "resume after SIGINT: wrong step count"
"$exe" train "${run[@]}" --steps $((done_steps + 2)) --out "$tmp/m/int_straight.pt" \
  --log "$tmp/int_straight.jsonl" --quiet >/dev/null || fail "straight run for SIGINT failed"
same_losses "$tmp/int.jsonl" "$tmp/int_straight.jsonl" $((done_steps + 2)) ||
  fail "the run interrupted by SIGINT and resumed differs from an uninterrupted run"

# Bad flags and files: one line "parallax: error: ...", non-zero exit.
"$exe" train --data "$tmp/nope" --out "$tmp/x.pt" >/dev/null 2>"$tmp/e1.txt" && fail "missing data accepted"
grep -q "nope" "$tmp/e1.txt" || fail "missing data message: $(cat "$tmp/e1.txt")"
"$exe" train "${run[@]}" --out "$tmp/x.pt" --device tpu >/dev/null 2>"$tmp/e2.txt"
[ $? -eq 2 ] || fail "--device tpu should exit 2"
grep -q "parallax: error: --device 'tpu'" "$tmp/e2.txt" || fail "device message: $(cat "$tmp/e2.txt")"
"$exe" train "${common[@]}" --seq 1000 --out "$tmp/x.pt" >/dev/null 2>"$tmp/e3.txt"
[ $? -eq 1 ] || fail "--seq 1000 should exit 1"
grep -q "no episode has 1000 frames" "$tmp/e3.txt" || fail "seq message: $(cat "$tmp/e3.txt")"
head -c 2000 "$tmp/m/a.pt" >"$tmp/trunc.pt"
"$exe" train "${run[@]}" --steps 8 --out "$tmp/trunc.pt" --resume >/dev/null 2>"$tmp/e4.txt"
[ $? -eq 1 ] || fail "truncated checkpoint should exit 1"
grep -q "parallax: error: checkpoint '.*trunc.pt' is not a readable checkpoint" "$tmp/e4.txt" ||
  fail "truncated message: $(cat "$tmp/e4.txt")"
[ "$(wc -l <"$tmp/e4.txt")" -eq 1 ] || fail "error is not one line: $(cat "$tmp/e4.txt")"
"$exe" train "${common[@]}" --seq 8 --preset small --steps 8 --out "$tmp/m/a.pt" --resume \
  >/dev/null 2>"$tmp/e5.txt" && fail "resume with another preset accepted"
grep -q "preset 'tiny'" "$tmp/e5.txt" || fail "preset message: $(cat "$tmp/e5.txt")"
echo "ok"
