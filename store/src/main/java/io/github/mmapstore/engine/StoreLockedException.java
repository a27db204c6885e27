package io.github.mmapstore.engine;

/** Another engine instance, in this process or another, holds the directory's lock. */
public final class StoreLockedException extends EngineException {
    public StoreLockedException(String message) {
        super(message);
    }
}
