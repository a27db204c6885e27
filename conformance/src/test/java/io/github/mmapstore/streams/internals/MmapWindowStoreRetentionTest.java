package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.streams.MmapStores;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.metrics.Metrics;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.common.utils.LogContext;
import org.apache.kafka.streams.state.WindowStore;
import org.apache.kafka.streams.state.internals.ThreadCache;
import org.apache.kafka.test.InternalMockProcessorContext;
import org.apache.kafka.test.MockRecordCollector;
import org.apache.kafka.streams.processor.internals.MockStreamsMetrics;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Retention drops whole time segments: the segment files of expired segments leave the readers' view at
 * once and are deleted by the next commit, and the disk space comes back; data of live segments stays.
 */
class MmapWindowStoreRetentionTest {
    private static final long RETENTION = 120_000L; // segment interval = max(retention / 2, 60 s) = 60 s
    private static final long SEGMENT = 60_000L;
    private static final TopicPartition TP = new TopicPartition("w-changelog", 0);

    @TempDir
    Path stateDir;

    @Test
    void expiredSegmentsAreDroppedAndTheirFilesDeletedAtTheNextCommit() {
        InternalMockProcessorContext<?, ?> context = new InternalMockProcessorContext<>(stateDir.toFile(), Serdes.String(), Serdes.String(),
                new MockRecordCollector(), new ThreadCache(new LogContext("test"), 0, new MockStreamsMetrics(new Metrics())));
        context.setTime(0L);
        MmapWindowStore store = (MmapWindowStore) MmapStores.persistentWindowStore("w", Duration.ofMillis(RETENTION),
                Duration.ofMillis(1000), false).get();
        store.init(context, store);
        Path dir = StoreCore.storeDirectory(context, "w").toPath();
        byte[] value = new byte[1024];

        // three segments, about 400 KiB each, each flushed to its own file and committed
        long offset = 0;
        for (long segment = 0; segment < 3; segment++) {
            for (int i = 0; i < 400; i++) {
                store.put(Bytes.wrap(("key-" + i).getBytes()), value, segment * SEGMENT + i);
            }
            store.bytesStore().core().engine().flush();
            store.commit(Map.of(TP, offset += 400));
        }
        assertThat(store.bytesStore().segmentIds()).containsExactly(0L, 1L, 2L);
        List<Path> before = segmentFiles(dir);
        assertThat(before).hasSizeGreaterThanOrEqualTo(3);
        long bytesBefore = size(dir);

        // stream time 4 min: segments below segmentId(240000 - 120000) = 2 expire
        store.put(Bytes.wrap("late".getBytes()), value, 4 * SEGMENT);
        assertThat(store.bytesStore().segmentIds()).containsExactly(2L, 4L);
        try (var it = store.fetchAll(0, Long.MAX_VALUE)) {
            it.forEachRemaining(kv -> assertThat(kv.key.window().start()).isGreaterThanOrEqualTo(2 * SEGMENT));
        }
        // the drop is durable only with the next commit: until then the files stay
        assertThat(segmentFiles(dir)).containsAll(before);

        store.commit(Map.of(TP, offset + 1));
        store.bytesStore().core().engine().awaitDurable(); // files go once the manifest without them is on disk
        List<Path> after = segmentFiles(dir);
        assertThat(after).hasSizeLessThan(before.size());
        long bytesAfter = size(dir);
        assertThat(bytesAfter).as("bytes on disk after the commit").isLessThan(bytesBefore - 600 * 1024);
        assertThat(store.fetch(Bytes.wrap("key-1".getBytes()), 0L)).isNull();
        assertThat(store.fetch(Bytes.wrap("key-1".getBytes()), 2 * SEGMENT + 1)).isEqualTo(value);

        // reopen: live segments are rebuilt from the engine; the expired ones stay gone
        store.close();
        MmapWindowStore reopened = (MmapWindowStore) MmapStores.persistentWindowStore("w", Duration.ofMillis(RETENTION),
                Duration.ofMillis(1000), false).get();
        reopened.init(context, reopened);
        assertThat(reopened.bytesStore().segmentIds()).containsExactly(2L, 4L);
        assertThat(reopened.committedOffset(TP)).isEqualTo(offset + 1);
        assertThat(reopened.fetch(Bytes.wrap("key-399".getBytes()), 2 * SEGMENT + 399)).isEqualTo(value);
        assertThat(reopened.fetch(Bytes.wrap("late".getBytes()), 4 * SEGMENT)).isEqualTo(value);
        reopened.close();
    }

    @Test
    void lateRecordsBeyondRetentionAreDroppedAndCounted() {
        InternalMockProcessorContext<?, ?> context = new InternalMockProcessorContext<>(stateDir.toFile(), Serdes.String(), Serdes.String(),
                new MockRecordCollector(), new ThreadCache(new LogContext("test"), 0, new MockStreamsMetrics(new Metrics())));
        context.setTime(0L);
        WindowStore<Bytes, byte[]> store = MmapStores.persistentWindowStore("w", Duration.ofMillis(RETENTION),
                Duration.ofMillis(1000), false).get();
        store.init(context, store);
        store.put(Bytes.wrap("a".getBytes()), "1".getBytes(), 10 * SEGMENT);
        store.put(Bytes.wrap("a".getBytes()), "2".getBytes(), 0L); // segment 0 < segmentId(600000 - 120000) = 8
        assertThat(store.fetch(Bytes.wrap("a".getBytes()), 0L)).isNull();
        Object total = context.metrics().metrics().entrySet().stream()
                .filter(e -> e.getKey().name().equals("dropped-records-total"))
                .map(e -> e.getValue().metricValue()).findFirst().orElse(null);
        assertThat(total).isEqualTo(1.0);
        store.close();
    }

    private static List<Path> segmentFiles(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(".seg")).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static long size(Path dir) {
        try (Stream<Path> s = Files.walk(dir)) {
            return s.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
