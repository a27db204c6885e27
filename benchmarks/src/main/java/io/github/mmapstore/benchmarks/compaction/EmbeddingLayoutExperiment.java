package io.github.mmapstore.benchmarks.compaction;

import io.github.mmapstore.benchmarks.Dirs;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.streams.KnnQuery;
import io.github.mmapstore.streams.KnnResult;
import io.github.mmapstore.streams.MmapEmbeddingStore;
import io.github.mmapstore.streams.MmapEmbeddingStoreSupplier;
import io.github.mmapstore.streams.Similarity;
import io.github.mmapstore.vector.EmbeddingFormat;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.SplittableRandom;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;

/**
 * What compaction does for embedding scans, and whether grouping similar vectors would pay (issue 7).
 *
 * <ol>
 *   <li><b>Layout</b>: an embedding store written in random key order with 30 % of its keys overwritten,
 *       flushed into many segments, is searched (exact top-10) before and after it is compacted to one
 *       segment, whose vector column is one contiguous aligned run scanned without key comparisons.</li>
 *   <li><b>Grouping</b>: would ordering rows by cluster let an exact top-k search skip work? With rows
 *       grouped by k-means cluster and each cluster's centroid and radius stored, a search could skip a
 *       cluster whose upper bound {@code q·c + |q| r} is below the current k-th best score. This measures,
 *       over the exact answers, the fraction of rows such a bound would skip, on clustered data
 *       (mixture of Gaussians around random unit centres, as real embeddings are) and on uniform data.</li>
 * </ol>
 */
public final class EmbeddingLayoutExperiment {
    static final int K = 10;

    /** The store with its engine reachable (the accessor is protected). */
    static final class Store extends MmapEmbeddingStore {
        Store(int dimension) {
            super("vectors", MmapEmbeddingStoreSupplier.METRICS_SCOPE, dimension, Similarity.DOT_PRODUCT);
        }

        StoreEngine engine() {
            return engineForSubclasses();
        }
    }

    public static void main(String[] args) throws IOException {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
        int dim = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        Path work = Path.of(args.length > 2 ? args[2] : "benchmarks/work");
        Files.createDirectories(work);
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%,d vectors of %d floats, dot product, exact top-%d%n%n", n, dim, K));

        float[][] clustered = clustered(n, dim, 100, 0.35, new SplittableRandom(1));
        out.append(layout(clustered, dim, work));
        out.append('\n');
        out.append(grouping("clustered (100 Gaussian clusters, noise 0.35 per unit norm)", clustered, 64, new SplittableRandom(3)));
        float[][] uniform = uniform(n, dim, new SplittableRandom(2));
        out.append(grouping("uniform on the sphere", uniform, 64, new SplittableRandom(4)));
        System.out.print(out);
    }

    // =============================================================================================
    // Layout: many segments vs one compacted segment

    static String layout(float[][] data, int dim, Path work) throws IOException {
        Path dir = Files.createTempDirectory(work, "embedding-layout-");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "embedding-layout");
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put("mmapstore.fsync", "false");
        props.put("mmapstore.memtable.bytes", String.valueOf(16 << 20));
        props.put("mmapstore.compaction.budget.ms", "0");
        MockProcessorContext<Object, Object> ctx = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
        Store store = new Store(dim);
        store.init(ctx.getStateStoreContext(), store);
        try {
            int n = data.length;
            SplittableRandom rnd = new SplittableRandom(9);
            List<KeyValue<Bytes, byte[]>> batch = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                batch.add(KeyValue.pair(key(i), EmbeddingFormat.encode(data[i], 1f, i, null)));
                if (batch.size() == 1000) {
                    store.putAll(batch);
                    batch.clear();
                }
            }
            // Overwrite 30 % of the keys (the new vector is another row's): shadowed rows in older segments.
            for (int j = 0; j < n * 3 / 10; j++) {
                int i = rnd.nextInt(n);
                int from = rnd.nextInt(n);
                data[i] = data[from];
                batch.add(KeyValue.pair(key(i), EmbeddingFormat.encode(data[i], 1f, i, null)));
                if (batch.size() == 1000) {
                    store.putAll(batch);
                    batch.clear();
                }
            }
            store.putAll(batch);
            store.engine().flush();
            store.commit(Map.of());
            int segments = store.engine().stats().segments();
            float[][] queries = new float[15][];
            for (int q = 0; q < queries.length; q++) {
                queries[q] = data[rnd.nextInt(n)].clone();
            }
            double before = medianSearchMillis(store, queries);
            KnnResult r1 = store.search(KnnQuery.nearest(queries[0], K));
            store.engine().compactFully();
            store.commit(Map.of());
            double after = medianSearchMillis(store, queries);
            KnnResult r2 = store.search(KnnQuery.nearest(queries[0], K));
            if (!r1.matches().stream().map(KnnResult.Match::score).toList()
                    .equals(r2.matches().stream().map(KnnResult.Match::score).toList())) {
                throw new IllegalStateException("compaction changed a search result");
            }
            double mb = (double) data.length * dim * 4 / 1e6;
            return String.format(Locale.ROOT, "Layout: %d segments (30 %% of keys overwritten) → search median %.1f ms (%.2f GB/s of live vectors); "
                            + "after compaction, 1 segment → %.1f ms (%.2f GB/s); ratio %.2f×%n",
                    segments, before, mb / before, after, mb / after, before / after);
        } finally {
            store.close();
            Dirs.deleteRecursively(dir);
        }
    }

    static double medianSearchMillis(Store store, float[][] queries) {
        for (int w = 0; w < 3; w++) {
            store.search(KnnQuery.nearest(queries[w % queries.length], K));
        }
        double[] t = new double[queries.length];
        for (int q = 0; q < queries.length; q++) {
            long t0 = System.nanoTime();
            store.search(KnnQuery.nearest(queries[q], K));
            t[q] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(t);
        return t[t.length / 2];
    }

    static Bytes key(int i) {
        return Bytes.wrap(ByteBuffer.allocate(8).putLong(CompactionBenchmark.mix(i)).array());
    }

    // =============================================================================================
    // Grouping: how much of an exact scan could a per-cluster bound skip?

    static String grouping(String label, float[][] data, int clusters, SplittableRandom rnd) {
        int n = data.length;
        int dim = data[0].length;
        float[][] c = kmeans(data, clusters, 8, rnd);
        int[] assign = new int[n];
        double[] radius = new double[clusters];
        int[] size = new int[clusters];
        for (int i = 0; i < n; i++) {
            int best = nearest(c, data[i]);
            assign[i] = best;
            size[best]++;
            radius[best] = Math.max(radius[best], Math.sqrt(dist2(c[best], data[i])));
        }
        int queries = 40;
        double skippedSum = 0;
        double minSkipped = 1;
        for (int q = 0; q < queries; q++) {
            float[] query = perturb(data[rnd.nextInt(n)], 0.2, rnd);
            double[] scores = new double[n];
            for (int i = 0; i < n; i++) {
                scores[i] = dot(query, data[i]);
            }
            double[] sorted = scores.clone();
            Arrays.sort(sorted);
            double kth = sorted[n - K];
            double qn = Math.sqrt(dot(query, query));
            long skipped = 0;
            for (int j = 0; j < clusters; j++) {
                double bound = dot(query, c[j]) + qn * radius[j];
                if (bound < kth) {
                    skipped += size[j];
                }
            }
            double f = (double) skipped / n;
            skippedSum += f;
            minSkipped = Math.min(minSkipped, f);
        }
        return String.format(Locale.ROOT, "Grouping, %s: k-means %d clusters (8 rounds), rows an exact top-%d could skip with a "
                        + "centroid+radius bound, even knowing the final k-th score up front: mean %.1f %%, worst query %.1f %% (dim %d)%n",
                label, clusters, K, 100 * skippedSum / queries, 100 * minSkipped, dim);
    }

    static float[][] kmeans(float[][] data, int k, int rounds, SplittableRandom rnd) {
        int dim = data[0].length;
        int sample = Math.min(data.length, 20_000);
        float[][] s = new float[sample][];
        for (int i = 0; i < sample; i++) {
            s[i] = data[rnd.nextInt(data.length)];
        }
        float[][] c = new float[k][];
        for (int j = 0; j < k; j++) {
            c[j] = s[rnd.nextInt(sample)].clone();
        }
        for (int r = 0; r < rounds; r++) {
            double[][] sum = new double[k][dim];
            int[] cnt = new int[k];
            for (float[] x : s) {
                int j = nearest(c, x);
                cnt[j]++;
                for (int d = 0; d < dim; d++) {
                    sum[j][d] += x[d];
                }
            }
            for (int j = 0; j < k; j++) {
                if (cnt[j] > 0) {
                    for (int d = 0; d < dim; d++) {
                        c[j][d] = (float) (sum[j][d] / cnt[j]);
                    }
                }
            }
        }
        return c;
    }

    static int nearest(float[][] c, float[] x) {
        int best = 0;
        double bd = Double.MAX_VALUE;
        for (int j = 0; j < c.length; j++) {
            double d = dist2(c[j], x);
            if (d < bd) {
                bd = d;
                best = j;
            }
        }
        return best;
    }

    static double dist2(float[] a, float[] b) {
        double s = 0;
        for (int d = 0; d < a.length; d++) {
            double x = a[d] - b[d];
            s += x * x;
        }
        return s;
    }

    static double dot(float[] a, float[] b) {
        double s = 0;
        for (int d = 0; d < a.length; d++) {
            s += a[d] * b[d];
        }
        return s;
    }

    // =============================================================================================
    // Data

    static float[][] clustered(int n, int dim, int centres, double noise, SplittableRandom rnd) {
        float[][] c = uniform(centres, dim, rnd);
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            out[i] = perturb(c[rnd.nextInt(centres)], noise, rnd);
        }
        return out;
    }

    /** {@code v} plus Gaussian noise of total norm about {@code noise}, normalised. */
    static float[] perturb(float[] v, double noise, SplittableRandom rnd) {
        int dim = v.length;
        float[] x = new float[dim];
        double sd = noise / Math.sqrt(dim);
        for (int d = 0; d < dim; d++) {
            x[d] = (float) (v[d] + gaussian(rnd) * sd);
        }
        return normalise(x);
    }

    static float[][] uniform(int n, int dim, SplittableRandom rnd) {
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            float[] x = new float[dim];
            for (int d = 0; d < dim; d++) {
                x[d] = (float) gaussian(rnd);
            }
            out[i] = normalise(x);
        }
        return out;
    }

    static float[] normalise(float[] x) {
        double s = Math.sqrt(dot(x, x));
        for (int d = 0; d < x.length; d++) {
            x[d] = (float) (x[d] / s);
        }
        return x;
    }

    static double gaussian(SplittableRandom rnd) {
        double u = 1 - rnd.nextDouble();
        double v = rnd.nextDouble();
        return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    }
}
