package io.github.mmapstore.benchmarks.store;

import java.io.File;
import java.util.Map;
import java.util.Optional;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.streams.StreamsMetrics;
import org.apache.kafka.streams.processor.CommitCallback;
import org.apache.kafka.streams.processor.StateRestoreCallback;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * A real {@link StateStoreContext} (kafka-streams-test-utils' {@code MockProcessorContext}'s, which is
 * Kafka's own {@code AbstractProcessorContext} with a real {@code StreamsMetricsImpl}) that also keeps
 * the restore callback a store registers in {@code init}. MockProcessorContext records the store but
 * drops the callback; Kafka's {@code ProcessorStateManager} keeps it and later feeds changelog batches
 * to it through {@code StateRestoreCallbackAdapter.adapt(callback).restoreBatch(records)}: the harness
 * does the same with the captured callback.
 */
final class CapturingContext implements StateStoreContext {
    private final StateStoreContext delegate;
    private StateRestoreCallback restoreCallback;
    private CommitCallback commitCallback;

    CapturingContext(StateStoreContext delegate) {
        this.delegate = delegate;
    }

    StateRestoreCallback restoreCallback() {
        if (restoreCallback == null) {
            throw new IllegalStateException("the store registered no restore callback");
        }
        return restoreCallback;
    }

    CommitCallback commitCallback() {
        return commitCallback;
    }

    @Override
    public void register(StateStore store, StateRestoreCallback callback) {
        register(store, callback, () -> { });
    }

    @Override
    public void register(StateStore store, StateRestoreCallback callback, CommitCallback onCommit) {
        this.restoreCallback = callback;
        this.commitCallback = onCommit;
        delegate.register(store, callback, onCommit);
    }

    @Override
    public String applicationId() {
        return delegate.applicationId();
    }

    @Override
    public TaskId taskId() {
        return delegate.taskId();
    }

    @Override
    public Optional<RecordMetadata> recordMetadata() {
        return delegate.recordMetadata();
    }

    @Override
    public Serde<?> keySerde() {
        return delegate.keySerde();
    }

    @Override
    public Serde<?> valueSerde() {
        return delegate.valueSerde();
    }

    @Override
    public File stateDir() {
        return delegate.stateDir();
    }

    @Override
    public StreamsMetrics metrics() {
        return delegate.metrics();
    }

    @Override
    public Map<String, Object> appConfigs() {
        return delegate.appConfigs();
    }

    @Override
    public Map<String, Object> appConfigsWithPrefix(String prefix) {
        return delegate.appConfigsWithPrefix(prefix);
    }
}
