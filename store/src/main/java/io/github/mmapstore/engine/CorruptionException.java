package io.github.mmapstore.engine;

import java.nio.file.Path;

/**
 * A checksum did not match, or a file's structure is impossible. The bad bytes were never returned.
 * The engine refuses further use until it is reopened; reopening moves the damaged files aside and
 * opens an empty store with no commit metadata, so the owner rebuilds it (Kafka restores it from the
 * changelog).
 */
public final class CorruptionException extends EngineException {
    private final Path file;
    private final long offset;
    private final String detail;

    public CorruptionException(Path file, long offset, String what) {
        super("corruption in " + file + " at byte offset " + offset + ": " + what);
        this.file = file;
        this.offset = offset;
        this.detail = what;
    }

    /** The damaged file. */
    public Path file() {
        return file;
    }

    /** Byte offset in {@link #file()} where the damage was found. */
    public long offset() {
        return offset;
    }

    /** What was wrong, without the file and offset (the store inspector lists those separately). */
    public String detail() {
        return detail;
    }
}
