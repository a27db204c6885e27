package io.github.mmapstore.examples.shared;

import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

/** What an example leaves running after it shut everything down. */
public final class Threads {
    private Threads() {
    }

    /** The live non-daemon threads now (to compare with at the end). */
    public static Set<Thread> nonDaemon() {
        return Thread.getAllStackTraces().keySet().stream().filter(t -> t.isAlive() && !t.isDaemon()).collect(Collectors.toSet());
    }

    /**
     * Names of live non-daemon threads that were not in {@code before}, other than the calling one: threads
     * the example started and did not stop, which would keep the JVM alive after {@code main} returns.
     * Threads of anything else in the JVM (a test's own broker, say) were there before and do not count.
     */
    public static List<String> startedSince(Set<Thread> before) {
        Thread self = Thread.currentThread();
        return nonDaemon().stream()
                .filter(t -> t != self && !before.contains(t) && !t.getName().equals("DestroyJavaVM"))
                .map(Thread::getName)
                .sorted()
                .toList();
    }
}
