package io.github.mmapstore.engine;

import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/** CRC32C helpers. {@link CRC32C} is intrinsified on x86 and ARM: a few cycles per 8 bytes. */
final class Checksums {
    private Checksums() {
    }

    static int crc(byte[] bytes, int off, int len) {
        CRC32C c = new CRC32C();
        c.update(bytes, off, len);
        return (int) c.getValue();
    }

    static int crc(ByteBuffer buf) {
        CRC32C c = new CRC32C();
        c.update(buf);
        return (int) c.getValue();
    }

    /** CRC32C of {@code length} bytes of a mapped segment, read in place without a heap copy. */
    static int crc(MemorySegment seg, long offset, long length) {
        CRC32C c = new CRC32C();
        long pos = offset;
        long end = offset + length;
        while (pos < end) {
            int n = (int) Math.min(end - pos, 1 << 30);
            c.update(seg.asSlice(pos, n).asByteBuffer());
            pos += n;
        }
        return (int) c.getValue();
    }
}
