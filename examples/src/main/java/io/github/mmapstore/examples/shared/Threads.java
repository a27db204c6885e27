package io.github.mmapstore.examples.shared;

import java.util.List;

/** What is left running after an example shut everything down. */
public final class Threads {
    private Threads() {
    }

    /**
     * Names of live non-daemon threads other than the calling one: these would keep the JVM alive after
     * {@code main} returns. An example that closed its clients and its broker should leave none.
     */
    public static List<String> nonDaemonOthers() {
        Thread self = Thread.currentThread();
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t != self && t.isAlive() && !t.isDaemon() && !t.getName().equals("DestroyJavaVM"))
                .map(Thread::getName)
                .sorted()
                .toList();
    }
}
