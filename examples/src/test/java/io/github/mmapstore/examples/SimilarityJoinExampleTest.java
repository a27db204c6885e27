package io.github.mmapstore.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.examples.shared.EmbeddedKafka;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.junit.jupiter.api.Test;

/** The main example end to end, in-process, at a small size: its in-process broker, its topology, its checks. */
class SimilarityJoinExampleTest {
    @Test
    void joinsQueriesToTheirExactTopKAndRestoresAfterAWipe() throws Exception {
        SimilarityJoinExample.Result r = SimilarityJoinExample.run(SimilarityJoinExample.Options.parse(
                "--memories", "3000", "--queries", "300", "--clusters", "8", "--k", "5", "--partitions", "2", "--batch", "50"));

        assertThat(r.failures()).isEmpty();
        assertThat(r.queries()).isEqualTo(300);
        assertThat(r.exactAnswers()).as("answers equal to the brute-force top-k").isEqualTo(300);
        // well-separated clusters: nearly every match shares its query's cluster
        assertThat(r.precisionAtK()).isBetween(0.9, 1.0);
        assertThat(r.memoriesPerSecond()).isPositive();
        assertThat(r.queriesPerSecond()).isPositive();
        assertThat(r.restoredAfterWipe()).as("a wiped state directory restores the whole table").isGreaterThanOrEqualTo(3000);
        assertThat(r.restoredAfterRestart()).as("a clean restart replays at most a small tail").isLessThan(r.restoredAfterWipe() / 10);
        assertThat(r.leftoverThreads()).isEmpty();
    }

    @Test
    void runsAgainstAnExistingClusterUnbatchedAndCleansUpItsTopics() throws Exception {
        try (EmbeddedKafka cluster = EmbeddedKafka.start();
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()))) {
            SimilarityJoinExample.Result r = SimilarityJoinExample.run(SimilarityJoinExample.Options.parse(
                    "--bootstrap-servers", cluster.bootstrapServers(),
                    "--memories", "1000", "--queries", "100", "--clusters", "4", "--partitions", "1", "--batch", "1"));

            assertThat(r.failures()).isEmpty();
            assertThat(r.exactAnswers()).isEqualTo(100);
            // only the broker's own topics are left: the run's inputs, outputs and internal topics are gone
            assertThat(admin.listTopics().names().get(30, TimeUnit.SECONDS)).allMatch(t -> t.startsWith("__"));
        }
    }
}
