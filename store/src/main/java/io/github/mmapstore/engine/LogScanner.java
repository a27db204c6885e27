package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * Reads a log file's frames in order, checking every checksum. Stops cleanly at a torn tail and throws
 * {@link CorruptionException} at damage. A torn tail is what an interrupted append can leave: a partial
 * frame header, a frame whose declared length runs past the end of the file, or zeros to the end.
 */
final class LogScanner {
    /** Receives each valid frame; {@code payload} is only valid during the call. */
    interface Visitor {
        void frame(byte type, MemorySegment payload, long frameOffset, long frameEnd) throws IOException;
    }

    /** Where the valid frames of a file end, and whether anything (a torn tail) came after. */
    record Result(long validEnd, long fileSize) {
        boolean torn() {
            return validEnd < fileSize;
        }
    }

    private LogScanner() {
    }

    static Result scan(Path path, long expectedNumber, Visitor visitor) throws IOException {
        return scan(path, expectedNumber, Long.MAX_VALUE, visitor);
    }

    /**
     * As {@link #scan(Path, long, Visitor)}, reading only the first {@code limit} bytes of the file: a
     * replay that stops at a commit point does not look at what an open store has appended since.
     */
    static Result scan(Path path, long expectedNumber, long limit, Visitor visitor) throws IOException {
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ); Arena arena = Arena.ofConfined()) {
            long size = Math.min(ch.size(), limit);
            if (size < LogFormat.FILE_HEADER_BYTES) {
                // The header is written and synced before the file is named in any manifest or
                // followed by a commit, so a short header can only be a file created at the instant of
                // a crash: nothing in it was ever committed.
                return new Result(0, size);
            }
            MemorySegment m = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            checkHeader(path, m, expectedNumber);
            long pos = LogFormat.FILE_HEADER_BYTES;
            while (pos < size) {
                long remaining = size - pos;
                if (remaining < LogFormat.FRAME_HEADER_BYTES) {
                    return new Result(pos, size);
                }
                int len = m.get(SegmentFormat.U32, pos);
                byte type = m.get(ValueLayout.JAVA_BYTE, pos + 4);
                int pcrc = m.get(SegmentFormat.U32, pos + 5);
                int hcrc = m.get(SegmentFormat.U32, pos + 9);
                boolean headerOk = hcrc == Checksums.crc(m, pos, 9) && len >= 0 && LogFormat.knownType(type);
                if (!headerOk) {
                    if (zerosToEnd(m, pos, size)) {
                        return new Result(pos, size);
                    }
                    throw new CorruptionException(path, pos, "log frame header checksum mismatch");
                }
                long end = pos + LogFormat.FRAME_HEADER_BYTES + len;
                if (end > size) {
                    return new Result(pos, size);
                }
                MemorySegment payload = m.asSlice(pos + LogFormat.FRAME_HEADER_BYTES, len);
                if (Checksums.crc(payload, 0, len) != pcrc) {
                    throw new CorruptionException(path, pos, "log record checksum mismatch");
                }
                visitor.frame(type, payload, pos, end);
                pos = end;
            }
            return new Result(pos, size);
        }
    }

    private static void checkHeader(Path path, MemorySegment m, long expectedNumber) {
        long magic = m.get(SegmentFormat.U64, 0);
        int version = m.get(SegmentFormat.U32, 8);
        long number = m.get(SegmentFormat.U64, 12);
        int crc = m.get(SegmentFormat.U32, 20);
        if (crc != Checksums.crc(m, 0, 20) || magic != LogFormat.MAGIC) {
            throw new CorruptionException(path, 0, "log file header checksum or magic mismatch");
        }
        if (version != LogFormat.VERSION) {
            throw new IncompatibleFormatException("log " + path + " has format version " + version
                    + "; this MmapStore reads version " + LogFormat.VERSION);
        }
        if (number != expectedNumber) {
            throw new CorruptionException(path, 12, "log file header names file " + number);
        }
    }

    private static boolean zerosToEnd(MemorySegment m, long from, long size) {
        for (long i = from; i < size; i++) {
            if (m.get(ValueLayout.JAVA_BYTE, i) != 0) {
                return false;
            }
        }
        return true;
    }

    /** Decodes the varint key length at the start of a PUT payload: {length, bytes used}. */
    static int[] readVarint(MemorySegment payload, Path path, long frameOffset) {
        int value = 0;
        int shift = 0;
        for (int i = 0; i < 5 && i < payload.byteSize(); i++) {
            int b = payload.get(ValueLayout.JAVA_BYTE, i);
            value |= (b & 0x7F) << shift;
            if ((b & 0x80) == 0) {
                if (value < 0 || i + 1 + (long) value > payload.byteSize()) {
                    throw new CorruptionException(path, frameOffset, "key length past the end of its record");
                }
                return new int[] {value, i + 1};
            }
            shift += 7;
        }
        throw new CorruptionException(path, frameOffset, "bad key length in log record");
    }
}
