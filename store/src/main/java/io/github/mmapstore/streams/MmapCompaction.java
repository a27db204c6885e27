package io.github.mmapstore.streams;

import io.github.mmapstore.streams.internals.StoreCore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.Punctuator;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.ProcessingContext;

/**
 * Compaction from a punctuation, for Processor API users. Call it in {@code init}:
 *
 * <pre>{@code
 * public void init(ProcessorContext<K, V> context) {
 *     this.store = context.getStateStore("counts");
 *     MmapCompaction.schedule(context, Duration.ofMillis(100), Duration.ofMillis(5), "counts");
 * }
 * }</pre>
 *
 * <p>Every {@code interval} of wall-clock time each named MmapStore runs one compaction step of about
 * {@code budget} (larger when the store has seen no write for {@code mmapstore.compaction.idle.after.ms},
 * smaller under a heavy write load; see {@code mmapstore.compaction.*}). Wall-clock punctuations fire
 * even when no record arrives, so an idle task catches up with its compaction, which commits alone
 * cannot do (Kafka commits only tasks that processed something). Once a punctuator steps a store,
 * commits no longer do. Stores that are not MmapStores are ignored, so the same processor works over
 * Kafka's stores too.
 */
public final class MmapCompaction {
    private MmapCompaction() {
    }

    /**
     * Schedules one compaction step per {@code interval} (wall-clock) for each named store, each step
     * within about {@code budget}.
     *
     * @return the schedule; cancel it to stop (commits do not take over again)
     */
    public static Cancellable schedule(ProcessingContext context, Duration interval, Duration budget, String... storeNames) {
        Objects.requireNonNull(context, "context cannot be null");
        Objects.requireNonNull(interval, "interval cannot be null");
        if (interval.isZero() || interval.isNegative()) {
            throw new IllegalArgumentException("compaction interval must be positive, was " + interval);
        }
        return context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, punctuator(context, budget, storeNames));
    }

    /**
     * The punctuator that {@link #schedule} registers, for callers that schedule it themselves (stream
     * time, or together with their own work).
     */
    public static Punctuator punctuator(ProcessingContext context, Duration budget, String... storeNames) {
        Objects.requireNonNull(context, "context cannot be null");
        Objects.requireNonNull(budget, "budget cannot be null");
        Objects.requireNonNull(storeNames, "storeNames cannot be null");
        if (budget.isNegative()) {
            throw new IllegalArgumentException("compaction budget must not be negative, was " + budget);
        }
        if (storeNames.length == 0) {
            throw new IllegalArgumentException("name at least one store to compact");
        }
        List<String> names = List.of(storeNames);
        return timestamp -> {
            for (StoreCore core : cores(context, names)) {
                core.punctuatedCompactionStep(budget);
            }
        };
    }

    /** The MmapStores among {@code names}, looked up in the context at each punctuation. */
    private static List<StoreCore> cores(ProcessingContext context, List<String> names) {
        List<StoreCore> out = new ArrayList<>(names.size());
        for (String name : names) {
            StateStore s = context.getStateStore(name);
            if (s == null) {
                throw new IllegalArgumentException("no state store named " + name + " is connected to this processor");
            }
            StoreCore core = StoreCore.coreOf(s);
            if (core != null && core.engineOpen()) {
                out.add(core);
            }
        }
        return out;
    }
}
