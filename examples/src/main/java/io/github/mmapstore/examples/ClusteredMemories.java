package io.github.mmapstore.examples;

import io.github.mmapstore.streams.Embedding;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

/**
 * The similarity-join example's data: synthetic "memories" (as an assistant's long-term memory might hold,
 * one embedding per remembered item) that fall into known clusters, and queries drawn near those clusters.
 * A cluster is a random centroid (each component standard normal); a memory or a query is its cluster's
 * centroid plus Gaussian noise of standard deviation {@code spread} per component. With spread 1 a point
 * is as far from its centroid as the centroid is from the origin, yet in 64 dimensions the clusters stay
 * well apart: the nearest memories of a query are almost all from its cluster, and precision@k says how
 * far "almost" is. Everything is derived from the seed.
 */
final class ClusteredMemories {
    static final List<String> THEMES = List.of("travel", "cooking", "music", "family", "work", "health", "books",
            "films", "sport", "garden", "finance", "pets", "cars", "weather", "friends", "coding", "art", "games",
            "history", "science", "fashion", "housing", "school", "shopping");

    final int dimensions;
    final int clusters;
    final float[][] memories;
    final int[] memoryCluster;
    final float[][] queries;
    final int[] queryCluster;
    private final double[][] unitMemories;

    private ClusteredMemories(int dimensions, int clusters, int nMemories, int nQueries) {
        this.dimensions = dimensions;
        this.clusters = clusters;
        this.memories = new float[nMemories][];
        this.memoryCluster = new int[nMemories];
        this.queries = new float[nQueries][];
        this.queryCluster = new int[nQueries];
        this.unitMemories = new double[nMemories][];
    }

    static ClusteredMemories generate(int nMemories, int nQueries, int clusters, int dimensions, double spread, long seed) {
        Random rnd = new Random(seed);
        ClusteredMemories d = new ClusteredMemories(dimensions, clusters, nMemories, nQueries);
        float[][] centroids = new float[clusters][dimensions];
        for (float[] c : centroids) {
            for (int i = 0; i < dimensions; i++) {
                c[i] = (float) rnd.nextGaussian();
            }
        }
        for (int m = 0; m < nMemories; m++) {
            int c = rnd.nextInt(clusters);
            d.memoryCluster[m] = c;
            d.memories[m] = near(centroids[c], spread, rnd);
            d.unitMemories[m] = unit(d.memories[m]);
        }
        for (int q = 0; q < nQueries; q++) {
            int c = rnd.nextInt(clusters);
            d.queryCluster[q] = c;
            d.queries[q] = near(centroids[c], spread, rnd);
        }
        return d;
    }

    private static float[] near(float[] centroid, double spread, Random rnd) {
        float[] v = new float[centroid.length];
        for (int i = 0; i < v.length; i++) {
            v[i] = centroid[i] + (float) (spread * rnd.nextGaussian());
        }
        return v;
    }

    private static double[] unit(float[] v) {
        double n = 0;
        for (float f : v) {
            n += (double) f * f;
        }
        n = Math.sqrt(n);
        double[] u = new double[v.length];
        for (int i = 0; i < v.length; i++) {
            u[i] = v[i] / n;
        }
        return u;
    }

    static String memoryKey(int m) {
        return String.format(Locale.ROOT, "m-%07d", m);
    }

    static int memoryIndex(String key) {
        return Integer.parseInt(key.substring(2));
    }

    static String queryKey(int q) {
        return String.format(Locale.ROOT, "q-%06d", q);
    }

    static int queryIndex(String key) {
        return Integer.parseInt(key.substring(2));
    }

    String clusterName(int c) {
        return c < THEMES.size() ? THEMES.get(c) : "theme-" + c;
    }

    /** Memory {@code m} as stored: its vector, its cluster's name as metadata, {@code timestamp}. */
    Embedding memory(int m, long timestamp) {
        return new Embedding(memories[m], 1.0f, timestamp, clusterName(memoryCluster[m]).getBytes(StandardCharsets.UTF_8));
    }

    /** Query {@code q} as sent: only its vector (its cluster is what the example checks against). */
    Embedding query(int q, long timestamp) {
        return new Embedding(queries[q], 1.0f, timestamp, new byte[0]);
    }

    /** One entry of an exact answer. */
    record Scored(int memory, double score) {
    }

    /** Cosine of query vector {@code q} and memory {@code m}, in double precision. */
    double cosine(float[] q, int m) {
        double[] uq = unit(q);
        double dot = 0;
        double[] um = unitMemories[m];
        for (int i = 0; i < dimensions; i++) {
            dot += uq[i] * um[i];
        }
        return dot;
    }

    /**
     * The exact top {@code k} memories by cosine, by a plain loop over every memory in double precision:
     * best score first, then the smaller key (what the store's ranking does on equal scores).
     */
    List<Scored> bruteForce(float[] q, int k) {
        double[] uq = unit(q);
        int[] best = new int[k];
        double[] score = new double[k];
        int n = 0;
        for (int m = 0; m < unitMemories.length; m++) {
            double[] um = unitMemories[m];
            double dot = 0;
            for (int i = 0; i < dimensions; i++) {
                dot += uq[i] * um[i];
            }
            if (n == k && dot <= score[k - 1]) {
                continue; // keys ascend with m: on a tie the earlier memory stays ahead
            }
            int at = n < k ? n++ : k - 1;
            while (at > 0 && score[at - 1] < dot) {
                score[at] = score[at - 1];
                best[at] = best[at - 1];
                at--;
            }
            score[at] = dot;
            best[at] = m;
        }
        List<Scored> top = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            top.add(new Scored(best[i], score[i]));
        }
        return top;
    }
}
