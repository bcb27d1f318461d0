#!/usr/bin/env bash
# Start-up: help and the torch-free commands (scenes, sim, render) load no LibTorch library; a
# model command does (so the check can fail); a missing or foreign plugin is one line, exit 1.
# The dynamic loader's own trace (LD_DEBUG=libs) lists every library a run loads.
set -euo pipefail
exe="$1"
src="$2"
export PARALLAX_ASSETS="$src/assets"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
fail() { echo "startup: $*"; exit 1; }

# loaded_torch CMD...: prints the torch libraries the command loaded (none: empty).
loaded_torch() {
  LD_DEBUG=libs LD_DEBUG_OUTPUT="$tmp/ld" "$exe" "$@" >"$tmp/out" 2>"$tmp/err" ||
    fail "'$*' failed: $(head -c 300 "$tmp/err")"
  cat "$tmp"/ld.* | grep -oE 'calling init: [^ ]*(libtorch|libc10)[^ ]*' | sort -u || true
  rm -f "$tmp"/ld.*
}

for cmd in "--help" "scenes" "sim --scene push --steps 3 --threads 0" \
           "render --scene push --seed 1 --threads 0 --out $tmp/f.png"; do
  # shellcheck disable=SC2086
  libs="$(loaded_torch $cmd)"
  [ -z "$libs" ] || fail "'parallax $cmd' loaded LibTorch: $libs"
done
# --help still lists every command, the model ones included, with their descriptions.
"$exe" --help >"$tmp/help"
for c in scenes sim render collect train demo export fidelity plan evaluate; do
  grep -qE "^  $c( |$)" "$tmp/help" || fail "'$c' missing from parallax --help"
done
grep -q "Run Bullet and the world model in lockstep" "$tmp/help" || fail "demo's description"

# A model command loads the plugin and LibTorch (so the checks above can fail).
libs="$(loaded_torch demo --help)"
grep -q libtorch_cpu <<<"$libs" || fail "'parallax demo --help' did not load LibTorch"
grep -q -- "--model" "$tmp/out" || fail "'parallax demo --help' does not show demo's options"

# A missing, foreign or broken plugin: one line naming it, exit 1, for any model command.
check_refused() {  # check_refused PLUGIN EXPECTED-TEXT
  set +e
  PARALLAX_MODEL_CLI="$1" "$exe" collect --help >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  set -e
  [ $rc -eq 1 ] || fail "plugin $1: exit $rc, expected 1"
  [ "$(wc -l <"$tmp/err")" -eq 1 ] || fail "plugin $1: not one line: $(cat "$tmp/err")"
  grep -q "^parallax: error: .*$2" "$tmp/err" || fail "plugin $1: $(cat "$tmp/err")"
}
check_refused "$tmp/none.so" "was not found"
printf 'not an ELF file\n' >"$tmp/garbage.so"
check_refused "$tmp/garbage.so" "cannot load"
libm="$(ldconfig -p | grep -oE '/[^ ]*/libm\.so\.6$' | head -1)"
check_refused "$libm" "is not a Parallax model-commands plugin"
# The torch-free commands do not need the plugin at all.
PARALLAX_MODEL_CLI="$tmp/none.so" "$exe" scenes >/dev/null || fail "scenes needs the plugin"
echo "startup ok"
