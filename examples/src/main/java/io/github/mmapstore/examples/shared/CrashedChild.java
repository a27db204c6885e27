package io.github.mmapstore.examples.shared;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A main class run in a child JVM (the same {@code java} and class path as this one) until it prints a
 * ready line, then killed with SIGKILL: a real crash, with no close, no flush, no shutdown hook, for the
 * examples that show what a restart after a crash costs.
 */
public final class CrashedChild {
    /** The line a child prints once it is in the state to be killed. */
    public static final String READY = "@@ READY";

    private CrashedChild() {
    }

    /**
     * Starts {@code mainClass} with {@code args}, waits for {@link #READY}, lets it run {@code afterReadyMillis}
     * more, then kills it. Returns the child's exit code (137 = killed by SIGKILL).
     */
    public static int runAndKill(String mainClass, List<String> args, long afterReadyMillis) throws Exception {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "--sun-misc-unsafe-memory-access=allow", "-cp", classPath(), mainClass));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        List<String> lines = new CopyOnWriteArrayList<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the child was killed: its pipe closes
            }
        }, "crashed-child-output");
        reader.setDaemon(true);
        reader.start();
        try {
            long deadline = System.nanoTime() + StreamsApp.WAIT.toNanos();
            while (!lines.contains(READY)) {
                if (!p.isAlive()) {
                    throw new IllegalStateException("the child JVM exited (code " + p.exitValue() + ") before it was ready; its output:\n"
                            + String.join("\n", lines));
                }
                if (System.nanoTime() > deadline) {
                    throw new TimeoutException("the child JVM was not ready after " + StreamsApp.WAIT.toSeconds() + " s; its output:\n"
                            + String.join("\n", lines));
                }
                Thread.sleep(20);
            }
            Thread.sleep(afterReadyMillis);
        } finally {
            p.destroyForcibly(); // SIGKILL on Linux and macOS
            p.waitFor(30, TimeUnit.SECONDS);
        }
        return p.exitValue();
    }

    /** Surefire runs tests from a manifest-only jar and puts the real class path in surefire.test.class.path. */
    private static String classPath() {
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null && !cp.isBlank() ? cp : System.getProperty("java.class.path");
    }
}
