package io.github.mmapstore.benchmarks.embedding;

import io.github.mmapstore.engine.EngineStats;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.streams.EmbeddingSerde;
import io.github.mmapstore.streams.MmapEmbeddingStore;
import io.github.mmapstore.streams.MmapEmbeddingStoreSupplier;
import io.github.mmapstore.streams.Similarity;
import io.github.mmapstore.vector.EmbeddingFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;

/**
 * The benchmark's embedding store: {@code n} random vectors of {@code dimension} floats, keys 0..n-1
 * (8-byte big-endian), compacted to one segment with an empty memtable, built once into
 * {@code <bench.dir>/embedding-<n>x<dimension>/} and reopened by later runs (a {@code READY} file marks a
 * finished build). {@code bench.dir} defaults to {@code benchmarks/work} (git-ignored).
 */
final class EmbeddingData {
    static final String STORE = "vectors";

    private EmbeddingData() {
    }

    /** A store whose engine the benchmark can reach (the accessor is protected in the store). */
    static final class Store extends MmapEmbeddingStore {
        Store(int dimension, Similarity similarity) {
            super(STORE, MmapEmbeddingStoreSupplier.METRICS_SCOPE, dimension, similarity);
        }

        StoreEngine engine() {
            return engineForSubclasses();
        }
    }

    static Path dir(int n, int dimension) {
        return Path.of(System.getProperty("bench.dir", "benchmarks/work")).resolve("embedding-" + n + "x" + dimension);
    }

    /** Opens (building first if needed) the compacted store. */
    static Store open(int n, int dimension, Similarity similarity) throws IOException {
        Path dir = dir(n, dimension);
        // The marker names the layout it vouches for: a store built before the one-file setting (cut into
        // 32 MiB files) has only the old marker and is built again.
        Path ready = dir.resolve("READY-one-file");
        boolean build = !Files.exists(ready);
        if (build && Files.exists(dir)) {
            deleteTree(dir);
        }
        Files.createDirectories(dir);
        Store store = init(dir, dimension, similarity);
        if (build) {
            long t0 = System.nanoTime();
            SplittableRandom rnd = new SplittableRandom(42);
            float[] v = new float[dimension];
            List<KeyValue<Bytes, byte[]>> batch = new java.util.ArrayList<>(1000);
            for (long i = 0; i < n; i++) {
                for (int d = 0; d < dimension; d++) {
                    v[d] = (float) (rnd.nextDouble() * 2 - 1);
                }
                batch.add(KeyValue.pair(key(i), EmbeddingFormat.encode(v, 1f, i, null)));
                if (batch.size() == 1000) {
                    store.putAll(batch);
                    batch.clear();
                }
                if (i % 100_000 == 99_999) {
                    store.commit(Map.of());
                    System.err.printf("embedding store: %,d / %,d vectors written%n", i + 1, n);
                }
            }
            store.putAll(batch);
            store.engine().flush();
            store.commit(Map.of());
            store.engine().compactFully();
            store.commit(Map.of());
            Files.writeString(ready, "n=" + n + " dimension=" + dimension + "\n");
            System.err.printf("embedding store built in %.1f s%n", (System.nanoTime() - t0) / 1e9);
        }
        EngineStats s = store.engine().stats();
        if (s.segments() != 1 || s.memtableKeys() != 0) {
            throw new IllegalStateException("benchmark store is not one compacted segment: " + s);
        }
        return store;
    }

    private static Store init(Path dir, int dimension, Similarity similarity) {
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "embedding-bench");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        // One file: the scan is compared with the memory bandwidth over one contiguous vector column (by
        // default a full merge cuts its output into 32 MiB files, 93 of them for 1M x 768 dimensions).
        props.put("mmapstore.compaction.file.bytes", String.valueOf(Long.MAX_VALUE));
        MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
        Store store = new Store(dimension, similarity);
        store.init(ctx.getStateStoreContext(), store);
        return store;
    }

    static Bytes key(long i) {
        return Bytes.wrap(ByteBuffer.allocate(8).putLong(i).array());
    }

    static float[] query(int dimension, long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        float[] q = new float[dimension];
        for (int d = 0; d < dimension; d++) {
            q[d] = (float) (rnd.nextDouble() * 2 - 1);
        }
        return q;
    }

    static final EmbeddingSerde SERDE = new EmbeddingSerde();

    private static void deleteTree(Path dir) throws IOException {
        try (var s = Files.walk(dir)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
