package io.github.mmapstore.vector;

import io.github.mmapstore.engine.ColumnExtension;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;

/**
 * The bytes of one embedding value, as the serde writes it, the changelog carries it and the log and
 * memtable keep it:
 *
 * <pre>
 * version u8 (=1) | dimension i32 | confidence f32 | timestamp i64 | vector: dimension x f32 | metadata length i32 | metadata
 * </pre>
 * all little-endian. In segment files the value is split into columns ({@link Columns}): the vectors in
 * one column with every row on a 64-byte boundary, a column of precomputed norms, one of confidences and
 * one of timestamps; the version, dimension and metadata stay in the value column.
 */
public final class EmbeddingFormat {
    public static final byte VERSION = 1;
    public static final int HEADER_BYTES = 1 + 4 + 4 + 8;
    public static final int VECTOR_OFFSET = HEADER_BYTES;

    public static final int COL_VECTORS = 100;
    public static final int COL_NORMS = 101;
    public static final int COL_CONFIDENCE = 102;
    public static final int COL_TIMESTAMP = 103;

    private static final ValueLayout.OfInt I32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong I64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfFloat F32 = VectorLayout.FLOAT_LE;

    private EmbeddingFormat() {
    }

    public static int encodedLength(int dimension, int metadataLength) {
        return HEADER_BYTES + 4 * dimension + 4 + metadataLength;
    }

    public static byte[] encode(float[] vector, float confidence, long timestamp, byte[] metadata) {
        byte[] meta = metadata == null ? new byte[0] : metadata;
        ByteBuffer b = ByteBuffer.allocate(encodedLength(vector.length, meta.length)).order(ByteOrder.LITTLE_ENDIAN);
        b.put(VERSION).putInt(vector.length).putFloat(confidence).putLong(timestamp);
        for (float f : vector) {
            b.putFloat(f);
        }
        b.putInt(meta.length).put(meta);
        return b.array();
    }

    /** Checks the framing of an encoded value and returns its dimension. */
    public static int check(byte[] value) {
        return check(value, 0);
    }

    /**
     * Checks the framing of an embedding that starts {@code offset} bytes into {@code value} (8 for
     * Kafka's timestamped values, whose first 8 bytes are the record timestamp) and returns its dimension.
     */
    public static int check(byte[] value, int offset) {
        if (offset > 0) {
            if (value == null || value.length < offset) {
                throw new IllegalArgumentException("not a timestamped embedding value: " + (value == null ? "null" : value.length + " bytes"));
            }
            return check(java.util.Arrays.copyOfRange(value, offset, value.length), 0);
        }
        if (value == null || value.length < HEADER_BYTES + 4) {
            throw new IllegalArgumentException("not an embedding value: " + (value == null ? "null" : value.length + " bytes"));
        }
        if (value[0] != VERSION) {
            throw new IllegalArgumentException("embedding value has format version " + value[0] + ", expected " + VERSION);
        }
        MemorySegment s = MemorySegment.ofArray(value);
        int dim = s.get(I32, 1);
        if (dim < 1 || dim > VectorLayout.MAX_DIMENSION || HEADER_BYTES + 4L * dim + 4 > value.length) {
            throw new IllegalArgumentException("embedding value has a bad dimension " + dim + " for " + value.length + " bytes");
        }
        int metaLen = s.get(I32, HEADER_BYTES + 4L * dim);
        if (metaLen < 0 || encodedLength(dim, metaLen) != value.length) {
            throw new IllegalArgumentException("embedding value has a bad metadata length " + metaLen);
        }
        return dim;
    }

    public static int dimension(byte[] value) {
        return MemorySegment.ofArray(value).get(I32, 1);
    }

    public static float confidence(byte[] value) {
        return confidence(value, 0);
    }

    public static long timestamp(byte[] value) {
        return timestamp(value, 0);
    }

    public static float confidence(byte[] value, int offset) {
        return MemorySegment.ofArray(value).get(F32, offset + 5);
    }

    public static long timestamp(byte[] value, int offset) {
        return MemorySegment.ofArray(value).get(I64, offset + 9);
    }

    public static float[] vector(byte[] value) {
        int dim = dimension(value);
        float[] v = new float[dim];
        MemorySegment.copy(MemorySegment.ofArray(value), F32, VECTOR_OFFSET, v, 0, dim);
        return v;
    }

    public static byte[] metadata(byte[] value) {
        int dim = dimension(value);
        MemorySegment s = MemorySegment.ofArray(value);
        int len = s.get(I32, HEADER_BYTES + 4L * dim);
        if (len < 0 || HEADER_BYTES + 4L * dim + 4 + len > value.length) {
            throw new IllegalArgumentException("embedding value of " + value.length + " bytes claims " + len
                    + " bytes of metadata after its " + dim + " floats");
        }
        byte[] out = new byte[len];
        MemorySegment.copy(s, ValueLayout.JAVA_BYTE, HEADER_BYTES + 4L * dim + 4, out, 0, len);
        return out;
    }

    /** Euclidean norm, accumulated in double so that it is as exact as a float can hold. */
    public static float norm(MemorySegment rows, long offset, int dimension) {
        double sum = 0;
        for (int i = 0; i < dimension; i++) {
            double x = rows.get(F32, offset + 4L * i);
            sum += x * x;
        }
        return (float) Math.sqrt(sum);
    }

    /** The segment layout of embedding values of one dimension. */
    public static final class Columns implements ColumnExtension {
        private final int dimension;
        private final int rowBytes;
        private final List<Column> columns;
        private final int prefix;

        public Columns(int dimension) {
            this(dimension, 0);
        }

        /** {@code prefix}: bytes before the embedding in each value (8 for Kafka's timestamped values). */
        public Columns(int dimension, int prefix) {
            if (prefix < 0) {
                throw new IllegalArgumentException("prefix must not be negative");
            }
            this.prefix = prefix;
            this.dimension = VectorValidation.checkDimension(dimension);
            this.rowBytes = (int) VectorLayout.alignedRowBytes(dimension);
            this.columns = List.of(
                    new Column(COL_VECTORS, rowBytes, VectorLayout.ROW_ALIGNMENT),
                    new Column(COL_NORMS, 4, 4),
                    new Column(COL_CONFIDENCE, 4, 4),
                    new Column(COL_TIMESTAMP, 8, 8));
        }

        public int dimension() {
            return dimension;
        }

        /** Bytes between consecutive rows of the vector column. */
        public int rowBytes() {
            return rowBytes;
        }

        @Override
        public List<Column> columns() {
            return columns;
        }

        @Override
        public int storedLength(byte[] value) {
            return value.length - 4 * dimension - 4 - 8;
        }

        @Override
        public byte[] split(byte[] value, ByteBuffer[] rowOut) {
            int dim = check(value, prefix);
            if (dim != dimension) {
                throw new IllegalArgumentException("embedding of dimension " + dim + " in a store of dimension " + dimension);
            }
            MemorySegment v = MemorySegment.ofArray(value);
            MemorySegment.copy(v, prefix + VECTOR_OFFSET, MemorySegment.ofBuffer(rowOut[0]), 0, 4L * dim);
            rowOut[1].putFloat(0, norm(v, prefix + VECTOR_OFFSET, dim));
            rowOut[2].putFloat(0, v.get(F32, prefix + 5));
            rowOut[3].putLong(0, v.get(I64, prefix + 9));
            // Kept: [prefix][version][dimension][metadata length][metadata]
            byte[] stored = new byte[storedLength(value)];
            System.arraycopy(value, 0, stored, 0, prefix + 5);
            System.arraycopy(value, prefix + HEADER_BYTES + 4 * dim, stored, prefix + 5, stored.length - prefix - 5);
            return stored;
        }

        @Override
        public byte[] join(byte[] stored, MemorySegment[] rowColumns) {
            byte[] out = new byte[stored.length + 4 * dimension + 4 + 8];
            MemorySegment o = MemorySegment.ofArray(out);
            System.arraycopy(stored, 0, out, 0, prefix + 5);
            o.set(F32, prefix + 5, rowColumns[2].get(F32, 0));
            o.set(I64, prefix + 9, rowColumns[3].get(I64, 0));
            MemorySegment.copy(rowColumns[0], 0, o, prefix + VECTOR_OFFSET, 4L * dimension);
            System.arraycopy(stored, prefix + 5, out, prefix + HEADER_BYTES + 4 * dimension, stored.length - prefix - 5);
            return out;
        }
    }
}
