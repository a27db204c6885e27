package io.github.mmapstore.tools;

import io.github.mmapstore.engine.ColumnExtension;
import io.github.mmapstore.engine.StoreSnapshot;
import io.github.mmapstore.vector.EmbeddingFormat;
import io.github.mmapstore.vector.VectorLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Optional;

/**
 * Recognises the segment layout of an embedding store, so that the tool reads whole values (vector,
 * norm, confidence and timestamp joined back in) without being told the dimension. Segments record their
 * columns but not the dimension; the bytes each row keeps in the value column do:
 * {@code [prefix][version][dimension i32][metadata length i32][metadata]}, with a prefix of 0 bytes
 * (plain embedding stores) or 8 (timestamped ones, whose values start with the record timestamp).
 */
final class EmbeddingColumns {
    /** What was recognised: the dimension, the prefix before each embedding, and the extension to read with. */
    record Layout(int dimension, int prefix, ColumnExtension columns) {
    }

    private EmbeddingColumns() {
    }

    /** The layout of a store whose segments carry the embedding columns, or empty for any other store. */
    static Optional<Layout> recognise(StoreSnapshot snapshot) {
        boolean vectors = snapshot.segments().stream()
                .anyMatch(s -> s.extraColumns().stream().anyMatch(c -> c.id() == EmbeddingFormat.COL_VECTORS));
        if (!vectors) {
            return Optional.empty();
        }
        Optional<byte[]> sample = snapshot.sampleStoredValue();
        if (sample.isEmpty()) {
            return Optional.empty();
        }
        byte[] stored = sample.get();
        for (int prefix : new int[] {0, 8}) {
            Optional<Layout> l = tryPrefix(snapshot, stored, prefix);
            if (l.isPresent()) {
                return l;
            }
        }
        return Optional.empty();
    }

    private static Optional<Layout> tryPrefix(StoreSnapshot snapshot, byte[] stored, int prefix) {
        if (stored.length < prefix + 9 || stored[prefix] != EmbeddingFormat.VERSION) {
            return Optional.empty();
        }
        ByteBuffer b = ByteBuffer.wrap(stored).order(ByteOrder.LITTLE_ENDIAN);
        int dim = b.getInt(prefix + 1);
        int metaLen = b.getInt(prefix + 5);
        if (dim < 1 || dim > VectorLayout.MAX_DIMENSION || metaLen < 0 || stored.length != prefix + 9 + metaLen) {
            return Optional.empty();
        }
        long rowBytes = VectorLayout.alignedRowBytes(dim);
        boolean fits = snapshot.segments().stream().allMatch(s -> s.extraColumns().stream()
                .filter(c -> c.id() == EmbeddingFormat.COL_VECTORS)
                .allMatch(c -> c.length() == s.rows() * rowBytes));
        if (!fits) {
            return Optional.empty();
        }
        return Optional.of(new Layout(dim, prefix, new EmbeddingFormat.Columns(dim, prefix)));
    }
}
