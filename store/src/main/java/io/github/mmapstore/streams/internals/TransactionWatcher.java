package io.github.mmapstore.streams.internals;

import java.util.Collections;
import java.util.Map;
import java.util.WeakHashMap;
import org.apache.kafka.streams.processor.StateStoreContext;

/**
 * Tells the stores of an active task when Kafka Streams has committed the task's transaction, where Kafka
 * does not commit the stores itself: exactly-once on Kafka Streams 4.3, or on 4.4 with
 * {@code enable.transactional.statestores} off (with it on, Kafka commits every store after each
 * transaction and this is not used).
 *
 * <p>Why: Kafka then commits the stores of a running task only at enforced checkpoints (revocation,
 * suspension, close), not at each transaction commit. A store that reopened at its last store commit after
 * a crash would replay everything since the last rebalance. A store may commit itself whenever everything
 * it holds is in committed transactions: that is true right after Kafka's post-commit step, before the
 * next write.
 *
 * <p>How: Kafka's post-commit step clears the task's processor-metadata "needs commit" flag
 * ({@code StreamTask.clearCommitStatuses}); nothing else clears it. The watcher sets the flag and counts
 * the times it finds it cleared again: each count is one completed commit. Setting the flag only makes
 * Kafka include every input partition in the offsets it commits, which is harmless. One watcher per task,
 * shared by its stores, so that one store re-setting the flag never hides a commit from another.
 */
final class TransactionWatcher {
    private static final Map<StateStoreContext, TransactionWatcher> WATCHERS = Collections.synchronizedMap(new WeakHashMap<>());

    private final KafkaLine kafka;
    private final StateStoreContext context;
    private long completedCommits;
    private boolean armed;

    private TransactionWatcher(KafkaLine kafka, StateStoreContext context) {
        this.kafka = kafka;
        this.context = context;
    }

    static TransactionWatcher of(KafkaLine kafka, StateStoreContext context) {
        return WATCHERS.computeIfAbsent(context, c -> new TransactionWatcher(kafka, c));
    }

    /**
     * The number of transaction commits observed so far. Called on the task's thread before a write;
     * every write made before a returned count changed belongs to a committed transaction.
     */
    synchronized long poll() {
        Boolean needed = kafka.takeNeedsCommit(context);
        if (needed == null) {
            return completedCommits;
        }
        if (!armed) {
            armed = true;
        } else if (!needed) {
            completedCommits++;
        }
        return completedCommits;
    }
}
