#!/usr/bin/env bash
# The benchmarks refuse bad input like the CLI: one line on stderr naming what is wrong,
# a non-zero exit, no uncaught exception (bench_unet and bench_planner used to abort).
# usage: bench_bad_input.sh SOURCE_DIR BENCH...
set -u
src=$1; shift
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
refuses() {  # refuses WORD BENCH ARGS...: exit 1 or 2, one line naming WORD
  local word=$1; shift
  "$@" >/dev/null 2>"$tmp/err"
  local rc=$?
  { [ $rc -eq 1 ] || [ $rc -eq 2 ]; } || fail "$*: exit $rc: $(cat "$tmp/err")"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "$*: not one line: $(cat "$tmp/err")"
  grep -q -- "$word" "$tmp/err" || fail "$*: does not name $word: $(cat "$tmp/err")"
}
for b in "$@"; do
  refuses "no/such.pt" "$b" no/such.pt
  refuses "usage" "$b" --help
done
# bench_store takes no model: its flags.
for b in "$@"; do
  if [[ $(basename "$b") == bench_store ]]; then
    refuses "--episodes x: expected an integer" "$b" --episodes x
    refuses "--steps 3x: expected an integer" "$b" --steps 3x
    refuses "--size in \[8, 512\]" "$b" --size 4
  fi
done
# A value that is not a number (these take --threads).
for b in "$@"; do
  case $(basename "$b") in bench_unet | bench_planner | bench_latent | bench_pose_world)
    model=$src/assets/models/push.pt; [[ $(basename "$b") == bench_latent ]] && model=$src/assets/models/push-latent.pt
    [[ $(basename "$b") == bench_pose_world ]] && model=$src/assets/models/billiards.pt
    refuses "bad value" "$b" "$model" --threads x ;;
  esac
done
# bench_planner's judge scores with the poses: refused with the reward head, by name.
for b in "$@"; do
  if [[ $(basename "$b") == bench_planner ]]; then
    refuses "--judge needs --reward poses" "$b" "$src/assets/models/push-latent-poses.pt" \
      --judge "$src/assets/models/push.pt"
  fi
done
echo "bench_bad_input ok"
