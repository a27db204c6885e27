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
 * Point get, uniform random over 1,000,000 keys (16-byte keys, 100-byte values), all present and all
 * resident: the store is loaded, persisted and fully compacted (MmapStore: one segment; RocksDB: flush +
 * compactRange), then every key is read once before warmup, so the data is in the page cache and
 * MmapStore's lazy page checksums have run. Run in two modes: throughput, and sample time for p50/p99.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 3)
public class GetBenchmark {
    @Param({BenchStore.MMAPSTORE, BenchStore.ROCKSDB})
    public String store;

    private byte[][] keys;
    private BenchStore s;
    private Data.Rng rng;

    @Setup(Level.Trial)
    public void load() {
        keys = Data.sortedKeys(Data.KEY_COUNT);
        s = BenchStore.open(store);
        Data.load(s, keys, 100);
        for (byte[] k : keys) {
            if (s.get(k) == null) {
                throw new IllegalStateException("key missing after load");
            }
        }
        rng = new Data.Rng(7);
    }

    @TearDown(Level.Trial)
    public void close() {
        s.close();
    }

    @Benchmark
    @BenchmarkMode(Mode.Throughput)
    public byte[] get() {
        return s.get(keys[rng.nextInt(keys.length)]);
    }

    @Benchmark
    @BenchmarkMode(Mode.SampleTime)
    @OutputTimeUnit(TimeUnit.MICROSECONDS)
    public byte[] getLatency() {
        return s.get(keys[rng.nextInt(keys.length)]);
    }
}
