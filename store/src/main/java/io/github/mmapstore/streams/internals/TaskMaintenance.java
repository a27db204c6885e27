package io.github.mmapstore.streams.internals;

import io.github.mmapstore.engine.CorruptionException;
import io.github.mmapstore.streams.MmapCompaction;
import java.time.Duration;
import java.util.Collections;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.streams.errors.StreamsException;
import org.apache.kafka.streams.errors.TaskCorruptedException;
import org.apache.kafka.streams.errors.TaskMigratedException;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A task's maintenance punctuation: gets the task rebuilt when one of its MmapStores is found damaged,
 * whichever thread found it, and gives its stores compaction steps while the task sees no input.
 *
 * <p>Compaction: DSL stores step at each commit, and Kafka commits a task only after it processed
 * something, so an idle store would never finish its merges (nor return space). The punctuation runs one
 * paced step per store (see {@link CompactionPacer}: after a while without writes, the step is the larger
 * idle budget). Stores that a {@link MmapCompaction} punctuator steps are left to it.
 *
 * <p>Why: a checksum failure stops the store's engine and leaves a note that quarantines the files at the
 * next open, after which Kafka Streams restores the store from its changelog. But only the task's own
 * thread can make Kafka Streams close and reopen the task, and only by throwing from a call Kafka makes on
 * that thread. When an Interactive Queries read finds the damage and the task then sees no input, nothing
 * would ever reopen it. So the task's first store, when Kafka initialises it on the task's thread, schedules a
 * wall-clock punctuation that looks at the task's stores; the stores' own writes and reads on that thread
 * look too. A punctuation needs a processor node to run under; no processor of the topology is at hand
 * while stores initialise, so the watch schedules under a node of its own that processes nothing. Each
 * punctuation marks the task as needing a commit, so an idle task commits once per interval.
 *
 * <p>What is thrown decides what Kafka Streams does, and must never let a wrong result out:
 * <ul>
 * <li>at-least-once: {@link TaskCorruptedException} for this task. Kafka commits the other tasks, closes this
 *     one without committing and reopens it; duplicates are allowed.</li>
 * <li>exactly-once: {@link TaskMigratedException}. Every task of a stream thread writes into one transaction,
 *     and Kafka's handling of a corrupted task commits that transaction for the others, which would commit
 *     this task's output since its last commit without its input offsets: a duplicate. Task migration
 *     instead aborts the transaction and closes all the thread's tasks without committing; Kafka Streams
 *     then wipes and restores them (the cost of a crash under exactly-once, paid only on damage).</li>
 * </ul>
 *
 * <p>One per task (stores of a task share it), kept for as long as the task's context lives.
 */
final class TaskMaintenance {
    private static final Logger LOG = LoggerFactory.getLogger(TaskMaintenance.class);
    private static final Map<StateStoreContext, TaskMaintenance> WATCHES = Collections.synchronizedMap(new WeakHashMap<>());

    private final KafkaLine kafka;
    private final StateStoreContext context;
    private final boolean exactlyOnce;
    private final Duration interval;
    private final Set<StoreCore> stores = ConcurrentHashMap.newKeySet();
    private volatile Thread taskThread;
    private Cancellable schedule;
    // set when the context cannot schedule punctuations (contexts of test kits)
    private boolean unschedulable;

    private TaskMaintenance(KafkaLine kafka, StateStoreContext context, boolean exactlyOnce, Duration interval) {
        this.kafka = kafka;
        this.context = context;
        this.exactlyOnce = exactlyOnce;
        this.interval = interval;
    }

    /** The task's watch, created by its first store; {@code interval} of the first store wins. */
    static TaskMaintenance of(KafkaLine kafka, StateStoreContext context, boolean exactlyOnce, Duration interval) {
        return WATCHES.computeIfAbsent(context, c -> new TaskMaintenance(kafka, c, exactlyOnce, interval));
    }

    /** Called when Kafka initialises one of the task's stores (on the task's thread): watches it. */
    void register(StoreCore store) {
        stores.add(store);
        scheduleOnce();
    }

    private synchronized void scheduleOnce() {
        if (schedule != null || unschedulable) {
            return;
        }
        schedule = kafka.scheduleMaintenance(context, interval, now -> check());
        // contexts of test kits cannot schedule: the stores' own calls still look
        unschedulable = schedule == null;
    }

    /** A store closed: it is no longer watched; the last one to close stops the punctuation. */
    void unregister(StoreCore store) {
        stores.remove(store);
        if (stores.isEmpty()) {
            synchronized (this) {
                if (schedule != null) {
                    schedule.cancel();
                    schedule = null;
                }
            }
            WATCHES.remove(context, this);
        }
    }

    /** Called before each write on the task's thread: remembers which thread that is. */
    void onTaskThread() {
        if (taskThread == null) {
            taskThread = Thread.currentThread();
        }
    }

    /**
     * Whether the caller runs on the task's thread (where throwing makes Kafka rebuild the task): the
     * thread of its writes, or before the first write (a read first, as an aggregation's get), a stream
     * thread; Interactive Queries come from the application's own threads.
     */
    boolean onTaskThreadNow() {
        Thread current = Thread.currentThread();
        return current == taskThread || (taskThread == null && kafka.isStreamThread(current));
    }

    /** The punctuation: rebuilds the task if any of its stores was found damaged since the last look. */
    private void check() {
        if (stores.isEmpty()) {
            return;
        }
        for (StoreCore store : stores) {
            CorruptionException damage = store.damage();
            if (damage != null) {
                throw rebuild(store.name(), damage);
            }
        }
        for (StoreCore store : stores) {
            store.maintenanceTick();
            store.maintenanceCompactionStep();
        }
    }

    /** The exception that makes Kafka Streams close this task without committing and rebuild the store. */
    StreamsException rebuild(String storeName, CorruptionException damage) {
        LOG.error("MmapStore {} in task {} is damaged ({}); {} so that Kafka Streams reopens it and restores it "
                        + "from its changelog", storeName, context.taskId(), damage.getMessage(),
                exactlyOnce ? "aborting the thread's transaction and closing its tasks" : "closing the task without committing");
        if (exactlyOnce) {
            return new TaskMigratedException("MmapStore " + storeName + " in task " + context.taskId()
                    + " is damaged and must be rebuilt from its changelog: " + damage.getMessage(), damage);
        }
        return new TaskCorruptedException(Set.of(context.taskId()));
    }
}
