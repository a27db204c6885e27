package io.github.mmapstore.examples.shared;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;
import org.apache.kafka.streams.KafkaStreams;

/**
 * The version of the kafka-streams jar on the class path, read from the properties file that jar carries
 * (Kafka's own AppInfoParser moved to an internal package in 4.4; this works on 4.3 and 4.4 alike).
 */
public final class KafkaVersion {
    private KafkaVersion() {
    }

    public static String streams() {
        try (InputStream in = KafkaStreams.class.getResourceAsStream("/kafka/kafka-streams-version.properties")) {
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
}
