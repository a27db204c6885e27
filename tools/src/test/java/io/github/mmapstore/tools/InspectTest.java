package io.github.mmapstore.tools;

import static io.github.mmapstore.tools.TestStores.b;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.streams.internals.CommitMetadata;
import io.github.mmapstore.vector.EmbeddingFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.query.Position;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class InspectTest {
    @TempDir
    Path tmp;

    static String key(int i) {
        return String.format("k%03d", i);
    }

    static byte[] value(String tag, int i) {
        return b(tag + "-" + i + "-" + "x".repeat(90));
    }

    static byte[] meta(long changelogOffset, long inputOffset) {
        Map<String, Map<Integer, Long>> pos = new HashMap<>();
        pos.put("input", Map.of(0, inputOffset, 1, inputOffset + 1));
        return new CommitMetadata(Map.of(new TopicPartition("app-1-counts-changelog", 0), changelogOffset,
                new TopicPartition("app-1-counts-changelog", 3), changelogOffset + 7), Position.fromMap(pos)).encode();
    }

    /**
     * Two segments and a committed log tail, with overwrites and deletes across them, plus an uncommitted
     * write that reached the log file (a value larger than the log buffer goes straight to the file)
     * before a crash. Returns the model of the committed contents.
     */
    static TreeMap<byte[], byte[]> build(Path dir) {
        TreeMap<byte[], byte[]> model = TestStores.model();
        StoreEngine e = TestStores.open(dir);
        for (int i = 0; i < 300; i++) {
            e.put(b(key(i)), value("v1", i));
            model.put(b(key(i)), value("v1", i));
        }
        e.commit(null);
        e.flush();
        e.commit(meta(100, 50));
        for (int i = 0; i < 100; i++) {
            e.put(b(key(i)), value("v2", i));
            model.put(b(key(i)), value("v2", i));
        }
        for (int i = 100; i < 150; i++) {
            e.delete(b(key(i)));
            model.remove(b(key(i)));
        }
        e.flush();
        e.commit(meta(200, 150));
        for (int i = 300; i < 310; i++) {
            e.put(b(key(i)), value("v3", i));
            model.put(b(key(i)), value("v3", i));
        }
        for (int i = 0; i < 5; i++) {
            e.delete(b(key(i)));
            model.remove(b(key(i)));
        }
        for (int i = 200; i < 210; i++) {
            e.put(b(key(i)), value("v3", i));
            model.put(b(key(i)), value("v3", i));
        }
        e.commit(meta(4242, 777));
        e.awaitDurable(); // the checkpoints' manifests are written in the background: a crash after they landed
        e.put(b("uncommitted"), new byte[EngineConfig.DEFAULT_LOG_BUFFER_BYTES + 1000]);
        e.abandon();
        return model;
    }

    @Test
    void figuresMatchWhatWasWritten() {
        Path dir = TestStores.storeDir(tmp, "app-1", "0_0", "counts");
        TreeMap<byte[], byte[]> model = build(dir);
        List<LocatedStore> stores = StoreLocator.find(tmp);
        assertThat(stores).hasSize(1);
        LocatedStore located = stores.get(0);
        assertThat(located.app()).isEqualTo("app-1");
        assertThat(located.task()).isEqualTo("0_0");
        assertThat(located.name()).isEqualTo("counts");

        StoreReport r = StoreInspector.inspect(located);
        assertThat(r.segments()).hasSize(2);
        StoreReport.SegmentRow newer = r.segments().get(0);
        StoreReport.SegmentRow older = r.segments().get(1);
        assertThat(older.rows()).isEqualTo(300);
        assertThat(older.tombstones()).isZero();
        // k150..k299 minus k200..k209 (newer in the log tail); k000..k149 are shadowed by the newer segment
        assertThat(older.liveRows()).isEqualTo(140);
        assertThat(newer.rows()).isEqualTo(150);
        assertThat(newer.tombstones()).isEqualTo(50);
        // k000..k099 minus k000..k004 (deleted in the log tail)
        assertThat(newer.liveRows()).isEqualTo(95);
        assertThat(new String(older.firstKey())).isEqualTo("k000");
        assertThat(new String(older.lastKey())).isEqualTo("k299");
        assertThat(r.logTailKeys()).isEqualTo(25);
        assertThat(r.logTailLiveRows()).isEqualTo(20);
        assertThat(r.liveRows()).isEqualTo(model.size()).isEqualTo(255);
        assertThat(r.rows()).isEqualTo(300 + 150 + 25);
        long liveBytes = model.entrySet().stream().mapToLong(en -> en.getKey().length + en.getValue().length).sum();
        assertThat(r.liveBytes()).isEqualTo(liveBytes);
        assertThat(r.partitioned()).isFalse();
        assertThat(r.embedding()).isNull();

        assertThat(r.logs()).hasSize(1);
        StoreReport.LogRow log = r.logs().get(0);
        assertThat(log.puts()).isEqualTo(21);
        assertThat(log.deletes()).isEqualTo(5);
        assertThat(log.commits()).as("the checkpointing commit and the last one").isEqualTo(2);
        assertThat(log.uncommittedBytes()).isGreaterThan(EngineConfig.DEFAULT_LOG_BUFFER_BYTES);
        assertThat(log.tornTail()).isFalse();
        assertThat(r.manifest().commitInLog()).isTrue();

        assertThat(r.commit().problem()).isNull();
        assertThat(r.commit().offsets()).containsExactly(
                new KafkaCommit.Offset("app-1-counts-changelog", 0, 4242),
                new KafkaCommit.Offset("app-1-counts-changelog", 3, 4249));
        assertThat(r.commit().position()).containsExactly(
                new KafkaCommit.Offset("input", 0, 777), new KafkaCommit.Offset("input", 1, 778));
        assertThat(r.diskBytes()).isGreaterThan(r.liveBytes());
        assertThat(r.spaceAmplification()).isEqualTo((double) r.diskBytes() / r.liveBytes());
        assertThat(r.quarantines()).isEmpty();
    }

    @Test
    void textAndJsonThroughTheCommandLine() throws IOException {
        Path dir = TestStores.storeDir(tmp, "app-1", "0_0", "counts");
        build(dir);
        Cli text = Cli.run("inspect", tmp.toString());
        assertThat(text.exit()).as(text.toString()).isZero();
        assertThat(text.out())
                .contains("found 1 store in " + tmp.toAbsolutePath())
                .contains("store app-1/0_0/mmapstore/counts  (app app-1, task 0_0, store counts)")
                .contains("format      manifest v2, segments v2, logs v1")
                .contains("offsets     app-1-counts-changelog-0=4242, app-1-counts-changelog-3=4249")
                .contains("position    input-0=777, input-1=778")
                .contains("live rows   255")
                .contains("quarantine  none");

        Cli json = Cli.run("inspect", "--json", dir.toString());
        assertThat(json.exit()).as(json.toString()).isZero();
        JsonNode root = new ObjectMapper().readTree(json.out());
        JsonNode store = root.get("stores").get(0);
        assertThat(store.get("label").asText()).isEqualTo(".");
        assertThat(store.get("store").asText()).isEqualTo("counts");
        assertThat(store.get("formatVersions").get("segment").asInt()).isEqualTo(2);
        assertThat(store.get("totals").get("liveRows").asLong()).isEqualTo(255);
        assertThat(store.get("totals").get("rows").asLong()).isEqualTo(475);
        assertThat(store.get("totals").get("spaceAmplification").asDouble()).isGreaterThan(1.0);
        assertThat(store.get("segments")).hasSize(2);
        assertThat(store.get("segments").get(1).get("liveRows").asLong()).isEqualTo(140);
        assertThat(store.get("segments").get(1).get("firstKey").get("utf8").asText()).isEqualTo("k000");
        assertThat(store.get("segments").get(1).get("firstKey").get("hex").asText()).isEqualTo("6b303030");
        assertThat(store.get("logs").get(0).get("commits").asLong()).isEqualTo(2);
        JsonNode offset = store.get("commitMetadata").get("offsets").get(0);
        assertThat(offset.get("topic").asText()).isEqualTo("app-1-counts-changelog");
        assertThat(offset.get("partition").asInt()).isZero();
        assertThat(offset.get("offset").asLong()).isEqualTo(4242);
        assertThat(store.get("commitMetadata").get("position").get(1).get("offset").asLong()).isEqualTo(778);
        assertThat(store.get("quarantines")).isEmpty();
        assertThat(store.get("corruptionMarker").isNull()).isTrue();
    }

    @Test
    void reportsQuarantineFoldersAndDamagedStoresWithExitOne() throws IOException {
        Path dir = TestStores.storeDir(tmp, "app-1", "0_0", "counts");
        build(dir);
        // An open after damage moves the damaged files aside.
        Path log = TestStores.files(dir, ".log").get(0);
        TestStores.flip(log, 30);
        try (StoreEngine e = TestStores.open(dir)) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isTrue();
        }
        Cli ok = Cli.run("inspect", dir.toString());
        assertThat(ok.exit()).as(ok.toString()).isZero();
        assertThat(ok.out()).containsPattern("quarantine  quarantine-\\d+");

        Path other = TestStores.storeDir(tmp, "app-1", "1_0", "counts");
        build(other);
        TestStores.flip(TestStores.files(other, ".seg").get(0), 10);
        Cli bad = Cli.run("inspect", tmp.toString());
        assertThat(bad.exit()).as(bad.toString()).isEqualTo(1);
        assertThat(bad.err()).contains("cannot read store app-1/1_0/mmapstore/counts").contains("mmapstore verify");
        assertThat(bad.out()).contains("found 2 stores");
    }

    @Test
    void embeddingStoresShowTheirColumnsAndWholeValues() {
        Path dir = tmp.resolve("emb");
        EngineConfig cfg = TestStores.config().withColumns(new EmbeddingFormat.Columns(5));
        TreeMap<byte[], byte[]> model = TestStores.model();
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (int i = 0; i < 40; i++) {
                byte[] v = EmbeddingFormat.encode(new float[] {i, 1, 2, 3, -i}, 0.5f, 1000 + i, b("meta" + i));
                e.put(b(key(i)), v);
                model.put(b(key(i)), v);
            }
            e.flush();
            e.commit(null);
        }
        StoreReport r = StoreInspector.inspect(StoreLocator.find(dir).get(0));
        assertThat(r.embedding()).isNotNull();
        assertThat(r.embedding().dimension()).isEqualTo(5);
        assertThat(r.segments().get(0).extraColumns()).extracting(StoreReport.Column::name)
                .containsExactly("vectors", "norms", "confidence", "timestamps");
        long liveBytes = model.entrySet().stream().mapToLong(en -> en.getKey().length + en.getValue().length).sum();
        assertThat(r.liveBytes()).isEqualTo(liveBytes);

        Cli dump = Cli.run("dump", "--format", "hex", dir.toString());
        assertThat(dump.exit()).as(dump.toString()).isZero();
        assertThat(dump.out()).isEqualTo(DumpTest.expected(model, ByteText.Format.HEX));
    }

    @Test
    void timestampedEmbeddingStoresAreRecognisedToo() {
        Path dir = tmp.resolve("temb");
        EngineConfig cfg = TestStores.config().withColumns(new EmbeddingFormat.Columns(3, 8));
        TreeMap<byte[], byte[]> model = TestStores.model();
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (int i = 0; i < 20; i++) {
                byte[] emb = EmbeddingFormat.encode(new float[] {i, -i, 0.5f}, 1f, i, new byte[0]);
                byte[] v = ByteBuffer.allocate(8 + emb.length).putLong(1_700_000_000_000L + i).put(emb).array();
                e.put(b(key(i)), v);
                model.put(b(key(i)), v);
            }
            e.flush();
            e.commit(null);
        }
        StoreReport r = StoreInspector.inspect(StoreLocator.find(dir).get(0));
        assertThat(r.embedding().dimension()).isEqualTo(3);
        assertThat(r.embedding().prefix()).isEqualTo(8);
        Cli dump = Cli.run("dump", "--format", "hex", dir.toString());
        assertThat(dump.out()).isEqualTo(DumpTest.expected(model, ByteText.Format.HEX));
        Cli text = Cli.run("inspect", dir.toString());
        assertThat(text.out()).contains("kind        embedding store, dimension 3, timestamped values");
    }

    @Test
    void timePartitionedStoresShowTheirTimeSegments() {
        Path dir = tmp.resolve("windows");
        try (StoreEngine e = StoreEngine.open(dir, TestStores.config().withPartitioned(true))) {
            for (long segmentId = 3; segmentId <= 5; segmentId++) {
                for (int i = 0; i < 10; i++) {
                    byte[] k = ByteBuffer.allocate(12).putLong(segmentId ^ Long.MIN_VALUE).putInt(i).array();
                    e.put(k, b("w" + segmentId + "-" + i));
                }
            }
            e.flush();
            e.commit(null);
            e.dropPartitionsBelow(4 ^ Long.MIN_VALUE);
            e.commit(null);
            e.put(ByteBuffer.allocate(12).putLong(5 ^ Long.MIN_VALUE).putInt(99).array(), b("late"));
            e.commit(null);
        }
        StoreReport r = StoreInspector.inspect(StoreLocator.find(dir).get(0));
        assertThat(r.partitioned()).isTrue();
        assertThat(r.segments()).extracting(StoreReport.SegmentRow::timeSegment).containsExactlyInAnyOrder(4L, 5L);
        assertThat(r.liveRows()).isEqualTo(21);
    }

    @Test
    void neverWritesToTheStore() throws IOException {
        Path dir = TestStores.storeDir(tmp, "app-1", "0_0", "counts");
        build(dir);
        Map<String, String> before = DirectoryImage.of(dir);
        assertThat(Cli.run("inspect", dir.toString()).exit()).isZero();
        assertThat(Cli.run("inspect", "--json", dir.toString()).exit()).isZero();
        assertThat(Cli.run("verify", dir.toString()).exit()).isZero();
        assertThat(Cli.run("dump", dir.toString()).exit()).isZero();
        assertThat(DirectoryImage.of(dir)).isEqualTo(before);
        assertThat(Files.exists(dir.resolve("LOCK"))).isTrue(); // the engine's, left from the build
    }
}
