package io.github.mmapstore.examples.shared;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** The local state directories of the examples: prepare, measure, wipe. */
public final class StateDirs {
    private StateDirs() {
    }

    /** A fresh temporary directory, or {@code given} when it is empty or absent (refused otherwise: it is never cleared). */
    public static Path prepare(Path given, String tempPrefix) throws IOException {
        if (given == null) {
            return Files.createTempDirectory(tempPrefix);
        }
        if (Files.exists(given)) {
            try (Stream<Path> s = Files.list(given)) {
                if (s.findAny().isPresent()) {
                    throw new IllegalArgumentException("--state-dir " + given + " is not empty: give an empty or absent directory");
                }
            }
        }
        return Files.createDirectories(given);
    }

    /** Total size of the regular files under {@code dir} (0 when absent). */
    public static long sizeOf(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            long total = 0;
            for (Path f : (Iterable<Path>) s.filter(Files::isRegularFile)::iterator) {
                total += Files.size(f);
            }
            return total;
        }
    }

    /** True when some directory under {@code dir} is named {@code name} (e.g. {@code rocksdb}, {@code mmapstore}). */
    public static boolean containsDirectory(Path dir, String name) throws IOException {
        if (!Files.exists(dir)) {
            return false;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            return s.anyMatch(p -> Files.isDirectory(p) && p.getFileName().toString().equals(name));
        }
    }

    /** Deletes {@code dir} and everything under it. */
    public static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : (Iterable<Path>) s.sorted(Comparator.reverseOrder())::iterator) {
                Files.deleteIfExists(p);
            }
        }
    }
}
