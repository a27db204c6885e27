package io.github.mmapstore.streams.internals;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.query.Position;

/**
 * What a Kafka store commits atomically with its data through the engine: the changelog offsets Kafka
 * handed to {@code commit(Map)} and the Interactive Queries position. Versioned so that later releases
 * can add fields. Public so that the store inspector ({@code mmapstore inspect}) can decode it from a
 * store directory; stores themselves are its only writers.
 */
public record CommitMetadata(Map<TopicPartition, Long> offsets, Position position) {
    private static final byte VERSION = 1;

    public CommitMetadata {
        offsets = Map.copyOf(offsets);
    }

    static CommitMetadata empty() {
        return new CommitMetadata(Map.of(), Position.emptyPosition());
    }

    public byte[] encode() {
        int size = 1 + 4;
        for (TopicPartition tp : offsets.keySet()) {
            size += 2 + utf8(tp.topic()).length + 4 + 8;
        }
        size += 4;
        for (String topic : position.getTopics()) {
            size += 2 + utf8(topic).length + 4 + position.getPartitionPositions(topic).size() * 12;
        }
        ByteBuffer b = ByteBuffer.allocate(size);
        b.put(VERSION).putInt(offsets.size());
        for (Map.Entry<TopicPartition, Long> e : offsets.entrySet()) {
            putString(b, e.getKey().topic());
            b.putInt(e.getKey().partition()).putLong(e.getValue());
        }
        b.putInt(position.getTopics().size());
        for (String topic : position.getTopics()) {
            Map<Integer, Long> parts = position.getPartitionPositions(topic);
            putString(b, topic);
            b.putInt(parts.size());
            for (Map.Entry<Integer, Long> p : parts.entrySet()) {
                b.putInt(p.getKey()).putLong(p.getValue());
            }
        }
        return b.array();
    }

    /** Decodes what {@link #encode()} wrote; null input (a store never committed) is empty metadata. */
    public static CommitMetadata decode(byte[] bytes) {
        if (bytes == null) {
            return empty();
        }
        ByteBuffer b = ByteBuffer.wrap(bytes);
        byte version = b.get();
        if (version != VERSION) {
            throw new IllegalStateException("commit metadata has version " + version + "; this MmapStore reads " + VERSION);
        }
        int n = b.getInt();
        Map<TopicPartition, Long> offsets = new HashMap<>();
        for (int i = 0; i < n; i++) {
            String topic = getString(b);
            int partition = b.getInt();
            offsets.put(new TopicPartition(topic, partition), b.getLong());
        }
        Map<String, Map<Integer, Long>> pos = new HashMap<>();
        int topics = b.getInt();
        for (int i = 0; i < topics; i++) {
            String topic = getString(b);
            int parts = b.getInt();
            Map<Integer, Long> m = new HashMap<>();
            for (int j = 0; j < parts; j++) {
                m.put(b.getInt(), b.getLong());
            }
            pos.put(topic, m);
        }
        return new CommitMetadata(offsets, Position.fromMap(pos));
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static void putString(ByteBuffer b, String s) {
        byte[] u = utf8(s);
        b.putShort((short) u.length).put(u);
    }

    private static String getString(ByteBuffer b) {
        byte[] u = new byte[Short.toUnsignedInt(b.getShort())];
        b.get(u);
        return new String(u, StandardCharsets.UTF_8);
    }
}
