#!/usr/bin/env bash
# Many stores in one JVM under one memory budget (issue 21): 500 key-value stores (100 tasks x 5) under a
# write load with a commit of every task every 100 ms, MmapStore (mmapstore.memory.budget.bytes) against
# Kafka's RocksDB store with the bounded-memory recipe of the same size, flag enable.transactional.statestores
# off and on. Each competitor runs in child JVMs of its own (same heap flags): a load that is killed with
# SIGKILL at the end, then a reopen (open, read, check, replay the changelog tail, check, close).
# Writes benchmarks/results/<date>-many-stores.md, -heap.png, -rss.png, -throughput.png.
#
#   ./benchmarks/run-many-stores.sh                                    # 500 stores, 120 s of writes each (~10-12 minutes)
#   ./benchmarks/run-many-stores.sh --tasks 10 --seconds 20 --name x   # a quick look (50 stores)
#   ./benchmarks/run-many-stores.sh --skew                             # 10% of the stores take 90% of the writes
#
# Environment: JDK25, CHILD_JVM (child JVM flags, default "-Xmx1g -XX:+UseG1GC"), MAX_LOAD (default 1.5),
# WAIT_MAX (default 900 s), STORE_DIR (default benchmarks/work/many-stores), SKIP_BUILD=1 and JAR=<jar>.
# Other arguments go to ManyStoresBenchmark (--tasks N, --stores-per-task N, --keys-per-store N, --seconds S,
# --commit-ms MS, --commit-writes N, --budget-mib M, --rocksdb-memtable-share F, --rocksdb-strict true|false,
# --rocksdb-write-buffer-kib N,
# --skew, --sample-keys N, --live-heap-every S, --competitors mmapstore,rocksdb,rocksdb-txn, --name BASE).
set -euo pipefail
cd "$(dirname "$0")/.."                         # repository root
source benchmarks/lib.sh
JAR="${JAR:-benchmarks/target/benchmarks.jar}"
STORES="${STORE_DIR:-$WORK/many-stores}"
CHILD_JVM="${CHILD_JVM:--Xmx1g -XX:+UseG1GC}"
mkdir -p "$OUT" "$WORK" "$STORES"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi

wait_for_quiet_load "${MAX_LOAD:-1.5}" "${WAIT_MAX:-900}"
echo "starting with load average $(cut -d' ' -f1-3 /proc/loadavg)"
LOADLOG="$WORK/loadavg-many-stores-$DATE.log"
start_load_log "$LOADLOG" "$WORK"

REV="${REV:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}"
if [ -n "$(git status --porcelain -- store 2>/dev/null)" ]; then REV="$REV + uncommitted changes under store/"; fi

# The parent only starts the children and writes the report: a small heap.
"$JAVA" -Xmx512m -XX:+UseSerialGC -Djava.awt.headless=true -cp "$JAR" \
  io.github.mmapstore.benchmarks.store.ManyStoresBenchmark \
  --out "$OUT" --work "$STORES" --date "$DATE" --load-log "$LOADLOG" --rev "git $REV" --child-jvm "$CHILD_JVM" "$@"
rm -rf "$STORES"
