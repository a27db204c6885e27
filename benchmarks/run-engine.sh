#!/usr/bin/env bash
# Builds the benchmarks jar, runs the engine benchmarks (MmapStore vs Kafka's RocksDB store, same run)
# and writes benchmarks/results/<date>-engine.{json,md,png}. Run from anywhere; ~10 minutes on 2 cores.
# Extra arguments go to JMH, e.g. ./benchmarks/run-engine.sh -p store=mmapstore
# Only the engine benchmarks run (the module holds other benchmark families too):
ENGINE='io\.github\.mmapstore\.benchmarks\.(Put|Get|Range|Commit)Benchmark\.'
set -euo pipefail
cd "$(dirname "$0")/.."                         # repository root
source benchmarks/lib.sh
mkdir -p "$OUT" "$WORK"

mvn -q -pl benchmarks -am package -DskipTests

# Record the machine's load while the run goes (other work on a 2-core box skews results).
start_load_log "$WORK/loadavg-$DATE.log" "$WORK"

"$JAVA" --add-modules jdk.incubator.vector -Dbench.dir="$WORK" \
  -jar benchmarks/target/benchmarks.jar "$ENGINE" -rf json -rff "$OUT/$DATE-engine.json" "$@"

"$JAVA" -cp benchmarks/target/benchmarks.jar io.github.mmapstore.benchmarks.ResultsWriter \
  "$OUT/$DATE-engine.json" --out "$OUT" --date "$DATE" --bench-dir "$WORK" --load-log "$WORK/loadavg-$DATE.log"
rm -rf "$WORK"/mmapstore-* "$WORK"/rocksdb-*
