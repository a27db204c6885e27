#!/usr/bin/env bash
# Topology-level comparison (issue 5, "Benchmark"): a hopping-window count over 100,000 keys and a
# stream-stream join, each through TopologyTestDriver on Kafka's RocksDB stores (default DSL suppliers)
# and on MmapStore (dsl.store.suppliers.class=io.github.mmapstore.streams.MmapDslStoreSuppliers, its
# defaults), one JVM, alternating store order. See benchmarks/README-topology.md.
# Writes benchmarks/results/<date>-topology.{md,json,png}.
#
#   ./benchmarks/run-topology.sh                                   # 1M records per run, 2 rounds (~15-20 min on 2 cores)
#   ./benchmarks/run-topology.sh --agg-records 200000 --join-records 200000   # quicker
#   PROFILE=1 ./benchmarks/run-topology.sh --configs every-record --rounds 1   # + JFR, per-phase top frames
#
# Environment: JDK25 (JDK home), HEAP (default 4g), MAX_LOAD (default 2: wait until the 1-minute load
# average is below it), WAIT_MAX (seconds to wait for that, default 600), STORE_DIR (state directories,
# default benchmarks/work/topology), SKIP_BUILD=1 and JAR=<jar or classpath> (use an existing build).
# Other arguments go to TopologyBenchmark: --agg-records N, --join-records N, --keys N, --rounds N,
# --warmup N, --commit-every N, --configs every-record,every-N, --topologies agg,join, --suffix S.
set -euo pipefail
cd "$(dirname "$0")/.."                         # repository root
source benchmarks/lib.sh
JAR="${JAR:-benchmarks/target/benchmarks.jar}"
STATES="${STORE_DIR:-$WORK/topology}"
HEAP="${HEAP:-4g}"
mkdir -p "$OUT" "$WORK" "$STATES"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi

# On a 2-core machine anything else running skews the figures: wait for a quiet machine (bounded).
wait_for_quiet_load "${MAX_LOAD:-2}" "${WAIT_MAX:-600}"
echo "starting with load average $(cut -d' ' -f1-3 /proc/loadavg) (waited $waited s)"

TAG=""; [ "${PROFILE:-0}" = "1" ] && TAG="-profile"
LOADLOG="$WORK/loadavg-topology$TAG-$DATE.log"
start_load_log "$LOADLOG" "$WORK"

JVM=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC)
EXTRA=()
if [ "${PROFILE:-0}" = "1" ]; then
  PROF="$WORK/topology-$DATE"
  JVM+=("-XX:StartFlightRecording=filename=$PROF.jfr,settings=profile,jdk.ExecutionSample#period=1ms,jdk.NativeMethodSample#period=1ms")
  EXTRA+=(--phases "$PROF-phases.txt")
  OUT="$WORK/profile-results-topology"; mkdir -p "$OUT"   # profiled figures are not the published ones
fi

"$JAVA" "${JVM[@]}" -cp "$JAR" io.github.mmapstore.benchmarks.topology.TopologyBenchmark \
  --out "$OUT" --work "$STATES" --date "$DATE" --load-log "$LOADLOG" "${EXTRA[@]}" "$@"

if [ "${PROFILE:-0}" = "1" ]; then
  # JfrTop (store-level harness) reads "start|end <label> <store> <instant>" phase lines
  "$JAVA" -cp "$JAR" io.github.mmapstore.benchmarks.store.JfrTop "$PROF.jfr" "$PROF-phases.txt" 25 main \
    | tee "$PROF-top-frames.txt"
  echo "profile: $PROF.jfr, per-phase top frames in $PROF-top-frames.txt"
fi
rm -rf "$STATES"
