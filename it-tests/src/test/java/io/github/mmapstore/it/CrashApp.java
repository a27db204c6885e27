package io.github.mmapstore.it;

import io.github.mmapstore.streams.MmapStores;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StoreQueryParameters;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.TaskMetadata;
import org.apache.kafka.streams.ThreadMetadata;
import org.apache.kafka.streams.processor.StandbyUpdateListener;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.query.KeyQuery;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.KeyValueBytesStoreSupplier;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.QueryableStoreTypes;
import org.apache.kafka.streams.state.ReadOnlyKeyValueStore;
import org.apache.kafka.streams.state.Stores;

/**
 * The Kafka Streams application under test, run in a child JVM by {@link ChildApp} so the test can kill it
 * with SIGKILL. Three persistent, logged key-value stores, all MmapStore or all RocksDB ({@code --store}):
 * <ul>
 *   <li>{@code profiles}: the source table of {@code <prefix>-profiles};</li>
 *   <li>{@code sums}: an aggregation of {@code <prefix>-input} (value {@code seq:inc}) into
 *       {@code count,sum,lastSeq}, every update emitted to {@code <prefix>-sums-out} (caching is off, so a
 *       duplicate or a lost update shows in the running count);</li>
 *   <li>{@code joined}: the table-table join {@code sums ⋈ profiles}, emitted to {@code <prefix>-join-out}.</li>
 * </ul>
 * It speaks a line protocol on stdout (lines starting with {@value #TAG}): state changes, every restore
 * (store, changelog partition, start offset, end offset, records restored), uncaught exceptions and, on the
 * stdin command {@code dump}, the contents of the stores read through Interactive Queries. {@code stop}
 * closes it cleanly.
 */
public final class CrashApp {
    static final String TAG = "@@";
    static final String[] STORES = {"profiles", "sums", "joined"};
    /** Kafka 4.4's {@code StreamsConfig.TRANSACTIONAL_STATE_STORES_CONFIG}, by name (4.3 has no such constant). */
    static final String TRANSACTIONAL_STATE_STORES = "enable.transactional.statestores";
    /** The input seq whose aggregation throws once ({@code --fail-on-seq}), or -1. */
    private static volatile long failOnSeq = -1;
    private static final java.util.concurrent.atomic.AtomicBoolean FAILED_ONCE = new java.util.concurrent.atomic.AtomicBoolean();
    /** The stores {@code dump} reads: those of the running topology. */
    private static String[] DUMP_STORES = STORES;
    private static final PrintStream OUT = new PrintStream(new java.io.FileOutputStream(java.io.FileDescriptor.out), true,
            StandardCharsets.UTF_8);

    private CrashApp() {
    }

    static synchronized void emit(Object... parts) {
        StringBuilder sb = new StringBuilder(TAG);
        for (Object p : parts) {
            sb.append(' ').append(p);
        }
        sb.append(' ').append(System.currentTimeMillis());
        OUT.println(sb);
        OUT.flush();
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        String storeKind = a.getOrDefault("store", "mmap");
        String prefix = a.get("topics");
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, a.get("app-id"));
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, a.get("bootstrap"));
        p.put(StreamsConfig.STATE_DIR_CONFIG, a.get("state-dir"));
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, a.get("guarantee"));
        p.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, a.getOrDefault("commit-interval-ms", "200"));
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        p.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0L);
        p.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        p.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.StringSerde.class);
        // Static membership: a restarted instance takes its predecessor's place at once instead of waiting
        // for the killed member's session to time out.
        // --instance names the member (two instances of one application need two names); --static false
        // turns static membership off.
        if (Boolean.parseBoolean(a.getOrDefault("static", "true"))) {
            p.put(StreamsConfig.mainConsumerPrefix(ConsumerConfig.GROUP_INSTANCE_ID_CONFIG),
                    a.get("app-id") + "-" + a.getOrDefault("instance", "instance"));
        }
        p.put(StreamsConfig.NUM_STANDBY_REPLICAS_CONFIG, Integer.parseInt(a.getOrDefault("standbys", "0")));
        if (a.containsKey("replication")) {
            p.put(StreamsConfig.REPLICATION_FACTOR_CONFIG, Integer.parseInt(a.get("replication")));
        }
        if (a.containsKey("application-server")) {
            p.put(StreamsConfig.APPLICATION_SERVER_CONFIG, a.get("application-server"));
        }
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG), 10_000);
        p.put(StreamsConfig.consumerPrefix(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG), 1_000);
        // --txn true: Kafka 4.4's transactional state stores (KIP-892). Set by its name, so that these sources
        // also compile on Kafka 4.3, which does not know the setting (a scenario with the flag on is skipped there).
        if (a.containsKey("txn")) {
            p.put(TRANSACTIONAL_STATE_STORES, Boolean.toString(Boolean.parseBoolean(a.get("txn"))));
        }
        // --fail-on-seq N: the aggregation throws once (per JVM) when it meets input seq N; the uncaught-exception
        // handler replaces the stream thread, so Kafka closes the thread's tasks dirty and revives them here.
        if (a.containsKey("fail-on-seq")) {
            failOnSeq = Long.parseLong(a.get("fail-on-seq"));
        }
        for (Map.Entry<String, String> e : a.entrySet()) {
            if (e.getKey().startsWith("mmapstore.")) {
                p.put(e.getKey(), e.getValue());
            } else if (e.getKey().startsWith("streams.")) {
                // --streams.<config> <value>: any other Kafka Streams (or client) setting
                p.put(e.getKey().substring("streams.".length()), e.getValue());
            }
        }

        String topologyKind = a.getOrDefault("topology", "crash");
        Topology topology = switch (topologyKind) {
            case "crash" -> topology(prefix, storeKind);
            case "bulk" -> {
                DUMP_STORES = new String[] {"bulk"};
                yield bulkTopology(prefix, storeKind);
            }
            case "many" -> {
                // issue 21: five DSL stores per task from the default store suppliers (ManyStoresIT); --store picks them
                DUMP_STORES = new String[0];
                if (storeKind.equals("mmap")) {
                    p.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, "io.github.mmapstore.streams.MmapDslStoreSuppliers");
                } else if (!storeKind.equals("rocksdb")) {
                    throw new IllegalArgumentException("--store must be mmap or rocksdb: " + storeKind);
                }
                yield ManyStoresApp.topology(prefix, p);
            }
            default -> throw new IllegalArgumentException("--topology must be crash, bulk or many: " + topologyKind);
        };
        KafkaStreams streams = new KafkaStreams(topology, p);
        streams.setStateListener((newState, oldState) -> emit("STATE", oldState, newState));
        streams.setGlobalStateRestoreListener(new StateRestoreListener() {
            @Override
            public void onRestoreStart(TopicPartition tp, String store, long start, long end) {
                emit("RESTORE_START", store, tp.topic(), tp.partition(), start, end);
            }

            @Override
            public void onBatchRestored(TopicPartition tp, String store, long batchEnd, long n) {
            }

            @Override
            public void onRestoreEnd(TopicPartition tp, String store, long total) {
                emit("RESTORE_END", store, tp.topic(), tp.partition(), total);
            }

            @Override
            public void onRestoreSuspended(TopicPartition tp, String store, long total) {
                emit("RESTORE_SUSPENDED", store, tp.topic(), tp.partition(), total);
            }
        });
        streams.setStandbyUpdateListener(new StandbyUpdateListener() {
            @Override
            public void onUpdateStart(TopicPartition tp, String store, long startingOffset) {
                emit("STANDBY_START", store, tp.topic(), tp.partition(), startingOffset);
            }

            @Override
            public void onBatchLoaded(TopicPartition tp, String store, TaskId task, long batchEndOffset, long batchSize,
                    long currentEndOffset) {
            }

            @Override
            public void onUpdateSuspended(TopicPartition tp, String store, long storeOffset, long currentEndOffset,
                    SuspendReason reason) {
                emit("STANDBY_SUSPENDED", store, tp.topic(), tp.partition(), storeOffset, currentEndOffset, reason);
            }
        });
        streams.setUncaughtExceptionHandler(ex -> {
            emit("UNCAUGHT", ex.getClass().getName(), String.valueOf(ex.getMessage()).replace('\n', ' '));
            // the cause chain, one line each (the disk-full test looks for the store's own exception)
            for (Throwable c = ex.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
                emit("UNCAUGHT_CAUSE", c.getClass().getName(), String.valueOf(c.getMessage()).replace('\n', ' '));
            }
            ex.printStackTrace();
            return StreamThreadExceptionResponse.REPLACE_THREAD;
        });

        Thread commands = new Thread(() -> commands(streams), "crash-app-commands");
        commands.setDaemon(true);
        emit("STARTING", ProcessHandle.current().pid(), storeKind, a.get("guarantee"));
        streams.start();
        commands.start();
        // --sample-ms N: a MEM line every N ms (heap, store memory, commit latency; ManyStoresIT)
        if (a.containsKey("sample-ms")) {
            ManyStoresApp.startSampler(streams, Long.parseLong(a.get("sample-ms")));
        }
        Thread.currentThread().join();
    }

    static Topology topology(String prefix, String storeKind) {
        Serde<String> s = Serdes.String();
        StreamsBuilder b = new StreamsBuilder();
        KTable<String, String> profiles = b.table(prefix + "-profiles", Consumed.with(s, s), materialized("profiles", storeKind));
        KTable<String, String> sums = b.stream(prefix + "-input", Consumed.with(s, s))
                .groupByKey(Grouped.with(s, s))
                .aggregate(() -> "0,0,-1", (key, value, agg) -> add(agg, value), materialized("sums", storeKind));
        sums.toStream().to(prefix + "-sums-out", Produced.with(s, s));
        KTable<String, String> joined = sums.join(profiles, (sum, profile) -> sum + "|" + profile, materialized("joined", storeKind));
        joined.toStream().to(prefix + "-join-out", Produced.with(s, s));
        return b.build();
    }

    /** One store, {@code bulk}: the table of {@code <prefix>-input} (the restart-time test's state). */
    static Topology bulkTopology(String prefix, String storeKind) {
        Serde<String> s = Serdes.String();
        StreamsBuilder b = new StreamsBuilder();
        b.table(prefix + "-input", Consumed.with(s, s), materialized("bulk", storeKind));
        return b.build();
    }

    /** {@code count,sum,lastSeq} plus one input {@code seq:inc}. */
    static String add(String agg, String input) {
        String[] f = agg.split(",");
        int c = input.indexOf(':');
        long seq = Long.parseLong(input.substring(0, c));
        if (seq == failOnSeq && FAILED_ONCE.compareAndSet(false, true)) {
            // after the stores of this task were written in the open transaction (earlier records of it)
            emit("PLANTED_FAILURE", seq, Thread.currentThread().getName());
            throw new IllegalStateException("planted failure at input seq " + seq + " (--fail-on-seq)");
        }
        long inc = Long.parseLong(input.substring(c + 1));
        return (Long.parseLong(f[0]) + 1) + "," + (Long.parseLong(f[1]) + inc) + "," + seq;
    }

    private static Materialized<String, String, KeyValueStore<Bytes, byte[]>> materialized(String name, String storeKind) {
        KeyValueBytesStoreSupplier supplier = switch (storeKind) {
            case "mmap" -> MmapStores.persistentTimestampedKeyValueStore(name);
            case "rocksdb" -> Stores.persistentTimestampedKeyValueStore(name);
            default -> throw new IllegalArgumentException("--store must be mmap or rocksdb: " + storeKind);
        };
        return Materialized.<String, String>as(supplier)
                .withKeySerde(Serdes.String())
                .withValueSerde(Serdes.String())
                .withCachingDisabled();
    }

    private static void commands(KafkaStreams streams) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = in.readLine()) != null) {
                String[] cmd = line.trim().split(" ");
                if (cmd[0].equals("query") && cmd.length == 5) {
                    query(streams, cmd[1], cmd[2], cmd[3], Integer.parseInt(cmd[4]));
                    continue;
                }
                if (cmd[0].equals("sample") && cmd.length == 2) {
                    ManyStoresApp.sample(streams, cmd[1]);
                    continue;
                }
                if (cmd[0].equals("query1") && cmd.length == 5) {
                    queryV1(streams, cmd[1], cmd[2], cmd[3], Integer.parseInt(cmd[4]));
                    continue;
                }
                if (cmd[0].equals("dump") && cmd.length == 2) {
                    dump(streams, Integer.parseInt(cmd[1]));
                    continue;
                }
                switch (line.trim()) {
                    case "dump" -> dump(streams);
                    case "stop" -> {
                        boolean clean = streams.close(Duration.ofSeconds(60));
                        emit("STOPPED", clean);
                        System.exit(0);
                    }
                    default -> emit("UNKNOWN_COMMAND", line);
                }
            }
        } catch (Exception e) {
            emit("COMMAND_ERROR", e);
        }
    }

    /**
     * {@code query <id> <store> <key> <partition>}: an IQv2 {@link KeyQuery} through {@link KafkaStreams#query}
     * for that one partition, active or standby (no {@code requireActive}), unbounded. Prints
     * {@code QUERY id store key partition role outcome value}: role is {@code active}, {@code standby} or
     * {@code none} (from {@code metadataForLocalThreads}); outcome is {@code OK}, the failure reason
     * ({@code NOT_UP_TO_BOUND}, {@code NOT_PRESENT}, ...) or {@code EXCEPTION}; value is the answer, or
     * {@code -} when there is none.
     */
    private static void query(KafkaStreams streams, String id, String store, String key, int partition) {
        String role = role(streams, partition);
        try {
            StateQueryRequest<String> req = StateQueryRequest.inStore(store)
                    .withQuery(KeyQuery.<String, String>withKey(key))
                    .withPartitions(java.util.Set.of(partition));
            StateQueryResult<String> res = streams.query(req);
            QueryResult<String> r = res.getPartitionResults().get(partition);
            if (r == null) {
                emit("QUERY", id, store, key, partition, role, "NO_RESULT", "-");
            } else if (r.isSuccess()) {
                emit("QUERY", id, store, key, partition, role, "OK", r.getResult() == null ? "null" : r.getResult());
            } else {
                emit("QUERY", id, store, key, partition, role, r.getFailureReason(), "-");
            }
        } catch (RuntimeException e) {
            emit("QUERY", id, store, key, partition, role, "EXCEPTION", e.getClass().getSimpleName());
        }
    }

    /**
     * {@code query1 <id> <store> <key> <partition>}: the same question through IQv1 ({@code KafkaStreams.store}
     * for that partition, stale stores enabled, so standbys answer too). Kafka 4.3.1's RocksDBStore can
     * deadlock an IQv2 {@code KeyQuery} against the stream thread's {@code put} (lock order store/position
     * vs position/store, KAFKA-19629), so the RocksDB side of the standby test asks through IQv1 by default.
     */
    private static void queryV1(KafkaStreams streams, String id, String store, String key, int partition) {
        String role = role(streams, partition);
        try {
            ReadOnlyKeyValueStore<String, String> kv = streams.store(StoreQueryParameters
                    .fromNameAndType(store, QueryableStoreTypes.<String, String>keyValueStore())
                    .withPartition(partition).enableStaleStores());
            String v = kv.get(key);
            emit("QUERY", id, store, key, partition, role, "OK", v == null ? "null" : v);
        } catch (RuntimeException e) {
            emit("QUERY", id, store, key, partition, role, "EXCEPTION", e.getClass().getSimpleName());
        }
    }

    private static String role(KafkaStreams streams, int partition) {
        String role = "none";
        try {
            for (ThreadMetadata t : streams.metadataForLocalThreads()) {
                for (TaskMetadata tm : t.activeTasks()) {
                    if (tm.taskId().partition() == partition) {
                        role = "active";
                    }
                }
                for (TaskMetadata tm : t.standbyTasks()) {
                    if (tm.taskId().partition() == partition && !role.equals("active")) {
                        role = "standby";
                    }
                }
            }
        } catch (RuntimeException e) {
            role = "unknown";
        }
        return role;
    }

    /**
     * {@code dump <partitions>}: as {@link #dump(KafkaStreams)}, but each store read partition by partition
     * ({@code withPartition}), so that a partition whose task is being closed or reopened at that moment (a
     * damaged store rebuilt) is a DUMP_ERROR and the caller asks again, instead of a dump that silently
     * leaves its keys out (the composite store of all partitions iterates the tasks open at that moment).
     */
    private static void dump(KafkaStreams streams, int partitions) {
        emit("DUMP_BEGIN");
        for (String store : DUMP_STORES) {
            long n = 0;
            int p = 0;
            try {
                for (; p < partitions; p++) {
                    n += dumpAll(store, streams.store(StoreQueryParameters
                            .fromNameAndType(store, QueryableStoreTypes.<String, String>keyValueStore()).withPartition(p)));
                }
                emit("DUMP_END", store, n);
            } catch (RuntimeException e) {
                emit("DUMP_ERROR", store, ("partition " + p + ": " + e).replace('\n', ' ').replace(' ', '_'));
            }
        }
        emit("DUMP_DONE");
    }

    /** DUMP_BEGIN, then per store its DUMP lines and DUMP_END (or DUMP_ERROR), then DUMP_DONE. */
    private static void dump(KafkaStreams streams) {
        emit("DUMP_BEGIN");
        for (String store : DUMP_STORES) {
            try {
                long n = dumpAll(store, streams.store(
                        StoreQueryParameters.fromNameAndType(store, QueryableStoreTypes.<String, String>keyValueStore())));
                emit("DUMP_END", store, n);
            } catch (RuntimeException e) {
                emit("DUMP_ERROR", store, e.toString().replace('\n', ' ').replace(' ', '_'));
            }
        }
        emit("DUMP_DONE");
    }

    /** A DUMP line per entry of {@code kv}; how many. */
    private static long dumpAll(String store, ReadOnlyKeyValueStore<String, String> kv) {
        long n = 0;
        try (KeyValueIterator<String, String> it = kv.all()) {
            while (it.hasNext()) {
                KeyValue<String, String> e = it.next();
                emit("DUMP", store, e.key, e.value);
                n++;
            }
        }
        return n;
    }
}
