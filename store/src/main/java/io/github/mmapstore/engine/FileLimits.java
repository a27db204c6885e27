package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The memory mappings and long-held file descriptors of every engine in the JVM, counted against the
 * operating system's limits. Each segment file is one mapping for as long as a version or reader holds it;
 * each engine holds its {@code LOCK} file open, and with a log its current log file. Linux refuses a
 * process more than {@code vm.max_map_count} mappings (65,530 by default), and the JVM fails in odd places
 * when it runs out (thread stacks, the heap, class data are mappings too); file descriptors stop at
 * {@code ulimit -n}. An instance with hundreds of stores should learn of the limit from a message that
 * names it and the setting to change, at the store that would pass it, not from an {@code OutOfMemoryError}
 * in another thread: {@link #reserveMapping} refuses the mapping past {@link #maxMappings()} with
 * {@link LimitExceededException}, and a warning is logged once at 80 %.
 */
public final class FileLimits {
    private static final Logger LOG = LoggerFactory.getLogger(FileLimits.class);
    /** Mappings left to the JVM itself (heap regions, thread stacks, libraries) out of the kernel's limit. */
    static final long JVM_RESERVE = 8192;
    private static final Path MAX_MAP_COUNT = Path.of("/proc/sys/vm/max_map_count");

    private static final AtomicLong MAPPINGS = new AtomicLong();
    private static final AtomicLong OPEN_FILES = new AtomicLong();
    private static final AtomicBoolean WARNED = new AtomicBoolean();
    private static final long KERNEL_MAX_MAP_COUNT = readKernelMaxMapCount();
    private static volatile long maxMappings = defaultMaxMappings();

    private FileLimits() {
    }

    /** {@code vm.max_map_count}, or -1 where the system has no such limit (or it cannot be read). */
    public static long kernelMaxMapCount() {
        return KERNEL_MAX_MAP_COUNT;
    }

    /** The kernel's limit less {@link #JVM_RESERVE} (at least half of it), or unlimited without one. */
    public static long defaultMaxMappings() {
        long kernel = KERNEL_MAX_MAP_COUNT;
        return kernel <= 0 ? Long.MAX_VALUE : Math.max(kernel / 2, kernel - JVM_RESERVE);
    }

    private static long readKernelMaxMapCount() {
        try {
            // (a proc file reports size 0: read it as a stream, not by its size)
            try (java.io.BufferedReader r = Files.newBufferedReader(MAX_MAP_COUNT)) {
                String line = r.readLine();
                return line == null ? -1 : Long.parseLong(line.trim());
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** Sets the most segment mappings all engines of the JVM may hold ({@code mmapstore.max.mappings}). */
    public static void configureMaxMappings(long max) {
        if (max < 1) {
            throw new IllegalArgumentException("the maximum number of mappings must be positive, was " + max);
        }
        maxMappings = max;
    }

    public static long maxMappings() {
        return maxMappings;
    }

    /** Segment files mapped now by every engine of the JVM. */
    public static long mappings() {
        return MAPPINGS.get();
    }

    /** Files the engines of the JVM hold open between calls (lock files, current log files). */
    public static long openFiles() {
        return OPEN_FILES.get();
    }

    /** The process's file descriptor limit ({@code ulimit -n}), or -1 if the platform does not say. */
    public static long maxOpenFiles() {
        if (ManagementFactory.getOperatingSystemMXBean() instanceof com.sun.management.UnixOperatingSystemMXBean unix) {
            return unix.getMaxFileDescriptorCount();
        }
        return -1;
    }

    /**
     * Counts one more mapping of {@code file}, or refuses it: the caller maps it only after this returned,
     * and calls {@link #releaseMapping()} once it is unmapped (or was never mapped after all).
     */
    static void reserveMapping(Path file) {
        long max = maxMappings;
        long now = MAPPINGS.incrementAndGet();
        if (now > max) {
            MAPPINGS.decrementAndGet();
            throw new LimitExceededException("cannot map " + file + ": the MmapStores of this JVM already map " + (now - 1)
                    + " segment files, the most mmapstore.max.mappings allows (" + max + "; the kernel's vm.max_map_count is "
                    + (KERNEL_MAX_MAP_COUNT < 0 ? "unknown" : Long.toString(KERNEL_MAX_MAP_COUNT))
                    + "). Raise vm.max_map_count (sysctl -w vm.max_map_count=262144) and mmapstore.max.mappings, or run"
                    + " fewer store instances per JVM, or larger segment files (mmapstore.compaction.file.bytes)");
        }
        if (now > max / 5 * 4 && WARNED.compareAndSet(false, true)) {
            LOG.warn("The MmapStores of this JVM map {} segment files, over 80 % of mmapstore.max.mappings ({}; "
                    + "vm.max_map_count {}): raise both, or run fewer store instances per JVM", now, max, KERNEL_MAX_MAP_COUNT);
        }
    }

    static void releaseMapping() {
        MAPPINGS.decrementAndGet();
    }

    static void fileOpened() {
        OPEN_FILES.incrementAndGet();
    }

    static void fileClosed() {
        OPEN_FILES.decrementAndGet();
    }
}
