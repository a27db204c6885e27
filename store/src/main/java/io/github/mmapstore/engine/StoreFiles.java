package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What one listing of a store directory found, sorted by file number. Only reads the directory: the
 * store inspector uses it on stores that a running engine may be changing.
 *
 * @param logs        numbered log files
 * @param segments    numbered segment files
 * @param temps       leftovers of an unfinished flush, compaction or manifest write
 * @param quarantines folders into which an earlier open moved damaged files
 * @param maxFileNumber the highest number of any numbered file (0 when none): recovery numbers new files
 *                    above it
 */
record StoreFiles(Path dir, boolean hasManifest, boolean hasCorruptMarker, SortedMap<Long, Path> logs,
                  SortedMap<Long, Path> segments, List<Path> temps, List<Path> quarantines, long maxFileNumber) {

    static StoreFiles list(Path dir) throws IOException {
        boolean manifest = false;
        boolean marker = false;
        TreeMap<Long, Path> logs = new TreeMap<>();
        TreeMap<Long, Path> segs = new TreeMap<>();
        List<Path> temps = new ArrayList<>();
        List<Path> quarantines = new ArrayList<>();
        long maxNumber = 0;
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir)) {
            for (Path p : ds) {
                String name = p.getFileName().toString();
                if (name.equals(FileNames.MANIFEST)) {
                    manifest = true;
                } else if (name.equals(FileNames.CORRUPT_MARKER)) {
                    marker = true;
                } else if (name.equals(FileNames.MANIFEST_TEMP)) {
                    temps.add(p);
                } else if (name.startsWith(FileNames.QUARANTINE_PREFIX) && Files.isDirectory(p)) {
                    quarantines.add(p);
                } else {
                    OptionalLong num = FileNames.number(name);
                    if (num.isEmpty()) {
                        continue;
                    }
                    maxNumber = Math.max(maxNumber, num.getAsLong());
                    if (name.endsWith(FileNames.TEMP_SUFFIX)) {
                        temps.add(p);
                    } else if (name.endsWith(FileNames.LOG_SUFFIX)) {
                        logs.put(num.getAsLong(), p);
                    } else if (name.endsWith(FileNames.SEGMENT_SUFFIX)) {
                        segs.put(num.getAsLong(), p);
                    }
                }
            }
        }
        temps.sort(null);
        quarantines.sort(null);
        return new StoreFiles(dir, manifest, marker, logs, segs, List.copyOf(temps), List.copyOf(quarantines),
                maxNumber);
    }

    /** Whether {@code dir} looks like a store directory: a manifest, or numbered log or segment files. */
    static boolean looksLikeStore(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        StoreFiles f = list(dir);
        return f.hasManifest() || !f.logs().isEmpty() || !f.segments().isEmpty() || f.hasCorruptMarker();
    }
}
