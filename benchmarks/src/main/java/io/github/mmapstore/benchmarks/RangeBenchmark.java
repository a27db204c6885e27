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
import org.openjdk.jmh.infra.Blackhole;

/**
 * Range scan of exactly 1,000 consecutive keys from a random start, over the same 1M-key, 100-byte
 * value, fully compacted and warmed store as {@link GetBenchmark}; every key and value is consumed.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Threads(1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "-Xms4g", "-Xmx4g", "--enable-native-access=ALL-UNNAMED"})
@Warmup(iterations = 5, time = 2)
@Measurement(iterations = 5, time = 3)
public class RangeBenchmark {
    static final int SCAN = 1_000;

    @Param({BenchStore.MMAPSTORE, BenchStore.ROCKSDB})
    public String store;

    private byte[][] keys;
    private BenchStore s;
    private Data.Rng rng;

    @Setup(Level.Trial)
    public void load(Blackhole bh) {
        keys = Data.sortedKeys(Data.KEY_COUNT);
        s = BenchStore.open(store);
        Data.load(s, keys, 100);
        int n = s.scan(keys[0], keys[keys.length - 1], bh); // warms every page
        if (n != keys.length) {
            throw new IllegalStateException("full scan saw " + n + " keys");
        }
        rng = new Data.Rng(11);
    }

    @TearDown(Level.Trial)
    public void close() {
        s.close();
    }

    @Benchmark
    public int range(Blackhole bh) {
        int start = rng.nextInt(keys.length - SCAN + 1);
        int n = s.scan(keys[start], keys[start + SCAN - 1], bh);
        if (n != SCAN) {
            throw new IllegalStateException("scan returned " + n + " keys");
        }
        return n;
    }
}
