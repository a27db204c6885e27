package io.github.mmapstore.it;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

/**
 * Damages the files of one MmapStore directory ({@code <stateDir>/<appId>/<task>/mmapstore/<store>/}) while
 * no process has it open, the way a bad disk, a bad copy or an operator would. Every damage is described
 * in one line (file, offset, bits) so a failing scenario can be replayed by hand.
 */
final class StoreDamage {
    enum Kind {
        /** Flip one bit of a byte after the 24-byte header of a log file. */
        LOG_BITFLIP,
        /** Flip one bit of a byte anywhere in a segment file (data page, page table, footer or trailer). */
        SEGMENT_BITFLIP,
        /** Flip one bit of a byte of the MANIFEST. */
        MANIFEST_BITFLIP,
        /** Truncate a segment, log or the MANIFEST to a random shorter length. */
        TRUNCATE,
        /** Overwrite one 4 KiB-aligned page of a segment or log with zeros. */
        ZERO_PAGE,
        /** Delete a segment file. */
        DELETE_SEGMENT
    }

    static final int PAGE = 4096;

    private StoreDamage() {
    }

    static List<Path> files(Path storeDir, String suffix) throws IOException {
        if (!Files.isDirectory(storeDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(storeDir)) {
            return s.filter(Files::isRegularFile).filter(p -> p.getFileName().toString().endsWith(suffix))
                    .sorted(Comparator.comparing(p -> p.getFileName().toString())).toList();
        }
    }

    static List<Path> quarantines(Path storeDir) throws IOException {
        if (!Files.isDirectory(storeDir)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(storeDir)) {
            return s.filter(Files::isDirectory).filter(p -> p.getFileName().toString().startsWith("quarantine-"))
                    .sorted().toList();
        }
    }

    /** A short inventory: {@code 3 seg (41 KiB), 1 log (12 KiB), MANIFEST 105 B}. */
    static String inventory(Path storeDir) throws IOException {
        List<Path> segs = files(storeDir, ".seg");
        List<Path> logs = files(storeDir, ".log");
        Path man = storeDir.resolve("MANIFEST");
        return segs.size() + " seg (" + size(segs) / 1024 + " KiB), " + logs.size() + " log (" + size(logs) / 1024 + " KiB), MANIFEST "
                + (Files.exists(man) ? Files.size(man) + " B" : "absent")
                + (Files.exists(storeDir.resolve("CORRUPT")) ? ", CORRUPT" : "");
    }

    private static long size(List<Path> ps) throws IOException {
        long n = 0;
        for (Path p : ps) {
            n += Files.size(p);
        }
        return n;
    }

    /**
     * Applies {@code kind} to the store directory; returns what was done. When the store has no file of the
     * kind's type (no segment yet), falls back to the nearest damage that applies and says so.
     */
    static String apply(Kind kind, Path storeDir, Random rnd) throws IOException {
        List<Path> segs = files(storeDir, ".seg");
        List<Path> logs = new ArrayList<>(files(storeDir, ".log"));
        logs.removeIf(p -> sizeOf(p) <= 24 + 13);
        Path manifest = storeDir.resolve("MANIFEST");
        switch (kind) {
            case LOG_BITFLIP -> {
                if (logs.isEmpty()) {
                    return "no log with frames; " + apply(Kind.SEGMENT_BITFLIP, storeDir, rnd);
                }
                Path f = pick(logs, rnd);
                return flip(f, 24 + (long) (rnd.nextDouble() * (sizeOf(f) - 24)), rnd);
            }
            case SEGMENT_BITFLIP -> {
                if (segs.isEmpty()) {
                    return "no segment; " + apply(Kind.MANIFEST_BITFLIP, storeDir, rnd);
                }
                Path f = pick(segs, rnd);
                return flip(f, (long) (rnd.nextDouble() * sizeOf(f)), rnd);
            }
            case MANIFEST_BITFLIP -> {
                if (!Files.exists(manifest)) {
                    return "no MANIFEST";
                }
                return flip(manifest, (long) (rnd.nextDouble() * sizeOf(manifest)), rnd);
            }
            case TRUNCATE -> {
                List<List<Path>> types = new ArrayList<>();
                if (!segs.isEmpty()) {
                    types.add(segs);
                }
                if (!logs.isEmpty()) {
                    types.add(logs);
                }
                if (Files.exists(manifest)) {
                    types.add(List.of(manifest));
                }
                if (types.isEmpty()) {
                    return "nothing to truncate";
                }
                Path f = pick(pick(types, rnd), rnd);
                long size = sizeOf(f);
                long to = (long) (rnd.nextDouble() * size);
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.setLength(to);
                }
                return "truncated " + f.getFileName() + " from " + size + " to " + to + " B";
            }
            case ZERO_PAGE -> {
                List<Path> both = new ArrayList<>(segs);
                both.addAll(logs);
                if (both.isEmpty()) {
                    return "no segment or log; " + apply(Kind.MANIFEST_BITFLIP, storeDir, rnd);
                }
                // segments first: they are what a 4 KiB page means on disk; logs as often as they exist
                Path f = !segs.isEmpty() && (logs.isEmpty() || rnd.nextBoolean()) ? pick(segs, rnd) : pick(logs, rnd);
                long size = sizeOf(f);
                long pages = (size + PAGE - 1) / PAGE;
                long page = (long) (rnd.nextDouble() * pages);
                long from = page * PAGE;
                int len = (int) Math.min(PAGE, size - from);
                try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
                    raf.seek(from);
                    raf.write(new byte[len]);
                }
                return "zeroed page " + page + " of " + pages + " of " + f.getFileName() + " (" + len + " B at " + from + ", size " + size + ")";
            }
            case DELETE_SEGMENT -> {
                if (segs.isEmpty()) {
                    return "no segment; " + apply(Kind.TRUNCATE, storeDir, rnd);
                }
                Path f = pick(segs, rnd);
                long size = sizeOf(f);
                Files.delete(f);
                return "deleted " + f.getFileName() + " (" + size + " B)";
            }
            default -> throw new IllegalArgumentException(kind.toString());
        }
    }

    private static String flip(Path f, long offset, Random rnd) throws IOException {
        int bit = rnd.nextInt(8);
        try (RandomAccessFile raf = new RandomAccessFile(f.toFile(), "rw")) {
            raf.seek(offset);
            int b = raf.read();
            raf.seek(offset);
            raf.write(b ^ (1 << bit));
            return "flipped bit " + bit + " of byte " + offset + " of " + f.getFileName() + " (size " + raf.length()
                    + ", page " + offset / PAGE + ", 0x" + Integer.toHexString(b) + " -> 0x" + Integer.toHexString(b ^ (1 << bit)) + ")";
        }
    }

    private static long sizeOf(Path p) {
        try {
            return Files.size(p);
        } catch (IOException e) {
            return 0;
        }
    }

    private static <T> T pick(List<T> xs, Random rnd) {
        return xs.get(rnd.nextInt(xs.size()));
    }
}
