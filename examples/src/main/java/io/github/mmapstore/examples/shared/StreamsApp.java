package io.github.mmapstore.examples.shared;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.streams.CloseOptions;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.errors.StreamsUncaughtExceptionHandler.StreamThreadExceptionResponse;
import org.apache.kafka.streams.processor.StateRestoreListener;

/**
 * One running {@link KafkaStreams} instance of an example: started with a restore listener, a failed
 * stream thread shuts the client down and is remembered, so every wait can stop at once with the cause
 * instead of timing out.
 */
public final class StreamsApp implements AutoCloseable {
    /** How long the examples wait for anything (RUNNING, outputs, offsets) before giving up. */
    public static final Duration WAIT = Duration.ofSeconds(90);

    private final KafkaStreams streams;
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private final long startedNanos;
    private boolean closed;

    private StreamsApp(Topology topology, Properties config, StateRestoreListener restoreListener) {
        this.streams = new KafkaStreams(topology, config);
        streams.setUncaughtExceptionHandler(e -> {
            failure.compareAndSet(null, e);
            return StreamThreadExceptionResponse.SHUTDOWN_CLIENT;
        });
        if (restoreListener != null) {
            streams.setGlobalStateRestoreListener(restoreListener);
        }
        this.startedNanos = System.nanoTime();
        streams.start();
    }

    public static StreamsApp start(Topology topology, Properties config, StateRestoreListener restoreListener) {
        return new StreamsApp(topology, config, restoreListener);
    }

    /**
     * The settings every example shares: exactly-once v2, {@code threads} stream threads, and quick
     * retries of a transaction's first send (it often meets the previous transaction's markers still
     * being written, CONCURRENT_TRANSACTIONS: retry after 10 ms instead of backing off up to a second).
     */
    public static Properties exactlyOnceConfig(String applicationId, String bootstrapServers, String stateDir, int threads) {
        Properties p = new Properties();
        p.put(StreamsConfig.APPLICATION_ID_CONFIG, applicationId);
        p.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(StreamsConfig.STATE_DIR_CONFIG, stateDir);
        p.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
        p.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, threads);
        p.put(StreamsConfig.PROCESSING_EXCEPTION_HANDLER_GLOBAL_ENABLED_CONFIG, true);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MS_CONFIG), 10);
        p.put(StreamsConfig.producerPrefix(ProducerConfig.RETRY_BACKOFF_MAX_MS_CONFIG), 50);
        return p;
    }

    public KafkaStreams streams() {
        return streams;
    }

    /** Nanoseconds since {@code start()} was called. */
    public long elapsedNanos() {
        return System.nanoTime() - startedNanos;
    }

    /** Throws if a stream thread died. */
    public void checkHealthy() {
        Throwable t = failure.get();
        if (t != null) {
            throw new IllegalStateException("a stream thread failed: " + t, t);
        }
        KafkaStreams.State s = streams.state();
        if (s == KafkaStreams.State.ERROR || s == KafkaStreams.State.PENDING_ERROR) {
            throw new IllegalStateException("Kafka Streams is in state " + s);
        }
    }

    public void awaitRunning() throws Exception {
        await("Kafka Streams RUNNING", () -> streams.state() == KafkaStreams.State.RUNNING);
    }

    /** Waits up to {@link #WAIT} for {@code done}, checking the application's health every 50 ms. */
    public void await(String what, BooleanSupplier done) throws Exception {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (!done.getAsBoolean()) {
            checkHealthy();
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("gave up waiting for " + what + " after " + WAIT.toSeconds() + " s");
            }
            Thread.sleep(50);
        }
    }

    /** Active tasks on this instance. */
    public int activeTasks() {
        return streams.metadataForLocalThreads().stream().mapToInt(t -> t.activeTasks().size()).sum();
    }

    /** Closes cleanly (leaving the group, so a restart gets its tasks back at once); false if that took over 30 s. */
    public boolean closeCleanly() {
        if (closed) {
            return true;
        }
        closed = true;
        return streams.close(CloseOptions.groupMembershipOperation(CloseOptions.GroupMembershipOperation.LEAVE_GROUP)
                .withTimeout(Duration.ofSeconds(30)));
    }

    @Override
    public void close() {
        closeCleanly();
    }
}
