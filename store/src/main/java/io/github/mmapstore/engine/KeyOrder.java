package io.github.mmapstore.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;

/**
 * Key order of the whole engine: unsigned lexicographic bytes, shorter first on a common prefix. This is
 * the order of Kafka's {@code Bytes.compareTo}, which Kafka's caching layer relies on when it merges its
 * iterators with the store's.
 */
public final class KeyOrder {
    public static final Comparator<byte[]> COMPARATOR = Arrays::compareUnsigned;

    private KeyOrder() {
    }

    public static int compare(byte[] a, byte[] b) {
        return Arrays.compareUnsigned(a, b);
    }

    /** Compares {@code probe} with the {@code length} bytes of {@code seg} at {@code offset}. */
    public static int compare(byte[] probe, MemorySegment seg, long offset, long length) {
        MemorySegment p = MemorySegment.ofArray(probe);
        long m = MemorySegment.mismatch(p, 0, probe.length, seg, offset, offset + length);
        if (m < 0) {
            return 0;
        }
        if (m == probe.length) {
            return -1;
        }
        if (m == length) {
            return 1;
        }
        int a = Byte.toUnsignedInt(probe[(int) m]);
        int b = Byte.toUnsignedInt(seg.get(ValueLayout.JAVA_BYTE, offset + m));
        return Integer.compare(a, b);
    }

    /**
     * The first eight bytes of a key as an unsigned long, zero-padded: comparing two prefixes with
     * {@link Long#compareUnsigned} orders keys correctly whenever the prefixes differ.
     */
    public static long prefix(byte[] key) {
        long p = 0;
        int n = Math.min(8, key.length);
        for (int i = 0; i < n; i++) {
            p |= (key[i] & 0xFFL) << (56 - 8 * i);
        }
        return p;
    }

    /** {@link #prefix(byte[])} of the {@code length}-byte key at {@code from} in {@code source}. */
    static long prefix(byte[] source, int from, int length) {
        long p = 0;
        int n = Math.min(8, length);
        for (int i = 0; i < n; i++) {
            p |= (source[from + i] & 0xFFL) << (56 - 8 * i);
        }
        return p;
    }

    /** The 8 bytes of {@code key} from {@code offset} as a big-endian unsigned number (zero-padded past its end). */
    static long prefix(byte[] key, int offset) {
        long p = 0;
        int n = Math.min(8, key.length - offset);
        for (int i = 0; i < n; i++) {
            p |= (key[offset + i] & 0xFFL) << (56 - 8 * i);
        }
        return p;
    }

    /** The smallest key greater than every key that starts with {@code prefix}, or null if none. */
    public static byte[] prefixUpperBound(byte[] prefix) {
        byte[] upper = prefix.clone();
        for (int i = upper.length - 1; i >= 0; i--) {
            if (upper[i] != (byte) 0xFF) {
                upper[i]++;
                return Arrays.copyOf(upper, i + 1);
            }
        }
        return null;
    }
}
