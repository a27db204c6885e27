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
 * Single-thread put throughput: 16-byte keys drawn uniformly from a 1M-key space (a mix of inserts and
 * overwrites), fresh 100-byte or 3 KiB values. Each iteration starts from an empty store in a new
 * directory, so disk use stays bounded and iterations are comparable; memtable flushes (MmapStore:
 * inline in put; RocksDB: background threads) happen inside the measured time. No commits.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 3)
public class PutBenchmark {
    @Param({BenchStore.MMAPSTORE, BenchStore.ROCKSDB})
    public String store;

    @Param({"100", "3072"})
    public int valueBytes;

    private byte[][] keys;
    private byte[] template;
    private BenchStore s;
    private Data.Rng rng;
    private long counter;

    @Setup(Level.Trial)
    public void data() {
        keys = Data.sortedKeys(Data.KEY_COUNT);
        template = Data.valueTemplate(valueBytes);
        rng = new Data.Rng(42);
    }

    @Setup(Level.Iteration)
    public void open() {
        s = BenchStore.open(store);
    }

    @TearDown(Level.Iteration)
    public void close() {
        s.close();
        s = null;
    }

    @Benchmark
    public void put() {
        // clone: the store gets its own key array, like a freshly deserialized record key
        s.put(keys[rng.nextInt(keys.length)].clone(), Data.value(template, ++counter));
    }
}
