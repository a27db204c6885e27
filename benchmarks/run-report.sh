#!/usr/bin/env bash
# One command for the whole comparison (issue 8): store level (MmapStore vs Kafka's RocksDB and in-memory
# stores), topology level (RocksDB vs MmapStore DSL stores) and kNN (store scan vs memory bandwidth and
# Lucene; SIMD vs scalar kernels), in one go. Writes benchmarks/results/<date>/report.md, headline.md
# (the README's headline table), headline.png, one chart per section, load.png, and the harnesses'
# detailed files (store-level.*, topology.*, knn-*.json). See benchmarks/README.md.
#
#   ./benchmarks/run-report.sh --quick          # small sizes: about 3 minutes on 2 cores
#   ./benchmarks/run-report.sh                  # full sizes: 14 min on a quiet 2-core machine, 26 min under load
#   ./benchmarks/run-report.sh --sections store,knn --store-keys 500000
#
# Environment: JDK25 (JDK home), HEAP (default 4g), MAX_LOAD (default 2: wait until the 1-minute load
# average is below it), WAIT_MAX (seconds to wait for that, default 600), SKIP_BUILD=1 and JAR=<jar> (use
# an existing build). Arguments go to io.github.mmapstore.benchmarks.report.BenchmarkReport; a wrong
# argument stops it before anything runs, with the reason and the usage.
set -euo pipefail
cd "$(dirname "$0")/.."                         # repository root
source benchmarks/lib.sh
JAR="${JAR:-benchmarks/target/benchmarks.jar}"
HEAP="${HEAP:-4g}"
mkdir -p "$OUT" "$WORK"

if [ "${SKIP_BUILD:-0}" != "1" ]; then
  mvn -q -pl benchmarks -am package -DskipTests
fi

# On a 2-core machine anything else running skews the figures: wait for a quiet machine (bounded). The
# report records the load average before, during and after the run either way.
wait_for_quiet_load "${MAX_LOAD:-2}" "${WAIT_MAX:-600}"
echo "starting with load average $(cut -d' ' -f1-3 /proc/loadavg) (waited $waited s)"

REV="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
if [ -n "$(git status --porcelain -- store 2>/dev/null)" ]; then REV="$REV + uncommitted changes under store/"; fi

# The JMH forks of the kNN part inherit these flags; its benchmarks set their own heap sizes after them.
"$JAVA" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED "-Xms$HEAP" "-Xmx$HEAP" -XX:+UseG1GC \
  -Djava.awt.headless=true "-Dreport.revision=git $REV" "-Dreport.command=benchmarks/run-report.sh${*:+ $*}" \
  -cp "$JAR" io.github.mmapstore.benchmarks.report.BenchmarkReport "$@"
