package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.streams.KafkaStreams;
import org.junit.jupiter.api.Test;

/**
 * The suites of this module prove something about one Kafka line only if they run on it: the clients and
 * streams jars on the test class path are the version the module's pom names (system property
 * {@code conformance.kafka.version}), whatever version the store artifact was compiled against. The versions
 * are read from the properties files the two jars carry (the same on 4.3 and 4.4).
 */
class KafkaRuntimeVersionTest {
    @Test
    void runsOnTheKafkaLineThePomNames() {
        String expected = System.getProperty("conformance.kafka.version");
        assertThat(expected).as("conformance.kafka.version (set by the module's surefire configuration)").isNotBlank();
        assertThat(version(KafkaProducer.class, "/kafka/kafka-version.properties")).as("kafka-clients on the test class path")
                .isEqualTo(expected);
        assertThat(version(KafkaStreams.class, "/kafka/kafka-streams-version.properties")).as("kafka-streams on the test class path")
                .isEqualTo(expected);
    }

    private static String version(Class<?> fromJar, String resource) {
        try (InputStream in = fromJar.getResourceAsStream(resource)) {
            assertThat(in).as("%s next to %s", resource, fromJar.getName()).isNotNull();
            Properties props = new Properties();
            props.load(in);
            return props.getProperty("version");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
