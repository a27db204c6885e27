package io.github.mmapstore.engine;

import java.nio.file.Path;
import java.util.OptionalLong;

/** Names of the files in a store directory. Numbers are unique for the life of the directory. */
final class FileNames {
    static final String MANIFEST = "MANIFEST";
    static final String MANIFEST_TEMP = "MANIFEST.tmp";
    static final String LOCK = "LOCK";
    static final String CORRUPT_MARKER = "CORRUPT";
    static final String QUARANTINE_PREFIX = "quarantine-";
    static final String LOG_SUFFIX = ".log";
    static final String SEGMENT_SUFFIX = ".seg";
    static final String TEMP_SUFFIX = ".tmp";

    private FileNames() {
    }

    static Path log(Path dir, long number) {
        return dir.resolve(String.format("%012d%s", number, LOG_SUFFIX));
    }

    static Path segment(Path dir, long number) {
        return dir.resolve(String.format("%012d%s", number, SEGMENT_SUFFIX));
    }

    static Path segmentTemp(Path dir, long number) {
        return dir.resolve(String.format("%012d%s%s", number, SEGMENT_SUFFIX, TEMP_SUFFIX));
    }

    /** The number of a log, segment or temporary file, or empty for any other name. */
    static OptionalLong number(String name) {
        int dot = name.indexOf('.');
        if (dot != 12) {
            return OptionalLong.empty();
        }
        for (int i = 0; i < 12; i++) {
            if (!Character.isDigit(name.charAt(i))) {
                return OptionalLong.empty();
            }
        }
        return OptionalLong.of(Long.parseLong(name.substring(0, 12)));
    }
}
