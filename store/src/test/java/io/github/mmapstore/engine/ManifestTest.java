package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Manifest encoding and atomic replacement, and refusal of unknown format versions. */
class ManifestTest {
    @TempDir
    Path dir;

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static void assertSame(Manifest actual, Manifest expected) {
        assertThat(actual.nextFileNumber()).isEqualTo(expected.nextFileNumber());
        assertThat(actual.lastSeq()).isEqualTo(expected.lastSeq());
        assertThat(actual.logStart()).isEqualTo(expected.logStart());
        assertThat(actual.segments()).isEqualTo(expected.segments());
        assertThat(actual.metadata()).isEqualTo(expected.metadata());
    }

    @Test
    void encodeDecodeRoundTrip() {
        List<Manifest.SegmentRef> refs = List.of(new Manifest.SegmentRef(17, 123_456, 99),
                new Manifest.SegmentRef(5, Long.MAX_VALUE, 0), new Manifest.SegmentRef(3, 64, 1));
        for (byte[] meta : new byte[][] {null, new byte[0], b("offsets"), new byte[70_000]}) {
            Manifest m = new Manifest(42, Long.MAX_VALUE - 1, 9, 77, refs, meta);
            Manifest back = Manifest.decode(dir.resolve("M"), m.encode());
            assertSame(back, m);
        }
        Manifest empty = new Manifest(2, 0, 1, 0, List.of(), null);
        assertSame(Manifest.decode(dir.resolve("M"), empty.encode()), empty);
    }

    @Test
    void writeReadRoundTripReplacesAtomically() throws IOException {
        assertThat(Manifest.read(dir)).as("no manifest yet").isNull();
        Manifest m1 = new Manifest(10, 100, 3, 120, List.of(new Manifest.SegmentRef(4, 1000, 10)), b("one"));
        m1.write(dir, false, FaultInjector.NONE);
        assertSame(Manifest.read(dir), m1);
        Manifest m2 = new Manifest(11, 200, 5, 0, List.of(), null);
        // A crash between writing the temporary file and the rename leaves the old manifest in force.
        assertThatThrownBy(() -> m2.write(dir, false, p -> {
            if (p == FaultInjector.Point.MANIFEST_AFTER_TEMP_WRITTEN) {
                throw new IllegalStateException("crash");
            }
        })).hasMessage("crash");
        assertSame(Manifest.read(dir), m1);
        m2.write(dir, true, FaultInjector.NONE);
        assertSame(Manifest.read(dir), m2);
        assertThat(Files.exists(dir.resolve(FileNames.MANIFEST_TEMP))).isFalse();
    }

    @Test
    void damagedManifestIsCorruptionNotIncompatible() throws IOException {
        byte[] bytes = new Manifest(10, 100, 3, 64, List.of(), b("x")).encode();
        for (int pos = 0; pos < bytes.length; pos++) {
            byte[] d = bytes.clone();
            d[pos] ^= 1;
            int p = pos;
            assertThatThrownBy(() -> Manifest.decode(dir.resolve("M"), d)).as("byte %d", p)
                    .isInstanceOf(CorruptionException.class);
        }
        assertThatThrownBy(() -> Manifest.decode(dir.resolve("M"), new byte[10])).isInstanceOf(CorruptionException.class);
    }

    /** Sets the manifest's format version and recomputes its header checksum, as a newer release would write. */
    static byte[] withVersion(byte[] manifest, int version) {
        byte[] out = manifest.clone();
        ByteBuffer bb = ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN);
        bb.putInt(8, version);
        bb.putInt(16, Checksums.crc(out, 0, 16));
        return out;
    }

    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                files.put(p.getFileName().toString(), Files.isDirectory(p) ? new byte[] {'D'} : Files.readAllBytes(p));
            }
        }
        return files;
    }

    static void assertUnchanged(Map<String, byte[]> before, Map<String, byte[]> after) {
        assertThat(after.keySet()).isEqualTo(before.keySet());
        for (String n : before.keySet()) {
            assertThat(after.get(n)).as("file %s unchanged", n).isEqualTo(before.get(n));
        }
    }

    EngineConfig config() {
        return EngineConfig.defaults().withFsync(false).withMemtableBytes(4096);
    }

    void buildStore() {
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            for (int i = 0; i < 300; i++) {
                e.put(b("k" + i), b("v" + i));
            }
            e.commit(b("meta"));
            e.put(b("tail"), b("in the log only"));
            e.commit(b("meta2"));
            assertThat(e.stats().segments()).isPositive();
        }
    }

    void assertStoreIntact() {
        try (StoreEngine e = StoreEngine.open(dir, config())) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isFalse();
            assertThat(e.lastCommitMetadata()).isEqualTo(b("meta2"));
            assertThat(e.get(b("k7"))).isEqualTo(b("v7"));
            assertThat(e.get(b("tail"))).isEqualTo(b("in the log only"));
            assertThat(EngineModelProperties.drain(e.all())).hasSize(301);
        }
    }

    @Test
    void unknownManifestVersionIsRefusedAndChangesNothing() throws IOException {
        buildStore();
        Path mf = dir.resolve(FileNames.MANIFEST);
        byte[] original = Files.readAllBytes(mf);
        assertThatThrownBy(() -> Manifest.decode(mf, withVersion(original, Manifest.FORMAT_VERSION + 7))).isInstanceOf(IncompatibleFormatException.class);
        Files.write(mf, withVersion(original, Manifest.FORMAT_VERSION + 1));
        Map<String, byte[]> before = snapshot(dir);

        assertThatThrownBy(() -> StoreEngine.open(dir, config())).isInstanceOf(IncompatibleFormatException.class)
                .hasMessageContaining("version");
        assertUnchanged(before, snapshot(dir));
        // Refused again, still nothing changed (no quarantine, no corruption marker, lock released).
        assertThatThrownBy(() -> StoreEngine.open(dir, config())).isInstanceOf(IncompatibleFormatException.class);
        assertUnchanged(before, snapshot(dir));

        Files.write(mf, original);
        assertStoreIntact();
    }

    @Test
    void unknownSegmentVersionIsRefusedAndChangesNothing() throws IOException {
        buildStore();
        Path seg;
        try (Stream<Path> s = Files.list(dir)) {
            seg = s.filter(p -> p.toString().endsWith(FileNames.SEGMENT_SUFFIX)).findFirst().orElseThrow();
        }
        byte[] original = Files.readAllBytes(seg);
        byte[] newer = original.clone();
        ByteBuffer bb = ByteBuffer.wrap(newer).order(ByteOrder.LITTLE_ENDIAN);
        int t = newer.length - SegmentFormat.TRAILER_BYTES;
        bb.putInt(t + 16, SegmentFormat.VERSION + 1);
        bb.putInt(t + 20, Checksums.crc(newer, t, 20));
        Files.write(seg, newer);
        Map<String, byte[]> before = snapshot(dir);
        assertThatThrownBy(() -> StoreEngine.open(dir, config())).isInstanceOf(IncompatibleFormatException.class);
        assertUnchanged(before, snapshot(dir));
        Files.write(seg, original);
        assertStoreIntact();
    }
}
