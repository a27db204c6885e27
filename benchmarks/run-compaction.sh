#!/usr/bin/env bash
# Compaction under an update-heavy Zipf workload (issue 7): MmapStore with compaction, MmapStore without
# (budget 0) and Kafka's RocksDB store, one JVM, one after the other (see README.md, "Compaction").
# Writes benchmarks/results/<date>-compaction.md, -latency.png and -disk.png.
#
#   ./benchmarks/run-compaction.sh                              # 10 million keys, 180 s per competitor
#   ./benchmarks/run-compaction.sh --keys 1000000 --seconds 60  # a quick look
#
# Environment: JDK25, HEAP (default 8g), MAX_LOAD (default 1.5), WAIT_MAX (default 900 s), STORE_DIR
# (default benchmarks/work/compaction), SKIP_BUILD=1 and JAR=<jar> (use an existing build).
# Other arguments go to CompactionBenchmark (--keys N, --seconds S, --interval S, --zipf s,
# --value-bytes N, --commit-ms MS, --no-preload, --competitors mmapstore,mmapstore-nocompaction,rocksdb).
set -euo pipefail
cd "$(dirname "$0")/.."                         # repository root
source benchmarks/lib.sh
JAR="${JAR:-benchmarks/target/benchmarks.jar}"
STORES="${STORE_DIR:-$WORK/compaction}"
HEAP="${HEAP:-8g}"
mkdir -p "$OUT" "$WORK" "$STORES"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi

wait_for_quiet_load "${MAX_LOAD:-1.5}" "${WAIT_MAX:-900}"
echo "starting with load average $(cut -d' ' -f1-3 /proc/loadavg)"
LOADLOG="$WORK/loadavg-compaction-$DATE.log"
start_load_log "$LOADLOG" "$WORK"

REV="${REV:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
if [ -n "$(git status --porcelain -- store 2>/dev/null)" ]; then REV="$REV + uncommitted changes under store/"; fi

"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC \
  -Djava.awt.headless=true -cp "$JAR" io.github.mmapstore.benchmarks.compaction.CompactionBenchmark \
  --out "$OUT" --work "$STORES" --date "$DATE" --load-log "$LOADLOG" --rev "git $REV" "$@"
rm -rf "$STORES"
