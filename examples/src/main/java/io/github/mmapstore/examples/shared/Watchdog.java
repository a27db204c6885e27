package io.github.mmapstore.examples.shared;

import java.util.concurrent.TimeUnit;

/**
 * Ends the JVM with exit code 1 if an example's {@code main} is still running after its time limit: an
 * example that hangs (an unreachable broker, a stuck thread) must not hang a build or a terminal.
 */
public final class Watchdog implements AutoCloseable {
    private final Thread thread;

    public Watchdog(String example, int seconds) {
        thread = new Thread(() -> {
            try {
                Thread.sleep(TimeUnit.SECONDS.toMillis(seconds));
                System.out.flush();
                System.err.println(example + " FAILED: still running after " + seconds + " s; giving up");
                Runtime.getRuntime().halt(1);
            } catch (InterruptedException e) {
                // finished in time
            }
        }, "example-watchdog");
        thread.setDaemon(true);
        thread.start();
    }

    @Override
    public void close() {
        thread.interrupt();
    }
}
