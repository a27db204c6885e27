package io.github.mmapstore.examples;

import io.github.mmapstore.streams.Embedding;
import io.github.mmapstore.streams.EmbeddingJoins;
import io.github.mmapstore.streams.EmbeddingSerde;
import io.github.mmapstore.streams.KnnQuery;
import io.github.mmapstore.streams.KnnResult;
import io.github.mmapstore.streams.KnnResultSerde;
import io.github.mmapstore.streams.MmapStores;
import io.github.mmapstore.streams.Similarity;
import io.github.mmapstore.streams.SimilarityJoin;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.common.errors.SerializationException;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Named;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.Repartitioned;
import org.apache.kafka.streams.processor.StreamPartitioner;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The similarity join: a table of memory embeddings, and a stream of query embeddings each joined to its
 * top-k most similar memories over the whole table.
 *
 * <pre>
 * memories ──► table "memories" (MmapStores.timestampedEmbeddingStore, cosine)
 *                  ▲ searched in place by the join, partition by partition
 * queries ──► repartition to EVERY partition ──► EmbeddingJoins.join: top-k of this partition
 *         ──► repartition by query id ──► gather: KnnResult.merge of all partitions' answers ──► matches
 * </pre>
 *
 * A similarity join searches the store partition its task holds ({@link EmbeddingJoins}); memories are
 * spread over the partitions by key, so a query must visit every partition to see them all. The first
 * repartition multicasts each query to all partitions; the second brings the partial top-k lists of one
 * query together, and the gather step emits the merged overall top-k once every partition has answered
 * (its running state in an MmapStore key-value store, so a crash mid-query loses nothing under
 * exactly-once). With a single partition this reduces to {@code EmbeddingJoins.topK(queries, "memories", k)}.
 *
 * <p>Batched joins ({@code batch > 1}) answer several queries in one pass over a partition's memories. A
 * batch lives in memory: queries buffered when an instance dies are not answered (at most once for those,
 * see {@link SimilarityJoin}); {@code batch = 1} answers each query as it is processed, exactly once.
 */
final class SimilarityJoinTopology {
    static final String MEMORY_STORE = "memories";
    static final String PENDING_STORE = "pending-matches";
    static final java.time.Duration BATCH_INTERVAL = java.time.Duration.ofMillis(20);

    private SimilarityJoinTopology() {
    }

    static Topology build(String memoriesTopic, String queriesTopic, String matchesTopic, int dimensions, int k, int partitions,
                          int batch, Properties config) {
        StreamsBuilder b = new StreamsBuilder(new TopologyConfig(new StreamsConfig(config)));
        Serde<Embedding> embeddings = new EmbeddingSerde(dimensions);
        Serde<KnnResult> results = new KnnResultSerde();

        // The memories: a DSL table whose store is an MmapStore embedding store. Caching off: a search
        // must see every write at once, not after the cache flushes.
        b.table(memoriesTopic, Consumed.with(Serdes.String(), embeddings),
                Materialized.<String, Embedding>as(MmapStores.timestampedEmbeddingStore(MEMORY_STORE, dimensions, Similarity.COSINE))
                        .withKeySerde(Serdes.String()).withValueSerde(embeddings).withCachingDisabled());

        StreamPartitioner<String, Embedding> everyPartition = (topic, key, value, numPartitions) ->
                Optional.of(IntStream.range(0, numPartitions).boxed().collect(Collectors.toSet()));
        KStream<String, Embedding> everywhere = b.stream(queriesTopic, Consumed.with(Serdes.String(), embeddings))
                .repartition(Repartitioned.<String, Embedding>as("query-fanout").withKeySerde(Serdes.String())
                        .withValueSerde(embeddings).withNumberOfPartitions(partitions).withStreamPartitioner(everyPartition));

        // The join proper: each query's top k among this partition's memories, searched in the stream thread.
        // Batched, up to `batch` queries share one pass over the store (answered when the batch is full or
        // at the next 20 ms punctuation); the memories are all loaded before the queries come, so a batch
        // sees the same table as a query answered on its own would.
        SimilarityJoin<String, Embedding, KnnResult> topK =
                SimilarityJoin.of(MEMORY_STORE, (Embedding q) -> KnnQuery.nearest(q.vector(), k), (q, result) -> result);
        if (batch > 1) {
            topK = topK.batched(BATCH_INTERVAL, batch);
        }
        KStream<String, KnnResult> partial = EmbeddingJoins.join(everywhere, topK, Named.as("top-k-per-partition"));

        b.addStateStore(Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore(PENDING_STORE), Serdes.String(), Partial.SERDE)
                .withCachingEnabled()); // a query's put and delete usually meet in the cache and never reach the changelog
        partial.repartition(Repartitioned.<String, KnnResult>as("partial-matches").withKeySerde(Serdes.String())
                        .withValueSerde(results).withNumberOfPartitions(partitions))
                .process(() -> new Gather(partitions, k), Named.as("merge-partitions"), PENDING_STORE)
                .to(matchesTopic, Produced.with(Serdes.String(), results));
        return b.build(config);
    }

    /** Merges the partial answers to one query; when all partitions have answered, emits the overall top k. */
    static final class Gather implements Processor<String, KnnResult, String, KnnResult> {
        private final int partitions;
        private final int k;
        private ProcessorContext<String, KnnResult> context;
        private KeyValueStore<String, Partial> pending;

        Gather(int partitions, int k) {
            this.partitions = partitions;
            this.k = k;
        }

        @Override
        public void init(ProcessorContext<String, KnnResult> context) {
            this.context = context;
            this.pending = context.getStateStore(PENDING_STORE);
        }

        @Override
        public void process(Record<String, KnnResult> record) {
            Partial sofar = pending.get(record.key());
            Partial merged = sofar == null ? new Partial(1, record.value())
                    : new Partial(sofar.parts() + 1, KnnResult.merge(Similarity.COSINE, k, List.of(sofar.result(), record.value())));
            if (merged.parts() < partitions) {
                pending.put(record.key(), merged);
                return;
            }
            pending.delete(record.key());
            context.forward(record.withValue(merged.result()));
        }
    }

    /** The running answer to one query: how many partitions answered, and the best matches among them. */
    record Partial(int parts, KnnResult result) {
        private static final Serde<KnnResult> RESULT = new KnnResultSerde();

        static final Serde<Partial> SERDE = Serdes.serdeFrom(
                (topic, p) -> {
                    if (p == null) {
                        return null;
                    }
                    byte[] r = RESULT.serializer().serialize(topic, p.result());
                    return ByteBuffer.allocate(4 + r.length).putInt(p.parts()).put(r).array();
                },
                (topic, bytes) -> {
                    if (bytes == null) {
                        return null;
                    }
                    if (bytes.length < 4) {
                        throw new SerializationException("partial match of " + bytes.length + " bytes: too short");
                    }
                    return new Partial(ByteBuffer.wrap(bytes).getInt(), RESULT.deserializer().deserialize(topic,
                            Arrays.copyOfRange(bytes, 4, bytes.length)));
                });
    }
}
