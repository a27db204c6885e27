package io.github.mmapstore.streams;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.function.Function;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.processor.Cancellable;
import org.apache.kafka.streams.processor.PunctuationType;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.api.FixedKeyProcessor;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorContext;
import org.apache.kafka.streams.processor.api.FixedKeyProcessorSupplier;
import org.apache.kafka.streams.processor.api.FixedKeyRecord;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.ProcessorSupplier;
import org.apache.kafka.streams.processor.api.Record;

/**
 * A similarity join: each record of a stream of queries is enriched with its top-k matches in an
 * embedding store ({@link MmapStores#embeddingStore}) connected to the processor. Ready to plug in as a
 * {@link FixedKeyProcessorSupplier} ({@code stream.processValues(join.fixedKey(), storeName)}) or a
 * {@link ProcessorSupplier} ({@code stream.process(join.processor(), storeName)}, or
 * {@code topology.addProcessor(...)} and {@code connectProcessorAndStateStores}); {@link EmbeddingJoins}
 * wraps it for {@code KStream}s.
 *
 * <p>The store is searched through the public store API ({@link EmbeddingSearch}): Kafka's metered
 * wrapper hands the {@link KnnQuery} to the embedding store unchanged, so the join runs in the stream
 * thread, on the task's own partition of the store, with no copy of the data and no remote call. Key and
 * value of the query record are kept; the output value is {@code joiner.apply(queryValue, result)}; the
 * output record keeps the query record's timestamp and headers. Records whose value is null, or for
 * which {@code toQuery} returns null, are dropped.
 *
 * <h2>Which writes a query sees</h2>
 * <ul>
 *   <li><b>Unbatched</b> (default): a query is answered while its record is processed, so it sees every
 *       write the task made to the store before it: the embeddings of all records processed earlier by
 *       this task (in Kafka Streams' record order), none processed later.</li>
 *   <li><b>Batched</b> ({@link #batched(Duration, int)}): queries are buffered and answered together,
 *       {@link KnnBatchQuery one pass over the store for the whole batch}, when the buffer holds
 *       {@code maxQueries} queries (at that record) or when the wall-clock punctuation fires every
 *       {@code interval}, whichever comes first. Every query of a batch sees the store as it is at that
 *       moment: the writes made up to the punctuation (or up to the record that filled the batch),
 *       including embeddings written <em>after</em> the query's own record was processed. The results
 *       are forwarded in arrival order with each query record's own timestamp and headers (the output
 *       is therefore not in timestamp order with other output of the task, and it is delayed by up to
 *       {@code interval}).</li>
 * </ul>
 *
 * <h2>Delivery of buffered queries</h2>
 * The batch buffer is in memory. Kafka Streams may commit the input offsets of buffered queries before
 * their batch runs; if the instance then dies (or the task migrates), those queries are not processed
 * again: in batched mode, delivery of in-flight queries is at most once. Keep {@code interval} well below
 * {@code commit.interval.ms} to narrow the window, or use the unbatched mode when every query must be
 * answered under a crash. On a clean close, queries still buffered are dropped (a processor cannot
 * forward from {@code close()}); the punctuation normally empties the buffer first.
 *
 * <p>A query that the store refuses (a vector of the wrong dimension; the zero vector under cosine)
 * fails the task with an {@link IllegalStateException}; in batched mode it fails its whole batch.
 *
 * @param <K>  key of the query records (kept)
 * @param <V>  value of the query records
 * @param <VR> value of the output records
 */
public final class SimilarityJoin<K, V, VR> {
    private final String storeName;
    private final Function<? super V, KnnQuery> toQuery;
    private final ValueJoiner<? super V, ? super KnnResult, ? extends VR> joiner;
    private final Duration interval;
    private final int maxQueries;

    private SimilarityJoin(String storeName, Function<? super V, KnnQuery> toQuery,
                           ValueJoiner<? super V, ? super KnnResult, ? extends VR> joiner, Duration interval, int maxQueries) {
        this.storeName = storeName;
        this.toQuery = toQuery;
        this.joiner = joiner;
        this.interval = interval;
        this.maxQueries = maxQueries;
    }

    /**
     * A join that searches store {@code storeName} with {@code toQuery(value)} and outputs
     * {@code joiner.apply(value, result)}.
     */
    public static <K, V, VR> SimilarityJoin<K, V, VR> of(String storeName, Function<? super V, KnnQuery> toQuery,
                                                         ValueJoiner<? super V, ? super KnnResult, ? extends VR> joiner) {
        return new SimilarityJoin<>(Objects.requireNonNull(storeName, "storeName cannot be null"),
                Objects.requireNonNull(toQuery, "toQuery cannot be null"), Objects.requireNonNull(joiner, "joiner cannot be null"),
                null, 1);
    }

    /** A join whose query values are the query vectors, outputting the top {@code k} as a {@link KnnResult}. */
    public static <K> SimilarityJoin<K, float[], KnnResult> topK(String storeName, int k) {
        io.github.mmapstore.vector.VectorValidation.checkK(k);
        return of(storeName, v -> KnnQuery.nearest(v, k), (v, r) -> r);
    }

    /**
     * Batches queries: answered together every {@code interval} of wall-clock time (a punctuation) or
     * as soon as {@code maxQueries} are buffered. See the class comment for what a batch sees.
     */
    public SimilarityJoin<K, V, VR> batched(Duration interval, int maxQueries) {
        Objects.requireNonNull(interval, "interval cannot be null");
        if (interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("batch interval must be positive, was " + interval);
        }
        if (maxQueries < 1) {
            throw new IllegalArgumentException("maxQueries must be at least 1, was " + maxQueries);
        }
        return new SimilarityJoin<>(storeName, toQuery, joiner, interval, maxQueries);
    }

    public String storeName() {
        return storeName;
    }

    public boolean isBatched() {
        return interval != null;
    }

    /** For {@code KStream.processValues(supplier, storeName)}: the store must be connected by name. */
    public FixedKeyProcessorSupplier<K, V, VR> fixedKey() {
        return () -> new FixedKeyJoinProcessor();
    }

    /** For {@code KStream.process(supplier, storeName)} or the Processor API. */
    public ProcessorSupplier<K, V, K, VR> processor() {
        return () -> new JoinProcessor();
    }

    /** The shared logic: search now or buffer, and run the buffer as one batch. */
    private abstract class Core<R> {
        private StateStore store;
        private final List<R> pending = new ArrayList<>();
        private final List<V> pendingValues = new ArrayList<>();
        private final List<KnnQuery> pendingQueries = new ArrayList<>();
        private Cancellable punctuation;

        void open(StateStore s) {
            if (s == null) {
                throw new IllegalStateException("similarity join: store " + storeName + " is not connected to this processor; "
                        + "pass its name to process/processValues or connectProcessorAndStateStores");
            }
            this.store = s;
        }

        void schedule(Cancellable c) {
            this.punctuation = c;
        }

        void accept(R record, V value) {
            if (value == null) {
                return;
            }
            KnnQuery q = toQuery.apply(value);
            if (q == null) {
                return;
            }
            if (interval == null) {
                emit(record, joiner.apply(value, EmbeddingSearch.topK(store, q)));
                return;
            }
            pending.add(record);
            pendingValues.add(value);
            pendingQueries.add(q);
            if (pending.size() >= maxQueries) {
                flush();
            }
        }

        void flush() {
            if (pending.isEmpty()) {
                return;
            }
            List<KnnResult> results = EmbeddingSearch.topK(store, new KnnBatchQuery(pendingQueries));
            List<R> records = List.copyOf(pending);
            List<V> values = List.copyOf(pendingValues);
            pending.clear();
            pendingValues.clear();
            pendingQueries.clear();
            for (int i = 0; i < records.size(); i++) {
                emit(records.get(i), joiner.apply(values.get(i), results.get(i)));
            }
        }

        void close() {
            if (punctuation != null) {
                punctuation.cancel();
            }
            pending.clear();
            pendingValues.clear();
            pendingQueries.clear();
        }

        abstract void emit(R record, VR value);
    }

    private final class FixedKeyJoinProcessor implements FixedKeyProcessor<K, V, VR> {
        private FixedKeyProcessorContext<K, VR> context;
        private final Core<FixedKeyRecord<K, V>> core = new Core<>() {
            @Override
            void emit(FixedKeyRecord<K, V> record, VR value) {
                context.forward(record.withValue(value));
            }
        };

        @Override
        public void init(FixedKeyProcessorContext<K, VR> context) {
            this.context = context;
            core.open(context.getStateStore(storeName));
            if (interval != null) {
                core.schedule(context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, ts -> core.flush()));
            }
        }

        @Override
        public void process(FixedKeyRecord<K, V> record) {
            core.accept(record, record.value());
        }

        @Override
        public void close() {
            core.close();
        }
    }

    private final class JoinProcessor implements Processor<K, V, K, VR> {
        private ProcessorContext<K, VR> context;
        private final Core<Record<K, V>> core = new Core<>() {
            @Override
            void emit(Record<K, V> record, VR value) {
                context.forward(record.withValue(value));
            }
        };

        @Override
        public void init(ProcessorContext<K, VR> context) {
            this.context = context;
            core.open(context.getStateStore(storeName));
            if (interval != null) {
                core.schedule(context.schedule(interval, PunctuationType.WALL_CLOCK_TIME, ts -> core.flush()));
            }
        }

        @Override
        public void process(Record<K, V> record) {
            core.accept(record, record.value());
        }

        @Override
        public void close() {
            core.close();
        }
    }
}
