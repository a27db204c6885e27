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
 * only among ties) orders keys exactly as a comparison sort in unsigned byte order does, whatever the
 * keys look like: random, sharing long prefixes (time-partitioned keys), of varying and tiny lengths,
 * prefixes of each other, equal in their first 40 sorted bits; and range reads over its sorted runs return
 * what a sorted map does.
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
        Memtable m = new Memtable();
        for (int i = 0; i < n; i++) {
            m.put(keys.get(i), new byte[] {(byte) i}, i + 1);
        }
        List<byte[]> expected = new ArrayList<>(keys);
        expected.sort(Arrays::compareUnsigned);
        int[] ids = new int[n];
        for (int i = 0; i < n; i++) {
            ids[i] = i;
        }
        m.sortByKey(ids);
        for (int i = 0; i < n; i++) {
            assertThat(m.key(ids[i])).as("position %d of %d (shape %d)", i, n, shape).isEqualTo(expected.get(i));
        }
        int[] inOrder = m.idsInOrder();
        assertThat(inOrder).hasSize(n);
        for (int i = 0; i < n; i++) {
            assertThat(m.key(inOrder[i])).as("idsInOrder position %d of %d (shape %d)", i, n, shape).isEqualTo(expected.get(i));
        }
    }

    /**
     * Range reads over the memtable's sorted runs (searched through each run's key prefixes after the bytes
     * its keys share) return exactly the keys a sorted map holds between the bounds, for every bound kind,
     * with reads between writes so that runs of many sizes exist, and bounds that leave the runs' shared
     * prefix, are shorter than it, or fall between keys.
     */
    @Property(tries = 150)
    void rangesMatchASortedMap(@ForAll @IntRange(min = 0, max = 2000) int n, @ForAll long seed,
                               @ForAll @IntRange(min = 0, max = 4) int shape) {
        Random rnd = new Random(seed);
        Memtable m = new Memtable();
        java.util.TreeMap<byte[], Boolean> model = new java.util.TreeMap<>(Arrays::compareUnsigned);
        long seq = 0;
        for (int i = 0; i < n; i++) {
            byte[] k = key(rnd, shape);
            m.put(k, new byte[] {1}, ++seq);
            model.put(k, Boolean.TRUE);
            if (rnd.nextInt(8) == 0) {
                checkRange(m, model, rnd, shape);
            }
        }
        for (int r = 0; r < 20; r++) {
            checkRange(m, model, rnd, shape);
        }
    }

    private static void checkRange(Memtable m, java.util.TreeMap<byte[], Boolean> model, Random rnd, int shape) {
        byte[] from = rnd.nextInt(6) == 0 ? null : bound(rnd, shape);
        byte[] to = rnd.nextInt(6) == 0 ? null : bound(rnd, shape);
        if (from != null && to != null && Arrays.compareUnsigned(from, to) > 0) {
            byte[] t = from;
            from = to;
            to = t;
        }
        boolean fromInc = rnd.nextBoolean();
        boolean toInc = rnd.nextBoolean();
        boolean reverse = rnd.nextBoolean();
        List<String> expected = new ArrayList<>();
        for (byte[] k : reverse ? model.descendingKeySet() : model.keySet()) {
            int cf = from == null ? 1 : Arrays.compareUnsigned(k, from);
            int ct = to == null ? -1 : Arrays.compareUnsigned(k, to);
            if ((cf > 0 || (cf == 0 && fromInc)) && (ct < 0 || (ct == 0 && toInc))) {
                expected.add(Arrays.toString(k));
            }
        }
        List<String> actual = new ArrayList<>();
        Memtable.Cursor c = m.entries(from, fromInc, to, toInc, reverse);
        while (c.next()) {
            actual.add(Arrays.toString(m.key(c.id())));
        }
        assertThat(actual).as("range %s%s, %s%s reverse=%s (shape %d)", fromInc ? "[" : "(", Arrays.toString(from),
                Arrays.toString(to), toInc ? "]" : ")", reverse, shape).isEqualTo(expected);
    }

    /** A bound: a key of the shape, or one cut short, or lengthened, or off the shape altogether. */
    private static byte[] bound(Random rnd, int shape) {
        byte[] k = key(rnd, shape);
        return switch (rnd.nextInt(5)) {
            case 0 -> Arrays.copyOf(k, rnd.nextInt(k.length + 1));
            case 1 -> Arrays.copyOf(k, k.length + 1 + rnd.nextInt(3));
            case 2 -> bytes(rnd, rnd.nextInt(12));
            default -> k;
        };
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
