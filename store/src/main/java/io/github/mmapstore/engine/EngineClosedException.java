package io.github.mmapstore.engine;

/** The engine was closed, or failed and must be reopened before further use. */
public final class EngineClosedException extends EngineException {
    public EngineClosedException(String message) {
        super(message);
    }

    public EngineClosedException(String message, Throwable cause) {
        super(message, cause);
    }
}
