package io.github.mmapstore.examples.shared;

import java.io.OutputStream;
import java.io.PrintStream;
import org.apache.kafka.common.test.KafkaClusterTestKit;
import org.apache.kafka.common.test.TestKitNodes;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * A one-node KRaft cluster (one combined broker and controller) in this JVM, on localhost, with its logs in
 * a temporary directory that {@link #close()} deletes. Configured as a small single-node production
 * cluster would be: replication factor 1 everywhere, transactions allowed, no automatic topic creation.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private final KafkaClusterTestKit kit;

    private EmbeddedKafka(KafkaClusterTestKit kit) {
        this.kit = kit;
    }

    public static EmbeddedKafka start() throws Exception {
        KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
                .setCombined(true)
                .setNumBrokerNodes(1)
                .setNumControllerNodes(1)
                // what a released broker formats by default (the test kit would pick the newest, unreleased one)
                .setBootstrapMetadataVersion(MetadataVersion.LATEST_PRODUCTION)
                .build())
                .setConfigProp("offsets.topic.replication.factor", "1")
                .setConfigProp("offsets.topic.num.partitions", "4")
                .setConfigProp("transaction.state.log.replication.factor", "1")
                .setConfigProp("transaction.state.log.min.isr", "1")
                .setConfigProp("transaction.state.log.num.partitions", "4")
                .setConfigProp("group.initial.rebalance.delay.ms", "0")
                .setConfigProp("default.replication.factor", "1")
                .setConfigProp("min.insync.replicas", "1")
                .setConfigProp("auto.create.topics.enable", "false")
                .build();
        PrintStream out = System.out;
        try {
            // format() prints the bootstrap metadata records to System.out: keep them out of the report
            System.setOut(new PrintStream(OutputStream.nullOutputStream()));
            try {
                kit.format();
            } finally {
                System.setOut(out);
            }
            kit.startup();
            kit.waitForReadyBrokers();
            return new EmbeddedKafka(kit);
        } catch (Exception e) {
            kit.close();
            throw e;
        }
    }

    public String bootstrapServers() {
        return kit.bootstrapServers();
    }

    /** Stops the broker and the controller and deletes their logs. */
    @Override
    public void close() throws Exception {
        kit.close();
    }
}
