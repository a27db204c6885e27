package io.github.mmapstore.benchmarks.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import java.util.function.Function;
import java.util.function.UnaryOperator;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;

/**
 * A Kafka key-value store opened outside a topology, the way the store-level harnesses drive one: a
 * directory of its own, the context of task 0_0 with a record of the input topic in flight (stores track
 * their Interactive Queries position from it), then {@code init}.
 */
public record HarnessStore(KeyValueStore<Bytes, byte[]> store, StateStoreContext context, Path dir) {
    public static final String STORE_NAME = "bench";
    public static final TopicPartition INPUT_TP = new TopicPartition("bench-input", 0);

    /**
     * Opens the store {@code create} makes from the configuration ({@code mmapstore.*} keys included).
     *
     * @param wrap wraps the store context before {@code init} (identity when nothing needs capturing)
     */
    public static HarnessStore open(Path work, String label, String applicationId, Map<String, Object> config,
            Function<Properties, KeyValueStore<Bytes, byte[]>> create, UnaryOperator<StateStoreContext> wrap)
            throws IOException {
        Path dir = Files.createTempDirectory(work, label + "-");
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
        props.put(StreamsConfig.STATE_DIR_CONFIG, dir.toString());
        props.putAll(config);
        KeyValueStore<Bytes, byte[]> store = create.apply(props);
        MockProcessorContext<Object, Object> mock = new MockProcessorContext<>(props, new TaskId(0, 0), dir.toFile());
        mock.setRecordMetadata(INPUT_TP.topic(), INPUT_TP.partition(), 0L);
        StateStoreContext context = wrap.apply(mock.getStateStoreContext());
        store.init(context, store);
        return new HarnessStore(store, context, dir);
    }
}
