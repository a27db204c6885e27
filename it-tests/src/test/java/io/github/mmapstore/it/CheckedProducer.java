package io.github.mmapstore.it;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.producer.Callback;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * The producer the tests write their input with. It never loses a record silently: every send's outcome
 * is recorded, and {@link #flush()} and {@link #close(Duration)} throw when any send since the start failed.
 *
 * <p>Why: the oracle is computed from what a test meant to write. A send that failed unnoticed (the
 * 2026-11-25 corruption run lost 800 profiles to an {@code OutOfOrderSequenceException} under load) makes
 * a correct application look as if it lost output, which is the one verdict these tests must never get
 * wrong.
 */
final class CheckedProducer extends KafkaProducer<String, String> {
    private final AtomicLong sent = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicReference<RuntimeException> firstFailure = new AtomicReference<>();

    CheckedProducer(Properties config) {
        super(config, new StringSerializer(), new StringSerializer());
    }

    @Override
    public Future<RecordMetadata> send(ProducerRecord<String, String> record, Callback callback) {
        sent.incrementAndGet();
        return super.send(record, (metadata, exception) -> {
            if (exception != null) {
                failed.incrementAndGet();
                firstFailure.compareAndSet(null, new IllegalStateException("test input not written to "
                        + record.topic() + " (key " + record.key() + "): " + exception, exception));
            }
            if (callback != null) {
                callback.onCompletion(metadata, exception);
            }
        });
    }

    @Override
    public void flush() {
        super.flush();
        check();
    }

    @Override
    public void close(Duration timeout) {
        try {
            super.close(timeout);
        } finally {
            check();
        }
    }

    /** Throws when any send so far failed: the test's input, and so its oracle, would be wrong. */
    void check() {
        RuntimeException first = firstFailure.get();
        if (first != null) {
            throw new IllegalStateException(failed.get() + " of " + sent.get()
                    + " test input records could not be written; the oracle would not match the input", first);
        }
    }
}
