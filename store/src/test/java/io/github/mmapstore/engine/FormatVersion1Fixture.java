package io.github.mmapstore.engine;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * The writes that made the committed version-1 store in {@code src/test/resources/format-v1-store}
 * (see its README.txt). This class uses nothing but the JDK: the very same source was compiled against
 * the engine of commit 2c7f79d (the last to write format version 1) to write the fixture, and the test
 * replays it into a model to know what the fixture must hold, so the expected content is never stored
 * twice.
 */
final class FormatVersion1Fixture {
    static final long SEED = 20261125L;
    /** The memtable size the fixture was written with: small, so that several segments were flushed. */
    static final long MEMTABLE_BYTES = 8192;
    /** High enough that no merge ran while the fixture was written: every flushed segment stayed. */
    static final int COMPACTION_TRIGGER = 50;
    static final int FIXED_VALUE_BYTES = 12;

    /** Where the writes go: an engine when the fixture is made, a model when the test checks it. */
    interface Sink {
        void put(byte[] key, byte[] value);

        void delete(byte[] key);

        void commit(byte[] metadata);
    }

    private FormatVersion1Fixture() {
    }

    /** Keys of varying length, then a run of fixed-length keys and values, then overwrites and deletes. */
    static void write(Sink sink) {
        Random rnd = new Random(SEED);
        List<byte[]> varying = new ArrayList<>();
        List<byte[]> fixed = new ArrayList<>();
        for (int i = 0; i < 400; i++) {
            byte[] key = ("user/" + word(rnd, rnd.nextInt(13))).getBytes(StandardCharsets.US_ASCII);
            sink.put(key, bytes(rnd, rnd.nextInt(41)));
            varying.add(key);
            if (i % 100 == 99) {
                sink.commit(metadata("varying " + i));
            }
        }
        for (int i = 0; i < 300; i++) {
            byte[] key = fixedKey(i);
            sink.put(key, bytes(rnd, FIXED_VALUE_BYTES));
            fixed.add(key);
            if (i % 100 == 99) {
                sink.commit(metadata("fixed " + i));
            }
        }
        for (int i = 0; i < 150; i++) {
            boolean ofFixed = rnd.nextBoolean();
            List<byte[]> from = ofFixed ? fixed : varying;
            byte[] key = from.get(rnd.nextInt(from.size()));
            if (rnd.nextInt(3) == 0) {
                sink.put(key, bytes(rnd, ofFixed ? FIXED_VALUE_BYTES : rnd.nextInt(41)));
            } else {
                sink.delete(key);
            }
        }
        sink.commit(metadata("deletes"));
        // The committed log tail: too few bytes to fill a memtable, so these stay in the log.
        for (int i = 0; i < 12; i++) {
            byte[] key = i % 3 == 2 ? fixed.get(rnd.nextInt(fixed.size())) : ("tail/" + i).getBytes(StandardCharsets.US_ASCII);
            if (i % 4 == 3) {
                sink.delete(key);
            } else {
                sink.put(key, bytes(rnd, key.length == fixed.get(0).length ? FIXED_VALUE_BYTES : 1 + rnd.nextInt(20)));
            }
        }
        sink.commit(metadata("tail"));
    }

    /** "fixed/" and a 4-byte big-endian number: 10 bytes. */
    static byte[] fixedKey(int i) {
        return ByteBuffer.allocate(10).put("fixed/".getBytes(StandardCharsets.US_ASCII)).putInt(i * 7).array();
    }

    static byte[] metadata(String text) {
        return ("v1-fixture " + text).getBytes(StandardCharsets.US_ASCII);
    }

    private static String word(Random rnd, int length) {
        StringBuilder sb = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            sb.append((char) ('a' + rnd.nextInt(26)));
        }
        return sb.toString();
    }

    private static byte[] bytes(Random rnd, int length) {
        byte[] b = new byte[length];
        rnd.nextBytes(b);
        return b;
    }
}
