package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

/**
 * The memtable's records in slabs: every version of every key readable at every snapshot, tombstones,
 * values larger than a slab, the table rebuilt as it grows, the live count and the byte count; and
 * readers on other threads that never see a torn or missing record while the writer goes on.
 */
class MemtableTest {

    /** Every version a model recorded is what the memtable returns at each snapshot, after any number of writes. */
    @Property(tries = 100)
    void everySnapshotReadsWhatWasWritten(@ForAll @IntRange(min = 1, max = 3000) int writes, @ForAll long seed) {
        Random rnd = new Random(seed);
        Memtable m = new Memtable(rnd.nextInt(3) == 0 ? 1 : 4096);
        int keySpace = 1 + rnd.nextInt(Math.max(1, writes));
        Map<String, List<long[]>> history = new HashMap<>(); // key -> [seq, value length or -1]
        Map<String, byte[]> keys = new HashMap<>();
        for (long seq = 1; seq <= writes; seq++) {
            byte[] key = ("k" + rnd.nextInt(keySpace)).getBytes();
            String ks = new String(key);
            keys.put(ks, key);
            byte[] value = null;
            if (rnd.nextInt(5) != 0) {
                // mostly small, now and then larger than a whole slab (1 MiB)
                int len = rnd.nextInt(200) == 0 ? (1 << 20) + rnd.nextInt(1000) : rnd.nextInt(40);
                value = value(seq, len);
            }
            m.put(key, value, seq);
            history.computeIfAbsent(ks, k -> new ArrayList<>()).add(new long[] {seq, value == null ? -1 : value.length});
        }
        long live = 0;
        for (Map.Entry<String, List<long[]>> e : history.entrySet()) {
            byte[] key = keys.get(e.getKey());
            List<long[]> versions = e.getValue();
            if (versions.get(versions.size() - 1)[1] >= 0) {
                live++;
            }
            for (int probe = 0; probe < 5; probe++) {
                long snapshot = rnd.nextInt(writes + 1);
                long[] expected = null;
                for (long[] v : versions) {
                    if (v[0] <= snapshot) {
                        expected = v;
                    }
                }
                long got = m.get(key, snapshot);
                if (expected == null) {
                    assertThat(got).as("no version of %s at %d", e.getKey(), snapshot).isEqualTo(Memtable.NONE);
                } else {
                    assertThat(m.seq(got)).isEqualTo(expected[0]);
                    byte[] v = m.value(got);
                    if (expected[1] < 0) {
                        assertThat(v).as("tombstone of %s at %d", e.getKey(), snapshot).isNull();
                    } else {
                        assertThat(v).isEqualTo(value(expected[0], (int) expected[1]));
                    }
                }
            }
        }
        assertThat(m.keyCount()).isEqualTo(history.size());
        assertThat(m.liveCount()).isEqualTo(live);
        assertThat(m.get("absent".getBytes(), Long.MAX_VALUE)).isEqualTo(Memtable.NONE);
        assertThat(m.approximateBytes()).isGreaterThan(0);
    }

    @Test
    void anEmptyMemtableHoldsNoBytesAndNoKeys() {
        Memtable m = new Memtable(1_000_000);
        assertThat(m.approximateBytes()).isZero();
        assertThat(m.isEmpty()).isTrue();
        assertThat(m.idsInOrder()).isEmpty();
        assertThat(m.entries(null, true, null, true, false).next()).isFalse();
    }

    @Test
    void bytesCountKeysValuesAndBookkeeping() {
        Memtable m = new Memtable();
        m.put(new byte[16], new byte[100], 1);
        long one = m.approximateBytes();
        assertThat(one).isEqualTo(Memtable.KEY_HEADER + 16 + Memtable.VERSION_HEADER + 100 + Memtable.KEY_BOOKKEEPING);
        m.put(new byte[16], null, 2); // a tombstone over the same key: one more version header
        assertThat(m.approximateBytes()).isEqualTo(one + Memtable.VERSION_HEADER);
        assertThat(m.liveCount()).isZero();
        assertThat(m.holdsWritesUpTo(0)).isFalse();
        assertThat(m.holdsWritesUpTo(1)).isTrue();
    }

    /**
     * Readers on other threads look up keys while the writer adds keys (the table rebuilt several times,
     * slabs added) and new versions: every read at the published sequence number finds the key with a value
     * that is whole and at or after the version that sequence number guarantees.
     */
    @Test
    void readersSeeWholeRecordsWhileTheWriterGoesOn() throws Exception {
        Memtable m = new Memtable(1);
        AtomicLong published = new AtomicLong();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        int keys = 200_000;
        Thread[] readers = new Thread[2];
        for (int t = 0; t < readers.length; t++) {
            long seed = t;
            readers[t] = new Thread(() -> {
                Random rnd = new Random(seed);
                try {
                    while (published.get() < 2L * keys && failure.get() == null) {
                        long snapshot = published.get();
                        if (snapshot == 0) {
                            continue;
                        }
                        // write i (1-based) is key i-1 for i <= keys, then key i-keys-1 again
                        long i = 1 + rnd.nextLong(snapshot);
                        int k = (int) ((i - 1) % keys);
                        long v = m.get(key(k), snapshot);
                        assertThat(v).as("key %d at %d", k, snapshot).isNotEqualTo(Memtable.NONE);
                        byte[] value = m.value(v);
                        long seq = m.seq(v);
                        assertThat(value).isEqualTo(value(seq, 24));
                        long newestAllowed = snapshot >= keys + k + 1 ? keys + k + 1 : k + 1;
                        assertThat(seq).isEqualTo(newestAllowed);
                    }
                } catch (Throwable e) {
                    failure.compareAndSet(null, e);
                }
            });
            readers[t].start();
        }
        for (long seq = 1; seq <= 2L * keys; seq++) {
            int k = (int) ((seq - 1) % keys);
            m.put(key(k), value(seq, 24), seq);
            published.set(seq);
        }
        for (Thread t : readers) {
            t.join();
        }
        assertThat(failure.get()).isNull();
        assertThat(m.keyCount()).isEqualTo(keys);
    }

    private static byte[] key(int k) {
        return ByteBuffer.allocate(8).putLong(Long.reverse(k)).array();
    }

    /** A value of {@code len} bytes that says which write made it. */
    private static byte[] value(long seq, int len) {
        byte[] v = new byte[len];
        Random r = new Random(seq);
        r.nextBytes(v);
        if (len >= 8) {
            ByteBuffer.wrap(v).putLong(seq);
        }
        return v;
    }

    @Test
    void keysComeBackInOrderAfterInterleavedReads() {
        Memtable m = new Memtable();
        Random rnd = new Random(3);
        List<byte[]> all = new ArrayList<>();
        for (int i = 0; i < 5000; i++) {
            byte[] k = new byte[1 + rnd.nextInt(12)];
            rnd.nextBytes(k);
            if (m.get(k, Long.MAX_VALUE) == Memtable.NONE) {
                all.add(k);
            }
            m.put(k, k, i + 1);
            if (i % 700 == 0) {
                m.idsInOrder(); // leaves a sorted run behind; later ones merge with it
            }
        }
        all.sort(Arrays::compareUnsigned);
        int[] ids = m.idsInOrder();
        assertThat(ids).hasSize(all.size());
        for (int i = 0; i < ids.length; i++) {
            assertThat(m.key(ids[i])).isEqualTo(all.get(i));
        }
    }
}
