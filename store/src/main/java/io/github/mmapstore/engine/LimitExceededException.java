package io.github.mmapstore.engine;

/** A key or value larger than the configured maximum. The write was refused; nothing changed. */
public final class LimitExceededException extends EngineException {
    public LimitExceededException(String message) {
        super(message);
    }
}
