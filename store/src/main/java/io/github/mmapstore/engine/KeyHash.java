package io.github.mmapstore.engine;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/** A fast 64-bit hash of key bytes for the bloom filters (not cryptographic; stable across releases). */
final class KeyHash {
    private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
    private static final long M1 = 0x9E3779B97F4A7C15L;
    private static final long M2 = 0xC2B2AE3D27D4EB4FL;

    private KeyHash() {
    }

    static long hash(byte[] key) {
        long h = key.length * M1;
        int i = 0;
        int n = key.length;
        for (; i + 8 <= n; i += 8) {
            long k = (long) LONGS.get(key, i);
            h ^= mix(k);
            h = Long.rotateLeft(h, 27) * M1 + 0x52DCE729L;
        }
        long tail = 0;
        for (int s = 0; i < n; i++, s += 8) {
            tail |= (key[i] & 0xFFL) << s;
        }
        h ^= mix(tail ^ 0x27D4EB2F165667C5L);
        return finish(h);
    }

    private static long mix(long k) {
        k *= M2;
        k = Long.rotateLeft(k, 31);
        return k * M1;
    }

    private static long finish(long h) {
        h ^= h >>> 33;
        h *= 0xFF51AFD7ED558CCDL;
        h ^= h >>> 33;
        h *= 0xC4CEB9FE1A85EC53L;
        h ^= h >>> 33;
        return h;
    }
}
