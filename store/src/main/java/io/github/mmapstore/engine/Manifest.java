package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * The durable root of a store: the live segments (newest first), the first log file still needed, the
 * last sequence number and the commit metadata as of the last checkpoint, and where in the first log the
 * COMMIT record of that checkpoint ends ({@code commitEnd}; 0 when the state needs nothing from the log).
 * Written only when the segment set changes (a flush reaching a commit, a compaction); commits in between
 * live in the log.
 *
 * <p>Why {@code commitEnd}: the records between the log's start and that COMMIT record belong to the
 * checkpointed state but live only in the log. If the log loses them (a truncation), recovery must not
 * fall back to the manifest's metadata as if nothing were missing: it reports corruption instead.
 *
 * <p>Replaced atomically: write {@code MANIFEST.tmp}, fsync it, rename over {@code MANIFEST}, fsync
 * the directory. A crash before the rename leaves the old manifest in force.
 */
record Manifest(long nextFileNumber, long lastSeq, long logStart, long commitEnd, List<SegmentRef> segments,
                byte[] metadata) {
    static final long MAGIC = 0x314E414D54534D4DL; // "MMSTMAN1" little-endian
    /**
     * 2 added {@code commitEnd}; version 1 manifests are read with commitEnd 0. 3 is the layout of 2 for a
     * store without a log ({@code logStart} 0: the manifest alone is the committed state): a release that
     * only knows 2 would look for log 0, find it missing and take the store for damaged, so it is told it
     * cannot read the store instead. A store with a log still writes 2.
     */
    static final int FORMAT_VERSION = 3;
    static final int LOGGED_FORMAT_VERSION = 2;
    /** {@link #logStart} of a store that keeps no log. */
    static final long NO_LOG = 0;
    private static final int HEADER_BYTES = 8 + 4 + 4 + 4 + 4;

    /** One live segment as the manifest knows it; the file's own footer is checked against this. */
    record SegmentRef(long number, long fileSize, long rows) {
    }

    Manifest {
        segments = List.copyOf(segments);
    }

    /** Whether the store keeps a log (else the manifest alone holds the committed state). */
    boolean logged() {
        return logStart != NO_LOG;
    }

    static Manifest empty() {
        return new Manifest(2, 0, 1, 0, List.of(), null);
    }

    byte[] encode() {
        int metaLen = metadata == null ? 0 : metadata.length;
        int bodyLen = 8 + 8 + 8 + 8 + 4 + segments.size() * 24 + 1 + 4 + metaLen;
        ByteBuffer body = ByteBuffer.allocate(bodyLen).order(ByteOrder.LITTLE_ENDIAN);
        body.putLong(nextFileNumber).putLong(lastSeq).putLong(logStart).putLong(commitEnd).putInt(segments.size());
        for (SegmentRef s : segments) {
            body.putLong(s.number()).putLong(s.fileSize()).putLong(s.rows());
        }
        body.put((byte) (metadata == null ? 0 : 1)).putInt(metaLen);
        if (metadata != null) {
            body.put(metadata);
        }
        ByteBuffer out = ByteBuffer.allocate(HEADER_BYTES + bodyLen).order(ByteOrder.LITTLE_ENDIAN);
        out.putLong(MAGIC).putInt(logStart == NO_LOG ? FORMAT_VERSION : LOGGED_FORMAT_VERSION).putInt(bodyLen);
        out.putInt(Checksums.crc(out.array(), 0, 16));
        out.putInt(Checksums.crc(body.array(), 0, bodyLen));
        out.put(body.array());
        return out.array();
    }

    static Manifest decode(Path file, byte[] bytes) {
        if (bytes.length < HEADER_BYTES) {
            throw new CorruptionException(file, 0, "manifest shorter than its header (" + bytes.length + " bytes)");
        }
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        long magic = in.getLong();
        int version = in.getInt();
        int bodyLen = in.getInt();
        int headerCrc = in.getInt();
        int bodyCrc = in.getInt();
        if (headerCrc != Checksums.crc(bytes, 0, 16)) {
            throw new CorruptionException(file, 0, "manifest header checksum mismatch");
        }
        if (magic != MAGIC) {
            throw new CorruptionException(file, 0, "not a manifest (bad magic number)");
        }
        if (version < 1 || version > FORMAT_VERSION) {
            throw new IncompatibleFormatException("store manifest " + file + " has format version " + version
                    + "; this MmapStore reads version " + FORMAT_VERSION
                    + ". Open it with the MmapStore release that wrote it, or delete the directory to rebuild it from the changelog.");
        }
        if (bodyLen < 0 || HEADER_BYTES + (long) bodyLen != bytes.length) {
            throw new CorruptionException(file, 12, "manifest body length " + bodyLen + " does not match file size " + bytes.length);
        }
        if (bodyCrc != Checksums.crc(bytes, HEADER_BYTES, bodyLen)) {
            throw new CorruptionException(file, HEADER_BYTES, "manifest body checksum mismatch");
        }
        try {
            long next = in.getLong();
            long seq = in.getLong();
            long logStart = in.getLong();
            long commitEnd = version >= 2 ? in.getLong() : 0;
            if ((logStart == NO_LOG) != (version == FORMAT_VERSION)) {
                throw new CorruptionException(file, HEADER_BYTES + 16, "manifest of format version " + version
                        + (logStart == NO_LOG ? " names no log" : " names log " + logStart + " (a version-3 manifest names none)"));
            }
            if (commitEnd < 0) {
                throw new CorruptionException(file, HEADER_BYTES + 24, "negative commit position " + commitEnd);
            }
            int count = in.getInt();
            List<SegmentRef> segs = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                segs.add(new SegmentRef(in.getLong(), in.getLong(), in.getLong()));
            }
            boolean hasMeta = in.get() != 0;
            int metaLen = in.getInt();
            byte[] meta = null;
            if (hasMeta) {
                meta = new byte[metaLen];
                in.get(meta);
            }
            if (in.hasRemaining()) {
                throw new CorruptionException(file, in.position(), "trailing bytes after manifest body");
            }
            return new Manifest(next, seq, logStart, commitEnd, segs, meta);
        } catch (RuntimeException e) {
            if (e instanceof CorruptionException ce) {
                throw ce;
            }
            throw new CorruptionException(file, HEADER_BYTES, "manifest body does not parse: " + e);
        }
    }

    /** Reads the manifest, or returns null when the directory has none (a new store). */
    static Manifest read(Path dir) throws IOException {
        Path file = dir.resolve(FileNames.MANIFEST);
        try {
            return decode(file, Files.readAllBytes(file));
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** Atomically replaces the directory's manifest with this one. */
    void write(Path dir, boolean fsync, FaultInjector faults) throws IOException {
        Path temp = dir.resolve(FileNames.MANIFEST_TEMP);
        byte[] bytes = encode();
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            if (fsync) {
                ch.force(true);
            }
        }
        faults.at(FaultInjector.Point.MANIFEST_AFTER_TEMP_WRITTEN);
        try {
            Files.move(temp, dir.resolve(FileNames.MANIFEST), StandardCopyOption.ATOMIC_MOVE,
                    StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + dir + " cannot rename atomically; MmapStore needs it", e);
        }
        if (fsync) {
            syncDirectory(dir);
        }
        faults.at(FaultInjector.Point.MANIFEST_AFTER_RENAME);
    }

    /** Makes a rename or a file creation in {@code dir} durable. */
    static void syncDirectory(Path dir) throws IOException {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        }
    }
}
