package io.github.mmapstore.engine;

import java.io.IOException;
import java.io.UncheckedIOException;

/**
 * An I/O call failed (a full disk, a read-only file system, a vanished file). The failed write is not
 * durable; the engine stops accepting work until it is reopened, and reopening returns it to the last
 * completed commit.
 */
public final class EngineIOException extends EngineException {
    public EngineIOException(String message, IOException cause) {
        super(message + ": " + cause, new UncheckedIOException(cause));
    }
}
