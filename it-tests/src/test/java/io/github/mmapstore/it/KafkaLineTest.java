package io.github.mmapstore.it;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * The real-broker tests say something about a Kafka line only if they run on it: the clients and streams jars
 * on the test class path (which the brokers and the child JVMs share) are the version the build names,
 * {@code it.kafka.version} (Kafka 4.4 by default, 4.3 with {@code -Pkafka-4.3} or in it-tests-kafka43).
 */
class KafkaLineTest {
    @Test
    void runsOnTheKafkaLineTheBuildNames() {
        String expected = System.getProperty("it.kafka.version");
        assertThat(expected).as("it.kafka.version (set by the module's surefire configuration)").isNotBlank();
        assertThat(ItSupport.kafkaVersion("clients")).as("kafka-clients").isEqualTo(expected);
        assertThat(ItSupport.kafkaVersion("streams")).as("kafka-streams").isEqualTo(expected);
    }
}
