package io.github.mmapstore.benchmarks;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.EngineIterator;
import io.github.mmapstore.engine.KeyValue;
import io.github.mmapstore.engine.StoreEngine;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.openjdk.jmh.infra.Blackhole;
import org.rocksdb.FlushOptions;
import org.rocksdb.RocksDB;

/**
 * The two stores under test behind one small interface, so every benchmark body is the same code for
 * both. Each instance owns a fresh temporary directory under {@link #workRoot()} and deletes it on close.
 */
abstract class BenchStore implements AutoCloseable {
    /** Store names used as JMH {@code @Param} values. */
    static final String MMAPSTORE = "mmapstore";
    static final String MMAPSTORE_NOFSYNC = "mmapstore-nofsync";
    static final String ROCKSDB = "rocksdb";

    final Path dir;

    BenchStore(Path dir) {
        this.dir = dir;
    }

    static BenchStore open(String kind) {
        try {
            Path root = workRoot();
            Files.createDirectories(root);
            Path dir = Files.createTempDirectory(root, kind + "-");
            return switch (kind) {
                case MMAPSTORE -> new Mmap(dir, EngineConfig.defaults());
                case MMAPSTORE_NOFSYNC -> new Mmap(dir, EngineConfig.defaults().withFsync(false));
                case ROCKSDB -> new Rocks(dir);
                default -> throw new IllegalArgumentException("unknown store " + kind);
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Where stores live: {@code -Dbench.dir=...}, default {@code /tmp/mmapstore-bench}. */
    static Path workRoot() {
        return Path.of(System.getProperty("bench.dir", System.getProperty("java.io.tmpdir") + "/mmapstore-bench"));
    }

    abstract void put(byte[] key, byte[] value);

    abstract byte[] get(byte[] key);

    /** Reads every entry with from <= key <= to into the blackhole; returns how many. */
    abstract int scan(byte[] from, byte[] to, Blackhole bh);

    /** A Kafka Streams commit of the input offset {@code offset}. */
    abstract void commit(long offset);

    /** Not measured: persist and fully compact, as a long-running store would look before reads. */
    abstract void settle();

    abstract void closeStore();

    @Override
    public final void close() {
        try {
            closeStore();
        } finally {
            Dirs.deleteRecursively(dir);
        }
    }

    // ---------------------------------------------------------------------------------------------

    /** MmapStore's engine, {@link EngineConfig#defaults()} (fsync on) unless the row says otherwise. */
    static final class Mmap extends BenchStore {
        private final StoreEngine engine;

        Mmap(Path dir, EngineConfig config) {
            super(dir);
            this.engine = StoreEngine.open(dir, config);
        }

        @Override
        void put(byte[] key, byte[] value) {
            engine.put(key, value);
        }

        @Override
        byte[] get(byte[] key) {
            return engine.get(key);
        }

        @Override
        int scan(byte[] from, byte[] to, Blackhole bh) {
            int n = 0;
            try (EngineIterator it = engine.range(from, to)) {
                while (it.hasNext()) {
                    KeyValue kv = it.next();
                    bh.consume(kv.key());
                    bh.consume(kv.value());
                    n++;
                }
            }
            return n;
        }

        @Override
        void commit(long offset) {
            // Same information Kafka's store records at commit: the input offset (8 bytes).
            engine.commit(ByteBuffer.allocate(8).putLong(offset).array());
        }

        @Override
        void settle() {
            commit(0);
            engine.flush();
            commit(0); // the flushed segment joins the manifest; compactFully merges committed segments
            engine.compactFully();
        }

        @Override
        void closeStore() {
            engine.close();
        }
    }

    /**
     * Kafka Streams' own RocksDB key-value store ({@code Stores.persistentKeyValueStore(name).get()}),
     * initialised through kafka-streams-test-utils' MockProcessorContext with Kafka's default
     * RocksDB settings (no RocksDBConfigSetter).
     */
    static final class Rocks extends BenchStore {
        static final TopicPartition TP = new TopicPartition("bench-input", 0);
        private final KeyValueStore<Bytes, byte[]> store;

        Rocks(Path dir) {
            super(dir);
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "mmapstore-bench");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
            props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
            MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
            store = Stores.persistentKeyValueStore("bench").get();
            store.init(ctx.getStateStoreContext(), store);
        }

        @Override
        void put(byte[] key, byte[] value) {
            store.put(Bytes.wrap(key), value);
        }

        @Override
        byte[] get(byte[] key) {
            return store.get(Bytes.wrap(key));
        }

        @Override
        int scan(byte[] from, byte[] to, Blackhole bh) {
            int n = 0;
            try (KeyValueIterator<Bytes, byte[]> it = store.range(Bytes.wrap(from), Bytes.wrap(to))) {
                while (it.hasNext()) {
                    org.apache.kafka.streams.KeyValue<Bytes, byte[]> kv = it.next();
                    bh.consume(kv.key);
                    bh.consume(kv.value);
                    n++;
                }
            }
            return n;
        }

        @Override
        void commit(long offset) {
            store.commit(Map.of(TP, offset));
        }

        @Override
        void settle() {
            commit(0);
            // Kafka's store exposes no flush/compact; reach the RocksDB handle (package-private field).
            try {
                Field f = store.getClass().getDeclaredField("db");
                f.setAccessible(true);
                RocksDB db = (RocksDB) f.get(store);
                try (FlushOptions fo = new FlushOptions().setWaitForFlush(true)) {
                    db.flush(fo);
                }
                db.compactRange();
            } catch (ReflectiveOperationException | org.rocksdb.RocksDBException e) {
                throw new IllegalStateException("cannot flush/compact Kafka's RocksDB store", e);
            }
        }

        @Override
        void closeStore() {
            store.close();
        }
    }
}
