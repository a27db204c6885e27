package io.github.mmapstore.engine;

/** The directory was written by a format version this engine does not read. Nothing was changed. */
public final class IncompatibleFormatException extends EngineException {
    public IncompatibleFormatException(String message) {
        super(message);
    }
}
