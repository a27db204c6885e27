package io.github.mmapstore.engine;

/** Base of every failure the engine reports. Unchecked, like Kafka's own store exceptions. */
public class EngineException extends RuntimeException {
    public EngineException(String message) {
        super(message);
    }

    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }
}
