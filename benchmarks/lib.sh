# Shared by the run-*.sh scripts (source it after `cd` to the repository root): waiting for a quiet
# machine and logging its load average while a benchmark runs, and the paths every script uses.

JDK="${JDK25:-$(ls -d /usr/lib/jvm/*25* 2>/dev/null | head -1)}"
JAVA="$JDK/bin/java"
DATE="$(date +%F)"
OUT=benchmarks/results
WORK=benchmarks/work                             # git-ignored; stores and state directories are created and deleted here

# wait_for_quiet_load MAX_LOAD WAIT_MAX: on a 2-core machine anything else running skews the figures, so
# wait (bounded, WAIT_MAX seconds, 30 s steps) until the 1-minute load average is below MAX_LOAD. Sets
# $waited to the seconds waited.
wait_for_quiet_load() {
  local max_load="$1" wait_max="$2"
  waited=0
  while awk -v m="$max_load" '{exit !($1 >= m)}' /proc/loadavg && [ "$waited" -lt "$wait_max" ]; do
    echo "load average $(cut -d' ' -f1-3 /proc/loadavg) >= $max_load, waiting ($waited/$wait_max s)"
    sleep 30; waited=$((waited + 30))
  done
}

# start_load_log LOG WORK: writes "HH:MM:SS <contents of /proc/loadavg>" to LOG now and every 10 s until
# the script exits (sets $SAMPLER and an EXIT trap). Appends (and re-creates WORK) each time: the work
# directory may be cleaned by other runs meanwhile.
start_load_log() {
  local log="$1" work="$2"
  echo "$(date +%T) $(cat /proc/loadavg)" > "$log"
  ( while true; do sleep 10; mkdir -p "$work"; echo "$(date +%T) $(cat /proc/loadavg)" >> "$log"; done ) &
  SAMPLER=$!
  trap 'kill $SAMPLER 2>/dev/null || true' EXIT
}
