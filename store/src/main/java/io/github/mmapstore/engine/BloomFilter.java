package io.github.mmapstore.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * A blocked bloom filter: each key sets {@link #PROBES} bits inside one 64-byte block, so a lookup costs
 * one cache line. About 1% false positives at {@link #BITS_PER_KEY} bits per key. Lives in a segment
 * column; the engine never loads it onto the heap.
 */
final class BloomFilter {
    static final int BITS_PER_KEY = 10;
    static final int PROBES = 7;
    static final int BLOCK_BYTES = 64;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN);

    private BloomFilter() {
    }

    static long bytesFor(long keys) {
        long blocks = Math.max(1, (keys * BITS_PER_KEY + 511) / 512);
        return blocks * BLOCK_BYTES;
    }

    /** Sets the key's bits in a filter region on the heap (written out with the segment). */
    static void add(byte[] filter, long hash) {
        long blocks = filter.length / BLOCK_BYTES;
        int base = (int) (block(hash, blocks) * BLOCK_BYTES);
        int h = (int) hash;
        int delta = (h >>> 17) | (h << 15);
        for (int i = 0; i < PROBES; i++) {
            int bit = h & 511;
            filter[base + (bit >>> 3)] |= (byte) (1 << (bit & 7));
            h += delta;
        }
    }

    /** False means the key is certainly absent. */
    static boolean mightContain(MemorySegment filter, long hash) {
        long blocks = filter.byteSize() / BLOCK_BYTES;
        long base = block(hash, blocks) * BLOCK_BYTES;
        int h = (int) hash;
        int delta = (h >>> 17) | (h << 15);
        for (int i = 0; i < PROBES; i++) {
            int bit = h & 511;
            long word = filter.get(LONG, base + ((bit >>> 6) << 3));
            if ((word & (1L << (bit & 63))) == 0) {
                return false;
            }
            h += delta;
        }
        return true;
    }

    /** Offset of the block a key's bits live in, within a filter of {@code filterBytes}. */
    static long blockOffset(long hash, long filterBytes) {
        return block(hash, filterBytes / BLOCK_BYTES) * BLOCK_BYTES;
    }

    private static long block(long hash, long blocks) {
        return Math.unsignedMultiplyHigh(hash, blocks);
    }
}
