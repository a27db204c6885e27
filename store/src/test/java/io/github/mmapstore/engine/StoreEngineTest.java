package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StoreEngineTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static String s(byte[] b) {
        return b == null ? null : new String(b, StandardCharsets.UTF_8);
    }

    static List<String> keys(EngineIterator it) {
        List<String> out = new ArrayList<>();
        try (it) {
            while (it.hasNext()) {
                out.add(s(it.next().key()));
            }
        }
        return out;
    }

    EngineConfig small() {
        return EngineConfig.defaults().withMemtableBytes(8192).withFsync(false);
    }

    @Test
    void putGetDeleteAcrossFlushAndReopen() {
        try (StoreEngine e = StoreEngine.open(dir, small())) {
            assertThat(e.openReport().created()).isTrue();
            for (int i = 0; i < 2000; i++) {
                e.put(b(String.format("k%05d", i)), b("v" + i));
            }
            e.delete(b("k00007"));
            e.put(b("k00008"), b("new"));
            assertThat(s(e.get(b("k00007")))).isNull();
            assertThat(s(e.get(b("k00008")))).isEqualTo("new");
            assertThat(s(e.get(b("k01999")))).isEqualTo("v1999");
            assertThat(e.stats().flushes()).isGreaterThan(1);
            e.commit(b("meta-1"));
        }
        try (StoreEngine e = StoreEngine.open(dir, small())) {
            assertThat(s(e.lastCommitMetadata())).isEqualTo("meta-1");
            assertThat(s(e.get(b("k00007")))).isNull();
            assertThat(s(e.get(b("k00008")))).isEqualTo("new");
            assertThat(s(e.get(b("k00000")))).isEqualTo("v0");
            assertThat(keys(e.all())).hasSize(1999);
            assertThat(keys(e.range(b("k00005"), b("k00010")))).containsExactly("k00005", "k00006", "k00008", "k00009", "k00010");
            assertThat(keys(e.reverseRange(b("k00005"), b("k00010")))).containsExactly("k00010", "k00009", "k00008", "k00006", "k00005");
            assertThat(keys(e.prefixScan(b("k0199"), false))).hasSize(10);
            while (e.compact(Long.MAX_VALUE)) {
                // until nothing is left to merge
            }
            e.compactFully();
            assertThat(e.stats().segments()).isEqualTo(1);
            assertThat(keys(e.all())).hasSize(1999);
            assertThat(e.approximateNumEntries()).isBetween(1999L, 2001L);
        }
    }

    @Test
    void uncommittedWritesAreGoneAfterCrash() {
        StoreEngine e = StoreEngine.open(dir, small());
        e.put(b("a"), b("1"));
        e.commit(b("c1"));
        e.put(b("b"), b("2"));
        for (int i = 0; i < 1000; i++) {
            e.put(b("x" + i), b("y"));
        }
        e.abandon();
        try (StoreEngine r = StoreEngine.open(dir, small())) {
            assertThat(s(r.lastCommitMetadata())).isEqualTo("c1");
            assertThat(keys(r.all())).containsExactly("a");
        }
    }

    @Test
    void lockAndLimits() {
        try (StoreEngine e = StoreEngine.open(dir, small().withMaxKeyBytes(4).withMaxValueBytes(4))) {
            assertThatThrownBy(() -> StoreEngine.open(dir, small())).isInstanceOf(StoreLockedException.class);
            assertThatThrownBy(() -> e.put(b("12345"), b("1"))).isInstanceOf(LimitExceededException.class);
            assertThatThrownBy(() -> e.put(b("1"), b("12345"))).isInstanceOf(LimitExceededException.class);
            assertThatThrownBy(() -> e.put(null, b("1"))).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void modelCheckSmall() throws Exception {
        TreeMap<String, String> model = new TreeMap<>();
        java.util.Random rnd = new java.util.Random(42);
        StoreEngine e = StoreEngine.open(dir, small().withCompactionTrigger(3));
        for (int i = 0; i < 20000; i++) {
            String k = "k" + rnd.nextInt(500);
            if (rnd.nextInt(5) == 0) {
                e.delete(b(k));
                model.remove(k);
            } else {
                String v = "v" + i;
                e.put(b(k), b(v));
                model.put(k, v);
            }
            if (i % 1000 == 999) {
                e.commit(null);
                e.compact(1_000_000);
            }
        }
        e.commit(null);
        assertThat(keys(e.all())).containsExactlyElementsOf(model.keySet());
        e.compactFully();
        assertThat(e.stats().segments()).isEqualTo(1);
        e.close();
        try (StoreEngine r = StoreEngine.open(dir, small())) {
            assertThat(keys(r.all())).containsExactlyElementsOf(model.keySet());
            for (var en : model.entrySet()) {
                assertThat(s(r.get(b(en.getKey())))).isEqualTo(en.getValue());
            }
        }
        try (var l = Files.list(dir)) { assertThat(l.map(p -> p.getFileName().toString()).toList()).hasSizeLessThan(20); }
    }

    @Test
    void manyFlushesWithoutCommitStayBoundedAndCrashForgetsThem() {
        EngineConfig cfg = small().withCompactionTrigger(3);
        StoreEngine e = StoreEngine.open(dir, cfg);
        e.put(b("committed"), b("yes"));
        e.commit(b("c1"));
        int most = 0;
        for (int i = 0; i < 20000; i++) {
            e.put(b(String.format("u%06d", i % 3000)), b("v" + i));
            most = Math.max(most, e.stats().segments());
        }
        assertThat(e.stats().flushes()).isGreaterThan(100);
        // merges of the pending segments keep their count a saw tooth under a small bound, however many flushes
        assertThat(most).isLessThanOrEqualTo(4 * 3);
        assertThat(s(e.get(b("u000001")))).isEqualTo("v18001");
        assertThat(keys(e.all())).hasSize(3001);
        e.abandon();
        try (StoreEngine r = StoreEngine.open(dir, cfg)) {
            assertThat(keys(r.all())).containsExactly("committed");
            for (int i = 0; i < 20000; i++) {
                r.put(b(String.format("u%06d", i % 3000)), b("v" + i));
            }
            r.commit(b("c2"));
        }
        try (StoreEngine r = StoreEngine.open(dir, cfg)) {
            assertThat(s(r.lastCommitMetadata())).isEqualTo("c2");
            assertThat(keys(r.all())).hasSize(3001);
            assertThat(s(r.get(b("u002999")))).isEqualTo("v17999");
        }
    }

    static byte[] pk(long partition, String rest) {
        byte[] r = b(rest);
        byte[] k = new byte[8 + r.length];
        java.nio.ByteBuffer.wrap(k).putLong(partition).put(r);
        return k;
    }

    @Test
    void partitionedEngineDropsWholeFilesAndTheDropIsCommittedAtomically() throws Exception {
        EngineConfig cfg = small().withPartitioned(true);
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            assertThatThrownBy(() -> e.put(b("short"), b("x"))).isInstanceOf(IllegalArgumentException.class);
            for (long p = 1; p <= 5; p++) {
                for (int i = 0; i < 200; i++) {
                    e.put(pk(p, "k" + i), b("p" + p + "v" + i));
                }
            }
            e.commit(b("c1"));
            e.awaitFlushForTesting(); // a flush still in flight has written a file the version lacks
            long segsBefore = e.stats().segments();
            assertThat(segsBefore).isGreaterThan(5);
            try (var files = Files.list(dir)) {
                assertThat(files.filter(f -> f.toString().endsWith(".seg")).count()).isEqualTo(segsBefore);
            }
            // A range inside partition 3 touches only partition 3's segments.
            assertThat(keys(e.range(pk(3, ""), pk(3, "\uffff")))).hasSize(200);
            e.dropPartitionsBelow(3);
            assertThat(e.get(pk(2, "k1"))).isNull();
            assertThat(s(e.get(pk(3, "k1")))).isEqualTo("p3v1");
            assertThat(keys(e.all())).hasSize(600);
            e.abandon();
        }
        // The drop was not committed: after a crash partitions 1 and 2 are back.
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            assertThat(keys(e.all())).hasSize(1000);
            e.dropPartitionsBelow(3);
            e.put(pk(6, "new"), b("six"));
            e.commit(b("c2"));
            e.awaitBackgroundForTesting(); // the dropped files go once the manifest without them is on disk
            try (var files = Files.list(dir)) {
                // every segment of partitions 1 and 2 is gone from disk
                long left = files.filter(f -> f.toString().endsWith(".seg")).count();
                assertThat(left).isLessThan(e.stats().segments() + 1);
            }
        }
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            assertThat(keys(e.all())).hasSize(601);
            assertThat(e.get(pk(1, "k0"))).isNull();
            e.compactFully();
            assertThat(keys(e.all())).hasSize(601);
        }
    }

    /** Splits values "NNNNNNNN:rest" into an 8-byte column (aligned to 64) and the rest. */
    static class PrefixColumn implements ColumnExtension {
        @Override
        public java.util.List<Column> columns() {
            return java.util.List.of(new Column(100, 64, 64));
        }

        @Override
        public int storedLength(byte[] value) {
            return value.length - 8;
        }

        @Override
        public byte[] split(byte[] value, java.nio.ByteBuffer[] rowOut) {
            rowOut[0].put(value, 0, 8);
            return java.util.Arrays.copyOfRange(value, 8, value.length);
        }

        @Override
        public byte[] join(byte[] stored, java.lang.foreign.MemorySegment[] rowColumns) {
            byte[] out = new byte[8 + stored.length];
            java.lang.foreign.MemorySegment.copy(rowColumns[0], java.lang.foreign.ValueLayout.JAVA_BYTE, 0, out, 0, 8);
            System.arraycopy(stored, 0, out, 8, stored.length);
            return out;
        }
    }

    @Test
    void extensionColumnsRoundTripAndScanLiveSeesEachLiveKeyOnceInItsNewestVersion() {
        EngineConfig cfg = small().withColumns(new PrefixColumn());
        TreeMap<String, String> model = new TreeMap<>();
        java.util.Random rnd = new java.util.Random(7);
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (int i = 0; i < 3000; i++) {
                String k = String.format("k%04d", rnd.nextInt(700));
                if (rnd.nextInt(6) == 0) {
                    e.delete(b(k));
                    model.remove(k);
                } else {
                    String v = String.format("%08d", i) + ":payload-" + i;
                    e.put(b(k), b(v));
                    model.put(k, v);
                }
                if (i % 500 == 499) {
                    e.commit(null);
                }
            }
            assertThat(e.stats().segments()).isGreaterThan(1);
            java.util.Map<String, String> seen = new java.util.TreeMap<>();
            e.scanLive(new LiveRowVisitor() {
                @Override
                public void memtable(byte[] key, byte[] value) {
                    assertThat(seen.put(s(key), s(value))).isNull();
                }

                @Override
                public void segmentRows(SegmentRows seg, long from, long to) {
                    java.lang.foreign.MemorySegment col = seg.columnRows(100, from, to);
                    assertThat(col.address() % 64).isZero();
                    for (long r = from; r < to; r++) {
                        if (seg.isTombstone(r)) {
                            continue;
                        }
                        byte[] prefix = col.asSlice((r - from) * 64, 8).toArray(java.lang.foreign.ValueLayout.JAVA_BYTE);
                        String v = s(seg.value(r));
                        assertThat(v).startsWith(s(prefix));
                        assertThat(seen.put(s(seg.key(r)), v)).isNull();
                    }
                }
            });
            assertThat(seen).isEqualTo(model);
            e.commit(null);
            e.compactFully();
        }
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            for (var en : model.entrySet()) {
                assertThat(s(e.get(b(en.getKey())))).isEqualTo(en.getValue());
            }
            long[] rows = {0};
            e.scanLive(new LiveRowVisitor() {
                @Override
                public void memtable(byte[] key, byte[] value) {
                    rows[0]++;
                }

                @Override
                public void segmentRows(SegmentRows seg, long from, long to) {
                    for (long r = from; r < to; r++) {
                        if (!seg.isTombstone(r)) {
                            rows[0]++;
                        }
                    }
                }
            });
            assertThat(rows[0]).isEqualTo(model.size());
        }
        // A store kind that expects no extension column refuses these segments without changing them.
        assertThatThrownBy(() -> StoreEngine.open(dir, small().withColumns(new PrefixColumn() {
            @Override
            public java.util.List<Column> columns() {
                return java.util.List.of(new Column(101, 64, 64));
            }
        }))).isInstanceOf(IncompatibleFormatException.class);
    }

    @Test
    void compactionYieldsInEveryPhaseAndFinishesCorrectly() {
        EngineConfig cfg = small().withMemtableBytes(1 << 20).withCompactionTrigger(2);
        try (StoreEngine e = StoreEngine.open(dir, cfg)) {
            byte[] value = new byte[200];
            for (int i = 0; i < 40000; i++) {
                // scattered order: the flushed segments overlap (sequential ones would form one sorted run)
                e.put(b(String.format("k%06d", (i * 7919) % 40000)), value);
                if (i % 10000 == 9999) {
                    e.flush();
                    e.commit(null);
                }
            }
            assertThat(e.stats().segments()).isGreaterThanOrEqualTo(4);
            int calls = 0;
            while (e.compact(0)) {
                calls++;
                assertThat(calls).isLessThan(100000);
            }
            // sizing, writing, sealing and verifying of megabytes of rows cannot fit in a few zero-budget steps
            assertThat(calls).isGreaterThan(20);
            assertThat(e.stats().segments()).isLessThan(4);
            assertThat(keys(e.all())).hasSize(40000);
        }
    }

    private java.util.List<Path> logFiles() throws Exception {
        try (var l = Files.list(dir)) {
            return l.filter(f -> f.toString().endsWith(".log")).sorted().toList();
        }
    }

    @Test
    void logsRotatedAfterTheLastCommitMayBeTornWithoutCountingAsCorruption() throws Exception {
        EngineConfig cfg = small().withMemtableBytes(4096);
        StoreEngine e = StoreEngine.open(dir, cfg);
        e.put(b("kept"), b("1"));
        e.commit(b("c1"));
        for (int i = 0; i < 300; i++) {
            e.put(b(String.format("u%04d", i)), new byte[64]);
        }
        e.abandon();
        java.util.List<Path> logs = logFiles();
        assertThat(logs.size()).isGreaterThanOrEqualTo(3);
        // A power loss can leave a log rotated after the last commit without its header.
        try (var ch = java.nio.channels.FileChannel.open(logs.get(logs.size() - 2), java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(10);
        }
        try (StoreEngine r = StoreEngine.open(dir, cfg)) {
            assertThat(r.openReport().rebuiltAfterCorruption()).isFalse();
            assertThat(s(r.lastCommitMetadata())).isEqualTo("c1");
            assertThat(keys(r.all())).containsExactly("kept");
        }
    }

    @Test
    void aTornLogFollowedByACommitIsCorruption() throws Exception {
        boolean[] armed = {false};
        EngineConfig cfg = small().withMemtableBytes(4096).withFaults(point -> {
            if (armed[0] && point == FaultInjector.Point.COMMIT_AFTER_FSYNC) {
                throw new IllegalStateException("crash after the commit reached the log, before the checkpoint");
            }
        });
        StoreEngine e = StoreEngine.open(dir, cfg);
        e.put(b("first"), b("1"));
        e.commit(b("c1"));
        for (int i = 0; i < 300; i++) {
            e.put(b(String.format("u%04d", i)), new byte[64]);
        }
        armed[0] = true;
        assertThatThrownBy(() -> e.commit(b("c2"))).isInstanceOf(IllegalStateException.class);
        e.abandon();
        java.util.List<Path> logs = logFiles();
        assertThat(logs.size()).isGreaterThanOrEqualTo(2);
        try (var ch = java.nio.channels.FileChannel.open(logs.get(0), java.nio.file.StandardOpenOption.WRITE)) {
            ch.truncate(ch.size() - 5);
        }
        try (StoreEngine r = StoreEngine.open(dir, small())) {
            assertThat(r.openReport().rebuiltAfterCorruption()).isTrue();
            assertThat(r.lastCommitMetadata()).isNull();
        }
    }
}
