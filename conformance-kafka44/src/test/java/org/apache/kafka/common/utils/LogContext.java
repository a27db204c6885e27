package org.apache.kafka.common.utils;

/**
 * Kafka 4.4 moved {@code LogContext} to {@code org.apache.kafka.common.utils.internals}; the 4.3.1 kafka-streams
 * test jar (and conformance/'s own sources, which compile on both lines) still name the old class. This one keeps
 * the old name and is the new class, so it can be passed wherever Kafka 4.4 takes a LogContext.
 * Our code, not Kafka's: two constructors, the rest inherited.
 */
public class LogContext extends org.apache.kafka.common.utils.internals.LogContext {
    public LogContext(String logPrefix) {
        super(logPrefix);
    }

    public LogContext() {
        super();
    }
}
