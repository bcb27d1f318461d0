# Sourced by bench/device-check.sh, its parts and bench/device-train.sh: one deadline for a whole
# device command (the device tool runs one command for 10 minutes at most, build included).
# DEVICE_DEADLINE: the epoch second by which everything must have ended (unset: no deadline).

# cap SECONDS [RESERVE]: SECONDS, or less so that RESERVE seconds (default 20) stay before the
# deadline; at least 1.
cap() {
  local want=$1 reserve=${2:-20}
  if [[ -n ${DEVICE_DEADLINE:-} ]]; then
    local left=$((DEVICE_DEADLINE - $(date +%s) - reserve))
    ((left < want)) && want=$left
  fi
  ((want < 1)) && want=1
  echo "$want"
}

# time_left RESERVE: succeeds when more than RESERVE seconds remain before the deadline.
time_left() {
  [[ -z ${DEVICE_DEADLINE:-} ]] && return 0
  (($(date +%s) + ${1:-0} < DEVICE_DEADLINE))
}

# cpu_figures PART: succeeds when CPU benchmarks are worth running here; with a training job on
# the same machine (DEVICE_CONCURRENT_TRAINING=1, bench/device-check.sh --train) says why not.
cpu_figures() {
  if [[ ${DEVICE_CONCURRENT_TRAINING:-0} == 1 ]]; then
    echo "$1: CPU benchmark skipped: a training job shares this machine's cores"
    return 1
  fi
}
