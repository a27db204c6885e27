package io.github.mmapstore.streams;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueIterator;

/**
 * What the isolation, crash and IQv2 tests share: stores initialised against kafka-streams-test-utils'
 * {@link MockProcessorContext} (whose state store context names a changelog for every store, so the stores
 * keep no log of their own unless {@code mmapstore.log=true}), byte helpers, and a copy of a live store
 * directory that a crash would leave. Public API only: suppliers from {@link MmapStores}, Kafka's store
 * interfaces and builders.
 */
final class IsolationFixture implements AutoCloseable {
    static final TopicPartition CHANGELOG = new TopicPartition("changelog", 0);
    static final String TRANSACTIONAL = "enable.transactional.statestores";

    final Path stateDir;
    final MockProcessorContext<Object, Object> context;
    private final List<StateStore> stores = new ArrayList<>();

    IsolationFixture(Path stateDir, Map<String, ?> extra) {
        this(stateDir, StreamsConfig.AT_LEAST_ONCE, extra);
    }

    IsolationFixture(Path stateDir, String guarantee, Map<String, ?> extra) {
        this.stateDir = stateDir;
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "iso");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, guarantee);
        props.put("mmapstore.fsync", "false");
        props.putAll(extra);
        this.context = new MockProcessorContext<>(props, new TaskId(0, 0), stateDir.toFile());
        context.setRecordMetadata("input", 0, 0);
    }

    /** Initialises {@code store} (its own root) against the mock context; closed by {@link #close()}. */
    <S extends StateStore> S init(S store) {
        store.init(context.getStateStoreContext(), store);
        stores.add(store);
        return store;
    }

    /** Sets the offset of the record "being processed": the IQ position of the next write. */
    void offset(long offset) {
        context.setRecordMetadata("input", 0, offset);
    }

    /** Where MmapStore keeps store {@code name} below this state directory. */
    Path storeDir(String name) {
        return stateDir.resolve("mmapstore").resolve(name);
    }

    @Override
    public void close() {
        for (StateStore s : stores) {
            try {
                if (s.isOpen()) {
                    s.close();
                }
            } catch (RuntimeException ignored) {
                // a store a test abandoned
            }
        }
        stores.clear();
    }

    // ---- bytes --------------------------------------------------------------------------------

    static Bytes k(String s) {
        return Bytes.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] v(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String str(byte[] b) {
        return b == null ? "null" : new String(b, StandardCharsets.UTF_8);
    }

    static String hex(byte[] b) {
        return b == null ? "null" : HexFormat.of().formatHex(b);
    }

    static byte[] longBytes(long v) {
        return ByteBuffer.allocate(8).putLong(v).array();
    }

    /** Drains a key-value iterator into "key=value" strings (values hex), closing it. */
    static List<String> drain(KeyValueIterator<Bytes, byte[]> it) {
        List<String> out = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                KeyValue<Bytes, byte[]> kv = it.next();
                out.add(str(kv.key.get()) + "=" + hex(kv.value));
            }
        }
        return out;
    }

    /** Drains a windowed iterator into "key@start-end=value" strings, closing it. */
    static List<String> drainWindowed(KeyValueIterator<Windowed<Bytes>, byte[]> it) {
        List<String> out = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                KeyValue<Windowed<Bytes>, byte[]> kv = it.next();
                out.add(str(kv.key.key().get()) + "@" + kv.key.window().start() + "-" + kv.key.window().end() + "=" + hex(kv.value));
            }
        }
        return out;
    }

    // ---- crash copies ---------------------------------------------------------------------------

    /**
     * Copies the directory of a store that is still open, as a crash would leave it: what is on disk now,
     * without the lock. Background checkpoint writes may be under way, so the copy is repeated until the
     * manifest is the same before and after it (a consistent picture of one durable checkpoint).
     */
    static void copyLive(Path from, Path to) {
        for (int attempt = 0; attempt < 100; attempt++) {
            try {
                deleteTree(to);
                Files.createDirectories(to);
                byte[] before = readIfExists(from.resolve("MANIFEST"));
                List<Path> files;
                try (Stream<Path> s = Files.list(from)) {
                    files = s.filter(Files::isRegularFile).toList();
                }
                for (Path f : files) {
                    String n = f.getFileName().toString();
                    if (n.equals("LOCK")) {
                        continue;
                    }
                    Files.copy(f, to.resolve(n), StandardCopyOption.REPLACE_EXISTING);
                }
                byte[] after = readIfExists(from.resolve("MANIFEST"));
                if (Arrays.equals(before, after)) {
                    return;
                }
            } catch (NoSuchFileException raced) {
                // a file went while we copied (replaced by a newer checkpoint): again
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            try {
                Thread.sleep(5);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
        throw new IllegalStateException("no stable copy of " + from);
    }

    private static byte[] readIfExists(Path p) throws IOException {
        try {
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    static void deleteTree(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            for (Path q : s.sorted((a, b) -> b.getNameCount() - a.getNameCount()).toList()) {
                Files.deleteIfExists(q);
            }
        }
    }
}
