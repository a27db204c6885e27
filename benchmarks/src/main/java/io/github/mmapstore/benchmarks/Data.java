package io.github.mmapstore.benchmarks;

import java.util.Arrays;
import java.util.SplittableRandom;

/** Deterministic benchmark data: 16-byte random keys (sorted, so ranges are index ranges) and values. */
final class Data {
    static final int KEY_BYTES = 16;
    static final int KEY_COUNT = 1_000_000;
    static final long SEED = 0x5EED_CAFE_F00DL;

    private Data() {
    }

    /** {@code n} distinct uniformly random 16-byte keys, sorted unsigned-lexicographically. */
    static byte[][] sortedKeys(int n) {
        SplittableRandom r = new SplittableRandom(SEED);
        byte[][] keys = new byte[n][];
        for (int i = 0; i < n; i++) {
            byte[] k = new byte[KEY_BYTES];
            r.nextBytes(k);
            keys[i] = k;
        }
        Arrays.sort(keys, Arrays::compareUnsigned);
        for (int i = 1; i < n; i++) {
            if (Arrays.equals(keys[i - 1], keys[i])) {
                throw new IllegalStateException("duplicate random key"); // 2^-88 odds
            }
        }
        return keys;
    }

    /** A random value template; {@link #value} stamps a counter into a fresh copy. */
    static byte[] valueTemplate(int bytes) {
        byte[] v = new byte[bytes];
        new SplittableRandom(SEED + bytes).nextBytes(v);
        return v;
    }

    /**
     * A fresh value array per write, as a Kafka serializer would hand to the store (MmapStore keeps
     * the array in its memtable, RocksDB copies it over JNI: both see a new array per record).
     */
    static byte[] value(byte[] template, long counter) {
        byte[] v = template.clone();
        int n = Math.min(8, v.length);
        for (int i = 0; i < n; i++) {
            v[i] = (byte) (counter >>> (8 * i));
        }
        return v;
    }

    /** Small, fast xorshift generator for index choice inside measured loops. */
    static final class Rng {
        private long s;

        Rng(long seed) {
            this.s = seed == 0 ? 0x9E3779B97F4A7C15L : seed;
        }

        int nextInt(int bound) {
            s ^= s << 13;
            s ^= s >>> 7;
            s ^= s << 17;
            return (int) (((s >>> 33) * bound) >>> 31);
        }
    }

    /** Loads every key with a value of {@code valueBytes}, then settles (persist + full compaction). */
    static void load(BenchStore store, byte[][] keys, int valueBytes) {
        byte[] template = valueTemplate(valueBytes);
        long offset = 0;
        for (int i = 0; i < keys.length; i++) {
            store.put(keys[i].clone(), value(template, i));
            if ((i + 1) % 100_000 == 0) {
                store.commit(++offset);
            }
        }
        store.settle();
    }
}
