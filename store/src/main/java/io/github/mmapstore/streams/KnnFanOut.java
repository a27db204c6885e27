package io.github.mmapstore.streams;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.HostInfo;

/**
 * Runs a {@link KnnQuery} over every partition of an embedding store, across all instances of the
 * application, and merges the answers into the overall top-k ({@link KnnResult#merge}).
 *
 * <ul>
 *   <li>This instance's partitions are asked through Interactive Queries v2,
 *       {@code KafkaStreams.query(StateQueryRequest.inStore(store).withQuery(q).requireActive())}: each
 *       local active task answers for its partition (standby replicas are not asked, so no partition is
 *       counted twice when its active task lives elsewhere).</li>
 *   <li>The other instances are found with {@code KafkaStreams.streamsMetadataForStore(store)} (those
 *       whose {@code stateStoreNames()} hold the store actively; they are identified by their
 *       {@code application.server} host and port) and asked through the user's {@link RemoteKnn}, in
 *       parallel. The remote side answers with {@link #queryLocal} over its own active partitions.</li>
 * </ul>
 *
 * <h2>Why the transport is yours</h2>
 * Kafka Streams has no RPC layer: it tells each instance where every partition of a store lives
 * ({@code application.server} and the metadata calls) but carries no query between instances; by design
 * an application exposes its state over the transport it already has (HTTP, gRPC, ...), with its own
 * security, timeouts and retries. So this class takes a {@link RemoteKnn}: given a host, a store name
 * and a query, call that instance and have it return {@code fanOut.queryLocal(store, query)} (serialize
 * the result with {@link KnnResultSerde}; the query's fields are public).
 *
 * <h2>Consistency</h2>
 * Each partition answers from its own current state; there is no global snapshot. During a rebalance a
 * partition may be on no active task for a moment: then it is missing from the merge (Kafka Streams
 * reports the same through IQv2). Any other failure (a local partition failing, a remote call throwing)
 * fails the whole query with an {@link IllegalStateException}: a merged top-k that silently lacks a
 * partition is wrong, not approximate.
 */
public final class KnnFanOut {
    /** Asks another instance of the application for its local answer ({@link KnnFanOut#queryLocal} there). */
    @FunctionalInterface
    public interface RemoteKnn {
        KnnResult query(HostInfo host, String storeName, KnnQuery query);
    }

    private final KafkaStreams streams;
    private final HostInfo self;
    private final RemoteKnn remote;

    /**
     * @param streams the running application
     * @param self    this instance's {@code application.server} host and port (to tell it from the others)
     * @param remote  the transport to other instances
     */
    public KnnFanOut(KafkaStreams streams, HostInfo self, RemoteKnn remote) {
        this.streams = Objects.requireNonNull(streams, "streams cannot be null");
        this.self = Objects.requireNonNull(self, "self cannot be null");
        this.remote = Objects.requireNonNull(remote, "remote cannot be null");
    }

    /** Asks only this instance (a single-instance application, or the receiving side of {@link RemoteKnn}). */
    public static KnnFanOut localOnly(KafkaStreams streams) {
        return new KnnFanOut(streams, HostInfo.unavailable(), (h, s, q) -> {
            throw new IllegalStateException("no remote transport configured");
        });
    }

    /** The top-k of {@code query} over all partitions of {@code storeName}, on every instance. */
    public KnnResult query(String storeName, KnnQuery query) {
        Objects.requireNonNull(storeName, "storeName cannot be null");
        Objects.requireNonNull(query, "query cannot be null");
        List<HostInfo> others = new ArrayList<>();
        if (!HostInfo.unavailable().equals(self)) {
            for (StreamsMetadata md : streams.streamsMetadataForStore(storeName)) {
                if (!md.hostInfo().equals(self) && md.stateStoreNames().contains(storeName)) {
                    others.add(md.hostInfo());
                }
            }
        }
        List<KnnResult> parts = new ArrayList<>();
        if (others.isEmpty()) {
            parts.addAll(localParts(storeName, query).values());
            return merge(storeName, query, parts);
        }
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            Map<HostInfo, Future<KnnResult>> calls = new LinkedHashMap<>();
            for (HostInfo h : others) {
                calls.put(h, pool.submit(() -> remote.query(h, storeName, query)));
            }
            parts.addAll(localParts(storeName, query).values());
            IllegalStateException failure = null;
            for (Map.Entry<HostInfo, Future<KnnResult>> c : calls.entrySet()) {
                try {
                    KnnResult r = c.getValue().get();
                    if (r == null) {
                        throw new IllegalStateException("instance " + c.getKey() + " returned no result for store " + storeName);
                    }
                    parts.add(r);
                } catch (ExecutionException | RuntimeException e) {
                    Throwable cause = e instanceof ExecutionException ? e.getCause() : e;
                    if (failure == null) {
                        failure = new IllegalStateException("KnnQuery on store " + storeName + " failed at instance " + c.getKey().host()
                                + ":" + c.getKey().port() + ": " + cause, cause);
                    } else {
                        failure.addSuppressed(cause);
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for instance " + c.getKey(), e);
                }
            }
            if (failure != null) {
                throw failure;
            }
        }
        return merge(storeName, query, parts);
    }

    /** The top-k of {@code query} over this instance's active partitions of {@code storeName}. */
    public KnnResult queryLocal(String storeName, KnnQuery query) {
        return merge(storeName, query, new ArrayList<>(localParts(storeName, query).values()));
    }

    private Map<Integer, KnnResult> localParts(String storeName, KnnQuery query) {
        StateQueryResult<KnnResult> result = streams.query(StateQueryRequest.inStore(storeName).withQuery(query).requireActive());
        Map<Integer, KnnResult> parts = new LinkedHashMap<>();
        for (Map.Entry<Integer, QueryResult<KnnResult>> e : result.getPartitionResults().entrySet()) {
            QueryResult<KnnResult> r = e.getValue();
            if (r.isSuccess()) {
                parts.put(e.getKey(), r.getResult());
            } else if (r.getFailureReason() != FailureReason.NOT_ACTIVE) {
                throw new IllegalStateException("KnnQuery on partition " + e.getKey() + " of store " + storeName + " failed: "
                        + r.getFailureReason() + ": " + r.getFailureMessage());
            }
        }
        return parts;
    }

    private static KnnResult merge(String storeName, KnnQuery query, List<KnnResult> parts) {
        if (parts.isEmpty()) {
            throw new IllegalStateException("no partition of store " + storeName + " answered (no active task holds it yet?)");
        }
        return KnnResult.merge(parts.get(0).similarity(), query.k(), parts);
    }
}
