package io.github.mmapstore.it;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;

/** An in-JVM KRaft cluster (combined broker+controller nodes) from kafka-test-common-runtime. */
final class KafkaCluster implements AutoCloseable {
    private final KafkaClusterTestKit kit;
    private final int brokers;

    private KafkaCluster(KafkaClusterTestKit kit, int brokers) {
        this.kit = kit;
        this.brokers = brokers;
    }

    private static KafkaCluster shared;

    /**
     * One single-broker cluster for the test classes of this JVM that ask for it (Surefire runs the test classes in one
     * forked JVM): starting and stopping a cluster costs about 15 s on 2 cores. Closed when the JVM exits; its users
     * keep apart by topic names and application ids.
     */
    static synchronized KafkaCluster shared() throws Exception {
        if (shared == null) {
            KafkaCluster c = start(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    c.kit.close();
                } catch (Exception e) {
                    // exiting anyway
                }
            }, "shared-kafka-cluster-close"));
            shared = c;
        }
        return shared;
    }

    static KafkaCluster start(int brokers) throws Exception {
        short rf = (short) Math.min(3, brokers);
        KafkaClusterTestKit.Builder b = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(brokers)
                .setNumControllerNodes(1)
                .build())
                .setConfigProp("offsets.topic.replication.factor", String.valueOf(rf))
                .setConfigProp("offsets.topic.num.partitions", "5")
                .setConfigProp("transaction.state.log.replication.factor", String.valueOf(rf))
                .setConfigProp("transaction.state.log.min.isr", String.valueOf(Math.min(2, rf)))
                .setConfigProp("transaction.state.log.num.partitions", "5")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                // lets a test's application ask for a short session (DirtyCloseIT); the clients' default is 45 s
                .setConfigProp("group.min.session.timeout.ms", "1000")
                .setConfigProp("default.replication.factor", String.valueOf(rf))
                .setConfigProp("min.insync.replicas", String.valueOf(Math.min(2, rf)))
                .setConfigProp("auto.create.topics.enable", "false")
                .setConfigProp("log.flush.interval.messages", String.valueOf(Long.MAX_VALUE));
        KafkaClusterTestKit kit = b.build();
        try {
            kit.format();
            kit.startup();
            kit.waitForReadyBrokers();
        } catch (Exception e) {
            kit.close();
            throw e;
        }
        return new KafkaCluster(kit, brokers);
    }

    String bootstrapServers() {
        return kit.bootstrapServers();
    }

    Admin admin() {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers()));
    }

    void createTopics(int partitions, List<String> names) throws Exception {
        short rf = (short) Math.min(3, brokers);
        try (Admin admin = admin()) {
            // retention.ms=-1: nothing may age out during a test, whatever the record timestamps
            admin.createTopics(names.stream().map(n -> new NewTopic(n, partitions, rf)
                            .configs(Map.of("retention.ms", "-1", "retention.bytes", "-1"))).toList())
                    .all().get(60, TimeUnit.SECONDS);
        }
    }

    @Override
    public void close() throws Exception {
        kit.close();
    }
}
