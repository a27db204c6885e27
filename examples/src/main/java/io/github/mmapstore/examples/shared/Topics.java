package io.github.mmapstore.examples.shared;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The topic chores of the examples through one {@link Admin} client: create and delete topics, read end
 * offsets, and tell how far a consumer group (a Kafka Streams application) has got through its input.
 */
public final class Topics implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Topics.class);
    private static final long TIMEOUT_S = 30;

    private final Admin admin;
    private final String bootstrap;

    public Topics(String bootstrapServers) {
        this.bootstrap = bootstrapServers;
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers));
    }

    /** Creates {@code names} with {@code partitions} partitions each (the broker's default replication). */
    public void create(Collection<String> names, int partitions) throws Exception {
        List<NewTopic> topics = names.stream().map(t -> new NewTopic(t, Optional.of(partitions), Optional.empty())).toList();
        try {
            admin.createTopics(topics).all().get(TIMEOUT_S, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            throw new IllegalStateException("no answer from the broker at " + bootstrap + " within " + TIMEOUT_S
                    + " s: is it running and reachable?", e);
        }
    }

    /** Deletes every topic whose name {@code matches} (e.g. one run's topics on a shared cluster); returns how many. */
    public int deleteMatching(Predicate<String> matches) {
        try {
            List<String> all = admin.listTopics().names().get(TIMEOUT_S, TimeUnit.SECONDS).stream().filter(matches).toList();
            admin.deleteTopics(all).all().get(TIMEOUT_S, TimeUnit.SECONDS);
            return all.size();
        } catch (Exception e) {
            LOG.warn("could not delete the example's topics: {}", e.toString());
            return 0;
        }
    }

    /** Names of the topics that {@code match}. */
    public List<String> names(Predicate<String> match) throws Exception {
        return admin.listTopics().names().get(TIMEOUT_S, TimeUnit.SECONDS).stream().filter(match).sorted().toList();
    }

    /** End offsets (next offset to be written, transaction markers included) of every partition of {@code topics}. */
    public Map<TopicPartition, Long> endOffsets(Collection<String> topics) throws Exception {
        Map<String, TopicDescription> descriptions = admin.describeTopics(topics).allTopicNames().get(TIMEOUT_S, TimeUnit.SECONDS);
        Map<TopicPartition, OffsetSpec> specs = new HashMap<>();
        descriptions.forEach((name, d) -> d.partitions().forEach(p -> specs.put(new TopicPartition(name, p.partition()), OffsetSpec.latest())));
        Map<TopicPartition, Long> end = new HashMap<>();
        admin.listOffsets(specs).all().get(TIMEOUT_S, TimeUnit.SECONDS).forEach((tp, info) -> end.put(tp, info.offset()));
        return end;
    }

    /** The sum of the end offsets of {@code topic}'s partitions. */
    public long totalEndOffset(String topic) throws Exception {
        return endOffsets(List.of(topic)).values().stream().mapToLong(Long::longValue).sum();
    }

    /**
     * How many records of {@code topics} the group {@code group} has not committed yet (summed over
     * partitions; 0 when it has committed up to the end of each). Answers -1 when the broker did not
     * answer in time, so a caller polling this can simply try again.
     */
    public long uncommitted(String group, Collection<String> topics) {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            long behind = 0;
            for (var e : endOffsets(topics).entrySet()) {
                OffsetAndMetadata c = committed.get(e.getKey());
                behind += Math.max(0, e.getValue() - (c == null ? 0 : c.offset()));
            }
            return behind;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        } catch (Exception e) {
            if (e instanceof ExecutionException || e instanceof TimeoutException) {
                return -1;
            }
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        admin.close();
    }
}
