package io.github.mmapstore.it;

import io.github.mmapstore.it.ChildApp.Event;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.common.utils.Utils;

/**
 * Kafka and child-app helpers shared by the scenario tests added after {@link CrashMatrixIT} (corruption,
 * standbys, disk full, restart time): the same producer, {@code read_committed} reader, consumption wait,
 * Interactive Queries dump and oracle as the crash matrix, parameterised by cluster and partition count.
 */
final class ItSupport {
    private ItSupport() {
    }

    record Input(String key, long seq, long inc) {
    }

    /**
     * The version of a Kafka jar on the test class path (the child JVMs get the same class path): {@code clients}
     * or {@code streams}, read from the properties file each jar carries (the same on Kafka 4.3 and 4.4).
     */
    static String kafkaVersion(String jar) {
        String resource = jar.equals("streams") ? "/kafka/kafka-streams-version.properties" : "/kafka/kafka-version.properties";
        Class<?> anchor = jar.equals("streams") ? org.apache.kafka.streams.KafkaStreams.class : KafkaProducer.class;
        try (var in = anchor.getResourceAsStream(resource)) {
            if (in == null) {
                return "unknown";
            }
            Properties props = new Properties();
            props.load(in);
            return props.getProperty("version", "unknown");
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The test-input producer: idempotent, acks=all, and its flush() fails if any record was not written. */
    static CheckedProducer producer(KafkaCluster cluster) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        p.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        return new CheckedProducer(p);
    }

    /** The partition Kafka's default partitioner gives a String key. */
    static int partitionFor(String key, int partitions) {
        return Utils.toPositive(Utils.murmur2(key.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    /** End offsets of the given topics' partitions. */
    static Map<TopicPartition, Long> endOffsets(KafkaCluster cluster, List<String> topics, int partitions) throws Exception {
        try (Admin admin = cluster.admin()) {
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            for (String t : topics) {
                for (int p = 0; p < partitions; p++) {
                    latest.put(new TopicPartition(t, p), OffsetSpec.latest());
                }
            }
            return admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS).entrySet().stream()
                    .collect(Collectors.toMap(Map.Entry::getKey, e -> e.getValue().offset()));
        }
    }

    /** True once the application's committed offsets reach the end of its input topics. */
    static boolean waitConsumed(KafkaCluster cluster, String appId, List<String> topics, int partitions, Duration timeout)
            throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        Map<TopicPartition, Long> ends = endOffsets(cluster, topics, partitions);
        try (Admin admin = cluster.admin()) {
            while (System.nanoTime() < deadline) {
                Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(appId)
                        .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
                boolean done = ends.entrySet().stream().allMatch(e -> e.getValue() == 0
                        || committed.get(e.getKey()) != null && committed.get(e.getKey()).offset() >= e.getValue());
                if (done) {
                    return true;
                }
                Thread.sleep(200);
            }
        }
        return false;
    }

    /** Everything committed in a topic, read with isolation.level=read_committed, by partition then offset. */
    static List<ConsumerRecord<String, String>> readAll(KafkaCluster cluster, String topic, int partitions) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers());
        p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase());
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 5000);
        List<ConsumerRecord<String, String>> out = new ArrayList<>();
        try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> tps = new ArrayList<>();
            for (int i = 0; i < partitions; i++) {
                tps.add(new TopicPartition(topic, i));
            }
            c.assign(tps);
            c.seekToBeginning(tps);
            Map<TopicPartition, Long> ends = c.endOffsets(tps, Duration.ofSeconds(30));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            while (tps.stream().anyMatch(tp -> c.position(tp) < ends.get(tp))) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError("could not read " + topic + " to its end " + ends);
                }
                c.poll(Duration.ofMillis(500)).forEach(out::add);
            }
        }
        out.sort(Comparator.comparingInt((ConsumerRecord<String, String> x) -> x.partition()).thenComparingLong(ConsumerRecord::offset));
        return out;
    }

    /**
     * The stores' contents read through Interactive Queries in the child, retried while a store is not
     * queryable (or a read found damage and the task is being rebuilt) until the timeout. Empty on failure.
     */
    static Map<String, Map<String, String>> dumpStores(ChildApp app, Duration timeout) throws Exception {
        return dumpStores(app, timeout, 0);
    }

    /**
     * As {@link #dumpStores(ChildApp, Duration)}; with {@code partitions > 0} the child reads every store
     * partition by partition and a partition it cannot read at that moment makes the dump fail and be asked
     * again (a single instance that must hold them all: a dump that left out a task being reopened would
     * read as lost keys).
     */
    static Map<String, Map<String, String>> dumpStores(ChildApp app, Duration timeout, int partitions) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline && app.process.isAlive()) {
            long sent = System.nanoTime();
            app.send(partitions > 0 ? "dump " + partitions : "dump");
            Event done = app.await(e -> e.type().equals("DUMP_DONE") && e.nanos() >= sent, 60_000);
            if (done == null) {
                break;
            }
            List<Event> mine = app.events.stream().filter(e -> e.nanos() >= sent && e.nanos() <= done.nanos()).toList();
            if (mine.stream().anyMatch(e -> e.type().equals("DUMP_ERROR"))) {
                Thread.sleep(1_000);
                continue;
            }
            Map<String, Map<String, String>> out = new HashMap<>();
            for (Event e : mine) {
                if (e.type().equals("DUMP")) {
                    out.computeIfAbsent(e.field(0), k -> new TreeMap<>()).put(e.field(1), e.field(2));
                }
            }
            return out;
        }
        return Map.of();
    }

    /** Each key's oracle {@code sums-out} sequence ({@code count,sum,lastSeq} after each input). */
    static Map<String, List<String>> oracle(List<Input> inputs) {
        Map<String, List<String>> expected = new TreeMap<>();
        Map<String, long[]> acc = new HashMap<>();
        for (Input in : inputs) {
            long[] a = acc.computeIfAbsent(in.key(), k -> new long[2]);
            a[0]++;
            a[1] += in.inc();
            expected.computeIfAbsent(in.key(), k -> new ArrayList<>()).add(a[0] + "," + a[1] + "," + in.seq());
        }
        return expected;
    }

    static Map<String, List<String>> group(List<ConsumerRecord<String, String>> recs) {
        Map<String, List<String>> m = new TreeMap<>();
        for (ConsumerRecord<String, String> rec : recs) {
            m.computeIfAbsent(rec.key(), k -> new ArrayList<>()).add(rec.value());
        }
        return m;
    }

    /**
     * EOS check of {@link CrashApp}'s outputs and stores against the oracle: {@code sums-out} per key equals
     * the oracle exactly, {@code join-out} per key is a suffix of the oracle joined with the profile, and
     * the stores hold the oracle's final values. Returns the problems found (at most {@code limit}).
     */
    static List<String> verifyEos(Map<String, List<String>> expected, Map<String, String> profiles,
            List<ConsumerRecord<String, String>> sumsOut, List<ConsumerRecord<String, String>> joinOut,
            Map<String, Map<String, String>> dump, int limit) {
        List<String> problems = new ArrayList<>();
        Map<String, List<String>> actual = group(sumsOut);
        Map<String, List<String>> actualJoin = group(joinOut);
        for (String k : actual.keySet()) {
            if (!expected.containsKey(k) && problems.size() < limit) {
                problems.add("sums-out has key " + k + " that the oracle has not");
            }
        }
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            List<String> want = e.getValue();
            List<String> got = actual.getOrDefault(e.getKey(), List.of());
            if (!got.equals(want) && problems.size() < limit) {
                int i = firstDiff(want, got);
                problems.add("sums-out[" + e.getKey() + "]: " + got.size() + " records, oracle " + want.size()
                        + ", first difference at " + i + ": got " + (i < got.size() ? got.get(i) : "-")
                        + " want " + (i < want.size() ? want.get(i) : "-"));
            }
            String profile = profiles.get(e.getKey());
            List<String> exJoin = want.stream().map(v -> v + "|" + profile).toList();
            List<String> gotJoin = actualJoin.getOrDefault(e.getKey(), List.of());
            if ((gotJoin.isEmpty() || gotJoin.size() > exJoin.size()
                    || !exJoin.subList(exJoin.size() - gotJoin.size(), exJoin.size()).equals(gotJoin)) && problems.size() < limit) {
                problems.add("join-out[" + e.getKey() + "] is not a suffix of the oracle (" + gotJoin.size() + " records, oracle "
                        + exJoin.size() + ")");
            }
        }
        if (dump == null) {
            return problems;
        }
        if (dump.isEmpty()) {
            problems.add("no store dump (stores not queryable)");
            return problems;
        }
        Map<String, String> prof = dump.getOrDefault("profiles", Map.of());
        Map<String, String> sums = dump.getOrDefault("sums", Map.of());
        Map<String, String> joined = dump.getOrDefault("joined", Map.of());
        if (!profiles.equals(prof) && problems.size() < limit) {
            problems.add("profiles store differs: " + prof.size() + " keys, oracle " + profiles.size());
        }
        for (Map.Entry<String, List<String>> e : expected.entrySet()) {
            String want = e.getValue().get(e.getValue().size() - 1);
            if (!want.equals(sums.get(e.getKey())) && problems.size() < limit) {
                problems.add("sums[" + e.getKey() + "] = " + sums.get(e.getKey()) + ", oracle " + want);
            }
            String wantJoin = want + "|" + profiles.get(e.getKey());
            if (!wantJoin.equals(joined.get(e.getKey())) && problems.size() < limit) {
                problems.add("joined[" + e.getKey() + "] = " + joined.get(e.getKey()) + ", oracle " + wantJoin);
            }
        }
        if (sums.size() != expected.size() && problems.size() < limit) {
            problems.add("sums store has " + sums.size() + " keys, oracle " + expected.size());
        }
        if (joined.size() != expected.size() && problems.size() < limit) {
            problems.add("joined store has " + joined.size() + " keys, oracle " + expected.size());
        }
        return problems;
    }

    static int firstDiff(List<String> a, List<String> b) {
        int n = Math.min(a.size(), b.size());
        for (int i = 0; i < n; i++) {
            if (!a.get(i).equals(b.get(i))) {
                return i;
            }
        }
        return n;
    }

    /** Restores seen by a run: store, topic, partition, start, end, total ("?" while open). */
    static List<String[]> restores(ChildApp app) {
        List<String[]> out = new ArrayList<>();
        for (Event e : app.events) {
            if (e.type().equals("RESTORE_START")) {
                out.add(new String[] {e.field(0), e.field(1), e.field(2), e.field(3), e.field(4), "?"});
            } else if (e.type().equals("RESTORE_END") || e.type().equals("RESTORE_SUSPENDED")) {
                for (String[] x : out) {
                    if (x[0].equals(e.field(0)) && x[1].equals(e.field(1)) && x[2].equals(e.field(2)) && x[5].equals("?")) {
                        x[5] = e.field(3) + (e.type().equals("RESTORE_SUSPENDED") ? "s" : "");
                        break;
                    }
                }
            }
        }
        return out;
    }

    static long leadingLong(String s) {
        int i = 0;
        while (i < s.length() && Character.isDigit(s.charAt(i))) {
            i++;
        }
        return i == 0 ? 0 : Long.parseLong(s.substring(0, i));
    }

    static List<String> uncaught(ChildApp app) {
        return app.events.stream().filter(e -> e.type().equals("UNCAUGHT") || e.type().equals("UNCAUGHT_CAUSE"))
                .map(e -> e.type() + " " + String.join(" ", e.fields())).toList();
    }

    static void deleteRecursively(Path p) throws IOException {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(p)) {
            for (Path x : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(x);
            }
        }
    }

    static long median(List<Long> xs) {
        if (xs.isEmpty()) {
            return -1;
        }
        List<Long> s = xs.stream().sorted().toList();
        return s.get(s.size() / 2);
    }
}
