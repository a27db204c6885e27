package io.github.mmapstore.vector;

import java.lang.foreign.MemorySegment;
import java.util.Optional;

/**
 * Similarity kernels over float32 little-endian rows read in place from a {@link MemorySegment}: no
 * row is copied onto the heap. Two implementations: {@code SimdKernels} (the Vector API,
 * {@code jdk.incubator.vector}, at the CPU's widest float species) and {@code ScalarKernels} (plain
 * Java, always available). {@link #best()} picks one once per JVM and logs which.
 *
 * <h2>Arguments</h2>
 * <ul>
 *   <li>A <em>row</em> is {@code dimension} consecutive float32 LE values at a byte offset in a segment;
 *       the dimension of a {@code float[]} query is its length. Offsets need not be aligned (aligned
 *       rows, see {@link VectorLayout}, are faster). Rows may live in any segment: mapped files, arenas,
 *       or heap segments (e.g. a memtable's {@code byte[]}).</li>
 *   <li>Batched forms score {@code rowCount} rows starting at {@code firstRowOffset}, row {@code r} at
 *       {@code firstRowOffset + r * rowStride}, writing row {@code r}'s score to
 *       {@code scores[scoresOffset + r]}. They check every bound before writing anything.</li>
 *   <li>Multi-query forms score every query against every row of such a block, reading each row from
 *       memory once (rows outer, queries inner, four queries per pass over a row), writing query
 *       {@code q}'s score for row {@code r} to {@code scores[q][scoresOffset + r]}.</li>
 *   <li>Cosine takes precomputed norms (see {@link #norm}): {@code cosine = dot / queryNorm / rowNorm};
 *       batched cosine reads row norms from a float32 LE column, norm of row {@code r} at
 *       {@code normsOffset + 4 * r}.</li>
 * </ul>
 *
 * <h2>Values</h2>
 * Scores are float sums in an implementation-defined order, so SIMD and scalar agree closely but not
 * bit for bit (the tests hold both within {@code 1e-4} of a double-precision reference, relative to
 * {@code sum |a_i * b_i|}). A batched score equals the one-row kernel's score for that row exactly. The kernels do not validate
 * components: they follow IEEE 754, so a NaN component yields a NaN score, an infinite one an infinite
 * or NaN score, and cosine against a zero norm yields NaN or an infinity. Stored vectors and queries are
 * meant to pass {@link VectorValidation} first, which rejects all of those.
 */
public sealed interface VectorKernels permits SimdKernels, ScalarKernels {

    /** The JVM flag that makes the SIMD kernels available. */
    String ENABLE_FLAG = "--add-modules jdk.incubator.vector";

    /**
     * System property: {@code auto} (default: SIMD when available) or {@code scalar} (force the
     * fallback, e.g. to compare).
     */
    String KERNELS_PROPERTY = "mmapstore.vector.kernels";

    /**
     * The kernels this JVM uses, chosen on first call: SIMD when {@code jdk.incubator.vector} is in the
     * boot layer and the preferred float species has at least 4 lanes, scalar otherwise. Logs one line
     * (SLF4J, logger {@code io.github.mmapstore.vector.VectorKernels}) saying which path runs, with the
     * species width, or for the scalar path the flag that enables SIMD.
     */
    static VectorKernels best() {
        return KernelSelector.BEST;
    }

    /** The scalar kernels, always available. */
    static VectorKernels scalar() {
        return ScalarKernels.INSTANCE;
    }

    /** The SIMD kernels, if this JVM can run them (no logging). */
    static Optional<VectorKernels> simd() {
        return KernelSelector.simd();
    }

    /** A short human-readable name, e.g. {@code "SIMD 512-bit (16 float lanes)"} or {@code "scalar"}. */
    String description();

    /** Whether these are the Vector API kernels. */
    boolean isSimd();

    /** Float lanes per vector operation (1 for scalar). */
    int lanes();

    // ---- one query, one row ----

    /** Dot product of {@code query} with the row of {@code query.length} floats at {@code rowOffset}. */
    float dot(float[] query, MemorySegment rows, long rowOffset);

    /** Dot product of two rows of {@code dimension} floats. */
    float dot(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int dimension);

    /** Squared Euclidean distance between {@code query} and a row. */
    float squaredL2(float[] query, MemorySegment rows, long rowOffset);

    /** Squared Euclidean distance between two rows. */
    float squaredL2(MemorySegment a, long aOffset, MemorySegment b, long bOffset, int dimension);

    /** Euclidean norm of a vector: {@code sqrt(dot(v, v))}. */
    float norm(float[] vector);

    /** Euclidean norm of a row. */
    float norm(MemorySegment rows, long rowOffset, int dimension);

    /** Cosine similarity from precomputed norms: {@code dot(query, row) / queryNorm / rowNorm}. */
    default float cosine(float[] query, float queryNorm, MemorySegment rows, long rowOffset, float rowNorm) {
        return Args.cosine(dot(query, rows, rowOffset), queryNorm, rowNorm);
    }

    /** Cosine similarity of two rows from precomputed norms. */
    default float cosine(MemorySegment a, long aOffset, float aNorm, MemorySegment b, long bOffset, float bNorm,
                         int dimension) {
        return Args.cosine(dot(a, aOffset, b, bOffset, dimension), aNorm, bNorm);
    }

    // ---- one query, a block of rows ----

    /** Dot product of {@code query} with each of {@code rowCount} rows (see the class comment). */
    void dotBatch(float[] query, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount,
                  float[] scores, int scoresOffset);

    /** Squared Euclidean distance of {@code query} to each of {@code rowCount} rows. */
    void squaredL2Batch(float[] query, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount,
                        float[] scores, int scoresOffset);

    /** Cosine similarity of {@code query} with each of {@code rowCount} rows, row norms from a column. */
    void cosineBatch(float[] query, float queryNorm, MemorySegment rows, long firstRowOffset, long rowStride,
                     int rowCount, MemorySegment norms, long normsOffset, float[] scores, int scoresOffset);

    // ---- many queries, a block of rows (similarity joins) ----

    /** Dot product of every query with every row; all queries have the same dimension. */
    void dotMulti(float[][] queries, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount,
                  float[][] scores, int scoresOffset);

    /** Squared Euclidean distance of every query to every row. */
    void squaredL2Multi(float[][] queries, MemorySegment rows, long firstRowOffset, long rowStride, int rowCount,
                        float[][] scores, int scoresOffset);

    /** Cosine similarity of every query with every row; {@code queryNorms[q]} is query {@code q}'s norm. */
    void cosineMulti(float[][] queries, float[] queryNorms, MemorySegment rows, long firstRowOffset,
                     long rowStride, int rowCount, MemorySegment norms, long normsOffset, float[][] scores,
                     int scoresOffset);
}
