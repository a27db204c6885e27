/**
 * Similarity kernels for embedding columns: dot product, squared Euclidean distance and cosine over
 * float32 little-endian rows read in place from a {@link java.lang.foreign.MemorySegment} (a mapped
 * segment file, an arena, or a {@code byte[]}-backed heap segment), plus bounded top-k selection and
 * the validation every stored vector goes through. Knows nothing of Kafka.
 *
 * <p>Entry point: {@link io.github.mmapstore.vector.VectorKernels#best()}, chosen once per JVM: the
 * Vector API kernels ({@code SimdKernels}) when the JVM was started with
 * {@code --add-modules jdk.incubator.vector}, otherwise a scalar fallback ({@code ScalarKernels}); one
 * log line says which path runs. Row layout: {@link io.github.mmapstore.vector.VectorLayout}.
 */
package io.github.mmapstore.vector;
