package io.github.mmapstore.benchmarks;

import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Commit latency: before each measured commit, 10,000 untimed puts (16-byte keys uniform over a 1M-key
 * space, 100-byte values); the measured call is the commit alone (MmapStore: {@code commit(8-byte
 * offset)}; RocksDB: {@code store.commit(Map.of(tp, offset))}). Sample-time mode gives p50/p99.
 *
 * <p>Fairness: {@code mmapstore} runs with fsync ON (its default: one fdatasync of the log per commit,
 * plus a manifest write + fsync after a memtable flush). Kafka's RocksDB store runs with the WAL
 * disabled and does not fsync at commit (it only writes the offsets into its offsets column family), so
 * {@code mmapstore-nofsync} is the like-for-like row.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 8)
public class CommitBenchmark {
    static final int WRITES_PER_COMMIT = 10_000;

    @Param({BenchStore.MMAPSTORE, BenchStore.MMAPSTORE_NOFSYNC, BenchStore.ROCKSDB})
    public String store;

    private byte[][] keys;
    private byte[] template;
    private BenchStore s;
    private Data.Rng rng;
    private long counter;
    private long offset;

    @Setup(Level.Trial)
    public void open() {
        keys = Data.sortedKeys(Data.KEY_COUNT);
        template = Data.valueTemplate(100);
        rng = new Data.Rng(99);
        s = BenchStore.open(store);
    }

    @TearDown(Level.Trial)
    public void close() {
        s.close();
    }

    @Setup(Level.Invocation)
    public void writes() {
        for (int i = 0; i < WRITES_PER_COMMIT; i++) {
            s.put(keys[rng.nextInt(keys.length)].clone(), Data.value(template, ++counter));
        }
    }

    @Benchmark
    public void commit() {
        s.commit(++offset);
    }
}
