#!/usr/bin/env bash
# Store-level comparison: MmapStore vs Kafka's RocksDB and in-memory key-value stores through the same
# KeyValueStore<Bytes, byte[]> interface, one JVM, one store after the other (see README-store-level.md).
# Writes benchmarks/results/<date>-store-level.{md,json,png} (1M keys; with --10m: <date>-store-level-10m.*).
#
#   ./benchmarks/run-store-level.sh                 # 1 million keys (~5-10 minutes on 2 cores)
#   ./benchmarks/run-store-level.sh --10m           # 10 million keys (long: allow an hour or more)
#   PROFILE=1 ./benchmarks/run-store-level.sh --stores mmapstore,rocksdb   # + JFR, per-phase top frames
#
# Environment: JDK25 (JDK home), HEAP (default 4g, 8g with --10m), MAX_LOAD (default 1.5: wait until the
# 1-minute load average is below it), WAIT_MAX (seconds to wait for that, default 900), STORE_DIR (where
# the stores live, default benchmarks/work/store-level), SKIP_BUILD=1 and JAR=<jar or classpath> (use an
# existing build, e.g. a copy, instead of building benchmarks/target/benchmarks.jar).
# Other arguments go to StoreLevelBenchmark (--keys N, --stores a,b, --reads N, --ranges N, --commits N, ...).
set -euo pipefail
cd "$(dirname "$0")/.."                         # repository root
source benchmarks/lib.sh
JAR="${JAR:-benchmarks/target/benchmarks.jar}"
mkdir -p "$OUT" "$WORK"

STORES="${STORE_DIR:-$WORK/store-level}"        # own subdirectory: run-engine.sh cleans $WORK/mmapstore-*
mkdir -p "$STORES"
DEFAULT_HEAP=4g
for a in "$@"; do [ "$a" = "--10m" ] && DEFAULT_HEAP=8g; done
HEAP="${HEAP:-$DEFAULT_HEAP}"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi

# On a 2-core machine anything else running skews the figures: wait for a quiet machine (bounded).
wait_for_quiet_load "${MAX_LOAD:-1.5}" "${WAIT_MAX:-900}"
echo "starting with load average $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir -p "$WORK" "$STORES"

SUFFIX=""
for a in "$@"; do [ "$a" = "--10m" ] && SUFFIX="-10m"; done
LOADLOG="$WORK/loadavg-store-level$SUFFIX-$DATE.log"
start_load_log "$LOADLOG" "$WORK"

JVM=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC)
EXTRA=()
if [ "${PROFILE:-0}" = "1" ]; then
  PROF="$WORK/store-level$SUFFIX-$DATE"
  JVM+=("-XX:StartFlightRecording=filename=$PROF.jfr,settings=profile,jdk.ExecutionSample#period=1ms,jdk.NativeMethodSample#period=1ms")
  EXTRA+=(--phases "$PROF-phases.txt")
  OUT="$WORK/profile-results"; mkdir -p "$OUT"   # profiled figures are not the published ones
fi

REV="${REV:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
if [ -n "$(git status --porcelain -- store 2>/dev/null)" ]; then REV="$REV + uncommitted changes under store/"; fi

"$JAVA" "${JVM[@]}" -cp "$JAR" io.github.mmapstore.benchmarks.store.StoreLevelBenchmark \
  --out "$OUT" --work "$STORES" --date "$DATE" --load-log "$LOADLOG" --rev "git $REV" "${EXTRA[@]}" "$@"

if [ "${PROFILE:-0}" = "1" ]; then
  "$JAVA" -cp "$JAR" io.github.mmapstore.benchmarks.store.JfrTop "$PROF.jfr" "$PROF-phases.txt" 20 main \
    | tee "$PROF-top-frames.txt"
  echo "profile: $PROF.jfr, per-phase top frames in $PROF-top-frames.txt"
fi
rm -rf "$STORES"
