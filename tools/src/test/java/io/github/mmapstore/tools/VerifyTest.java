package io.github.mmapstore.tools;

import static io.github.mmapstore.tools.TestStores.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.engine.StoreEngine;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32C;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class VerifyTest {
    @TempDir
    Path tmp;

    Path dir;

    /** Two segments (the older one over 30 KB: several pages) and a committed log tail, closed cleanly. */
    @BeforeEach
    void build() {
        dir = TestStores.storeDir(tmp, "app", "0_0", "store");
        try (StoreEngine e = TestStores.open(dir)) {
            for (int i = 0; i < 300; i++) {
                e.put(b(InspectTest.key(i)), InspectTest.value("v1", i));
            }
            e.flush();
            e.commit(b("m1"));
            for (int i = 0; i < 50; i++) {
                e.delete(b(InspectTest.key(i)));
            }
            e.flush();
            e.commit(b("m2"));
            for (int i = 300; i < 320; i++) {
                e.put(b(InspectTest.key(i)), InspectTest.value("v3", i));
            }
            e.commit(b("m3"));
        }
    }

    Path olderSegment() throws IOException {
        return TestStores.files(dir, ".seg").get(0);
    }

    Path newerSegment() throws IOException {
        return TestStores.files(dir, ".seg").get(1);
    }

    Path log() throws IOException {
        List<Path> logs = TestStores.files(dir, ".log");
        assertThat(logs).hasSize(1);
        return logs.get(0);
    }

    @Test
    void cleanStoreExitsZero() {
        Cli r = Cli.run("verify", tmp.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("found 1 store").contains("ok       app/0_0/mmapstore/store  (2 segment files, 1 log files")
                .contains("0 of 1 stores damaged").doesNotContain("DAMAGE");
    }

    @Test
    void flippedSegmentPageIsDamageAtThatPage() throws IOException {
        Path seg = olderSegment();
        assertThat(Files.size(seg)).isGreaterThan(3 * 4096);
        TestStores.flip(seg, 5000);
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("DAMAGED  .")
                .contains("DAMAGE      " + seg + " at byte offset 4096: page 1 checksum mismatch")
                .contains("1 of 1 stores damaged");
    }

    @Test
    void flippedLogRecordIsDamageAtThatFrame() throws IOException {
        Path log = log();
        TestStores.flip(log, 24 + 13 + 3); // inside the first frame's payload
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("DAMAGE      " + log + " at byte offset 24: log record checksum mismatch");
    }

    @Test
    void flippedManifestIsDamage() throws IOException {
        Path manifest = dir.resolve("MANIFEST");
        TestStores.flip(manifest, 40);
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("DAMAGE      " + manifest + " at byte offset 24: manifest body checksum mismatch");
        // Without a manifest to say which files are live, every file is still checked.
        assertThat(r.out()).contains("(2 segment files, 1 log files");
    }

    @Test
    void truncatedSegmentIsDamage() throws IOException {
        Path seg = newerSegment();
        long size = Files.size(seg);
        try (FileChannel ch = FileChannel.open(seg, StandardOpenOption.WRITE)) {
            ch.truncate(size - 100);
        }
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out())
                .contains("DAMAGE      " + seg + " at byte offset " + (size - 100) + ": segment has " + (size - 100)
                        + " bytes, the manifest says " + size)
                .contains("DAMAGE      " + seg + " at byte offset " + (size - 100 - 32) + ": segment trailer checksum or magic mismatch");
    }

    @Test
    void deletedSegmentIsDamage() throws IOException {
        Path seg = olderSegment();
        Files.delete(seg);
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("DAMAGE      " + seg + " at byte offset 0: segment named by the manifest is missing");
    }

    @Test
    void tornTailAfterTheLastCommitIsRecoverable() throws IOException {
        Path log = log();
        long size = Files.size(log);
        Files.write(log, new byte[] {5, 0, 0, 0, 1, 9, 9}, StandardOpenOption.APPEND); // a partial frame header
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("recoverable " + log + " at byte offset " + size + ": torn tail (recoverable): 7 bytes");
        // ... and the engine agrees: it opens with everything committed.
        try (StoreEngine e = TestStores.open(dir)) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isFalse();
            assertThat(e.lastCommitMetadata()).isEqualTo(b("m3"));
        }
    }

    @Test
    void zeroFilledTailIsRecoverable() throws IOException {
        Path log = log();
        Files.write(log, new byte[64], StandardOpenOption.APPEND);
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).contains("torn tail (recoverable): 64 bytes");
    }

    /** A log file as LogWriter writes it: header, then one COMMIT frame without metadata. */
    static byte[] logWithCommit(long number, long seq) {
        ByteBuffer b = ByteBuffer.allocate(24 + 13 + 9).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(0x31474F4C54534D4DL).putInt(1).putLong(number);
        b.putInt(crc(b.array(), 0, 20));
        byte[] payload = ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).putLong(seq).put((byte) 0).array();
        int frame = b.position();
        b.putInt(payload.length).put((byte) 3).putInt(crc(payload, 0, payload.length));
        b.putInt(crc(b.array(), frame, 9));
        b.put(payload);
        return b.array();
    }

    static int crc(byte[] bytes, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(bytes, off, len);
        return (int) c.getValue();
    }

    @Test
    void tornTailFollowedByACommitInALaterLogIsDamage() throws IOException {
        Path log = log();
        long size = Files.size(log);
        Files.write(log, new byte[] {5, 0, 0, 0, 1}, StandardOpenOption.APPEND);
        long number = Long.parseLong(log.getFileName().toString().substring(0, 12));
        Path next = dir.resolve(String.format("%012d.log", number + 1));
        Files.write(next, logWithCommit(number + 1, 1_000_000));
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isEqualTo(1);
        assertThat(r.out()).contains("DAMAGE      " + log + " at byte offset " + size
                + ": log file ends in a torn record (5 bytes) but a later log file holds a commit");
        // ... as recovery sees it.
        try (StoreEngine e = TestStores.open(dir)) {
            assertThat(e.openReport().rebuiltAfterCorruption()).isTrue();
        }
    }

    @Test
    void crashLeftoversAreNotes() throws IOException {
        StoreEngine e = TestStores.open(dir);
        e.put(b("pending"), b("flushed, never committed"));
        e.flush();
        e.abandon();
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        // the flush wrote the memtable's committed state and, above it, the write after the commit: two
        // files no manifest names, beside the store's two
        assertThat(r.out()).contains("(4 segment files, 2 log files")
                .contains("not named by the manifest: an uncommitted flush or merge output");
        Cli inspect = Cli.run("inspect", dir.toString());
        assertThat(inspect.out()).contains("unnamed");
        Cli dump = Cli.run("dump", dir.toString(), "--from", "pending", "--to", "pending");
        assertThat(dump.out()).isEmpty();
    }

    @Test
    void corruptionMarkerOfARunningEngineIsDamage() throws IOException {
        Files.writeString(dir.resolve("CORRUPT"), "corruption in x at byte offset 7: test");
        Cli r = Cli.run("verify", dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("a running engine found damage and marked the store");
    }

    @Test
    void quietListsDamageOnlyAndStoresAreNeverChanged() throws IOException {
        TestStores.flip(olderSegment(), 100);
        Files.write(log(), new byte[] {1, 2}, StandardOpenOption.APPEND);
        Map<String, String> before = DirectoryImage.of(dir);
        Cli r = Cli.run("verify", "--quiet", dir.toString());
        assertThat(r.exit()).isEqualTo(1);
        assertThat(r.out()).contains("page 0 checksum mismatch").doesNotContain("torn tail");
        assertThat(DirectoryImage.of(dir)).isEqualTo(before);
    }

    @Test
    void usageErrorsExitTwo() throws IOException {
        Path empty = Files.createDirectories(tmp.resolve("empty/0_0"));
        Cli none = Cli.run("verify", empty.getParent().toString());
        assertThat(none.exit()).isEqualTo(2);
        assertThat(none.err()).contains("no MmapStore store found in " + empty.getParent());
        Cli missing = Cli.run("verify", tmp.resolve("nope").toString());
        assertThat(missing.exit()).isEqualTo(2);
        assertThat(missing.err()).contains("does not exist");
        Cli noArg = Cli.run("verify");
        assertThat(noArg.exit()).isEqualTo(2);
        Cli noCommand = Cli.run();
        assertThat(noCommand.exit()).isEqualTo(2);
        assertThat(noCommand.err()).contains("name a command");
    }
}
