package io.github.mmapstore.examples.shared;

import java.util.Map;
import java.util.TreeMap;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * A {@link StateRestoreListener} that shows restores as they happen, on a {@link ProgressBar} that opens
 * when the first records are replayed (its total grows as more partitions start), and
 * keeps per-store totals for the report: partitions restored, records replayed, time from each
 * partition's restore start to its end (summed).
 */
public final class RestoreProgress implements StateRestoreListener {
    /** What one store restored. */
    public record StoreRestore(int partitions, long records, long nanos) {
    }

    private final Map<String, long[]> stores = new TreeMap<>();
    private final Map<TopicPartition, Long> started = new java.util.HashMap<>();
    private final String label;
    private ProgressBar bar;
    private long announced;

    public RestoreProgress(String label) {
        this.label = label;
    }

    @Override
    public synchronized void onRestoreStart(TopicPartition tp, String store, long startingOffset, long endingOffset) {
        started.put(tp, System.nanoTime());
        stores.computeIfAbsent(store, s -> new long[3])[0]++;
        long toReplay = Math.max(0, endingOffset - startingOffset);
        // an upper bound: the offsets include transaction markers, which are not records
        announced += toReplay;
        if (bar != null) {
            bar.addToTotal(toReplay);
        }
    }

    @Override
    public synchronized void onBatchRestored(TopicPartition tp, String store, long batchEndOffset, long numRestored) {
        if (bar == null && numRestored > 0) {
            // opened by the first records replayed: a restore of nothing but transaction markers shows no bar
            bar = new ProgressBar(label, announced, "records");
        }
        if (bar != null) {
            bar.step(numRestored);
        }
    }

    @Override
    public synchronized void onRestoreEnd(TopicPartition tp, String store, long totalRestored) {
        Long t = started.remove(tp);
        long[] s = stores.computeIfAbsent(store, x -> new long[3]);
        s[1] += totalRestored;
        s[2] += t == null ? 0 : System.nanoTime() - t;
    }

    @Override
    public synchronized void onRestoreSuspended(TopicPartition tp, String store, long totalRestored) {
        onRestoreEnd(tp, store, totalRestored);
    }

    /** Ends the progress bar (if one was shown) and answers what each store restored. */
    public synchronized Map<String, StoreRestore> finish() {
        if (bar != null) {
            bar.close();
            bar = null;
        }
        Map<String, StoreRestore> out = new TreeMap<>();
        stores.forEach((k, v) -> out.put(k, new StoreRestore((int) v[0], v[1], v[2])));
        return out;
    }

    /** Records replayed over all stores so far. */
    public synchronized long totalRecords() {
        return stores.values().stream().mapToLong(v -> v[1]).sum();
    }
}
