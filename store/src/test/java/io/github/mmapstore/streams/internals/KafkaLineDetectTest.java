package io.github.mmapstore.streams.internals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.apache.kafka.streams.errors.ProcessorStateException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The Kafka line check: an unsupported Kafka Streams version fails store initialisation with a message
 * naming the supported lines. {@code KafkaLine} is package-private and cannot be given another Kafka
 * Streams jar through public API, so this one test lives in KafkaLine's package: it moves with KafkaLine
 * (to {@code io.github.mmapstore.streams.internals}).
 */
class KafkaLineDetectTest {
    @ParameterizedTest
    @ValueSource(strings = {"4.4.0", "4.4.1", "4.4.0-SNAPSHOT", "4.4"})
    void kafka44Line(String version) {
        assertThat(KafkaLine.detect(version)).isInstanceOf(KafkaLine.Kafka44.class);
        assertThat(KafkaLine.detect(version).version()).isEqualTo(version);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.3.0", "4.3.1", "4.3.2-rc1"})
    void kafka43Line(String version) {
        assertThat(KafkaLine.detect(version)).isInstanceOf(KafkaLine.Kafka43.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"4.2.0", "4.5.0", "3.9.1", "5.0.0", "4", "14.4.0", "4.44.0"})
    void otherLinesFailWithTheSupportedOnesNamed(String version) {
        assertThatThrownBy(() -> KafkaLine.detect(version))
                .isInstanceOf(ProcessorStateException.class)
                .hasMessageContaining("4.3.x and 4.4.x")
                .hasMessageContaining(version);
    }

    @ParameterizedTest
    @ValueSource(booleans = {true})
    void thisBuildRunsOnTheKafka44Line(boolean ignored) {
        assertThat(KafkaLine.current()).isInstanceOf(KafkaLine.Kafka44.class);
    }
}
