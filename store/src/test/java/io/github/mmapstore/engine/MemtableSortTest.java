package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

/**
 * {@link Memtable#sortByKey} (a primitive sort over the keys' first distinguishing bytes, full comparisons
 * only among ties) orders chains exactly as a comparison sort in unsigned byte order does, whatever the
 * keys look like: random, sharing long prefixes (time-partitioned keys), of varying and tiny lengths,
 * prefixes of each other, equal in their first 40 sorted bits.
 */
class MemtableSortTest {

    @Property(tries = 200)
    void ordersLikeAComparisonSort(@ForAll @IntRange(min = 0, max = 3000) int n, @ForAll long seed,
                                   @ForAll @IntRange(min = 0, max = 4) int shape) {
        Random rnd = new Random(seed);
        List<byte[]> keys = new ArrayList<>();
        java.util.Set<String> seen = new java.util.HashSet<>();
        // some shapes have fewer distinct keys than n: stop when new ones stop coming
        for (int attempts = 0; keys.size() < n && attempts < 20 * n + 100; attempts++) {
            byte[] k = key(rnd, shape);
            if (seen.add(Arrays.toString(k))) {
                keys.add(k);
            }
        }
        n = keys.size();
        Memtable.Chain[] chains = new Memtable.Chain[n];
        for (int i = 0; i < n; i++) {
            chains[i] = new Memtable.Chain(keys.get(i), KeyHash.hash(keys.get(i)), null);
        }
        Memtable.Chain[] expected = chains.clone();
        Arrays.sort(expected, (a, b) -> Arrays.compareUnsigned(a.key, b.key));
        Memtable.sortByKey(chains);
        for (int i = 0; i < n; i++) {
            assertThat(chains[i].key).as("position %d of %d (shape %d)", i, n, shape).isEqualTo(expected[i].key);
        }
    }

    private static byte[] key(Random rnd, int shape) {
        return switch (shape) {
            case 0 -> bytes(rnd, 16);                       // random, fixed length
            case 1 -> {                                      // an 8-byte partition shared by most keys, then a short tail
                byte[] k = new byte[8 + rnd.nextInt(6)];
                k[7] = (byte) rnd.nextInt(3);
                for (int i = 8; i < k.length; i++) {
                    k[i] = (byte) rnd.nextInt(4);
                }
                yield k;
            }
            case 2 -> bytes(rnd, rnd.nextInt(4));            // tiny keys, the empty key too, prefixes of each other
            case 3 -> {                                      // equal first 5 bytes, differences late
                byte[] k = new byte[12];
                k[0] = 7;
                k[11] = (byte) rnd.nextInt(256);
                k[6] = (byte) rnd.nextInt(2);
                yield k;
            }
            default -> {                                     // 0x00 and 0xFF heavy, varying lengths
                byte[] k = new byte[rnd.nextInt(10)];
                for (int i = 0; i < k.length; i++) {
                    k[i] = rnd.nextBoolean() ? 0 : (byte) 0xFF;
                }
                yield k;
            }
        };
    }

    private static byte[] bytes(Random rnd, int len) {
        byte[] b = new byte[len];
        rnd.nextBytes(b);
        return b;
    }
}
