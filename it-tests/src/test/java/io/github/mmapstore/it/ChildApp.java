package io.github.mmapstore.it;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * One run of {@link CrashApp} in a child JVM: the same {@code java} binary as the test JVM, the test class
 * path, {@code --add-modules jdk.incubator.vector}. Its protocol lines are parsed into {@link Event}s; its
 * stdout is also copied to {@code run-N.out}, stderr goes to {@code run-N.err}, its log4j log to
 * {@code run-N.log}.
 */
final class ChildApp {
    /** One protocol line: {@code @@ TYPE fields... epochMillis}. */
    record Event(String type, List<String> fields, long epochMillis, long nanos) {
        String field(int i) {
            return fields.get(i);
        }
    }

    final int run;
    final Path logFile;
    final Process process;
    final long launchNanos = System.nanoTime();
    final List<Event> events = new CopyOnWriteArrayList<>();
    private final Thread reader;
    private final Object lock = new Object();

    private ChildApp(int run, Path logFile, Process process, Path outFile) {
        this.run = run;
        this.logFile = logFile;
        this.process = process;
        this.reader = new Thread(() -> read(outFile), "child-" + run + "-stdout");
        this.reader.setDaemon(true);
        this.reader.start();
    }

    static ChildApp launch(Path workDir, int run, List<String> appArgs) {
        return launch(workDir, run, appArgs, List.of());
    }

    /** As {@link #launch(Path, int, List)}, with extra JVM options after the defaults (a later -Xmx wins). */
    static ChildApp launch(Path workDir, int run, List<String> appArgs, List<String> jvmArgs) {
        try {
            Files.createDirectories(workDir);
            Path logConfig = workDir.resolve("child-log4j2.properties");
            if (!Files.exists(logConfig)) {
                Files.writeString(logConfig, LOG_CONFIG);
            }
            Path log = workDir.resolve("run-" + run + ".log");
            List<String> cmd = new ArrayList<>();
            cmd.add(javaBinary());
            cmd.addAll(Arrays.asList("--add-modules", "jdk.incubator.vector",
                    "-Xmx512m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1", "-Xshare:auto",
                    "-Dlog4j2.configurationFile=" + logConfig.toAbsolutePath(),
                    "-Dcrash.app.log=" + log.toAbsolutePath()));
            cmd.addAll(jvmArgs);
            cmd.addAll(Arrays.asList("-cp", testClassPath(), CrashApp.class.getName()));
            cmd.addAll(appArgs);
            ProcessBuilder pb = new ProcessBuilder(cmd)
                    .redirectError(workDir.resolve("run-" + run + ".err").toFile());
            Process p = pb.start();
            return new ChildApp(run, log, p, workDir.resolve("run-" + run + ".out"));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The java launcher of this JVM (the JDK 25 toolchain's, under Surefire). */
    static String javaBinary() {
        return ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    }

    /** Surefire runs tests from a manifest-only jar; the real test class path is in surefire.test.class.path. */
    static String testClassPath() {
        String cp = System.getProperty("surefire.test.class.path");
        if (cp == null || cp.isBlank()) {
            cp = System.getProperty("java.class.path");
        }
        return cp;
    }

    private void read(Path outFile) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer copy = new PrintWriter(Files.newBufferedWriter(outFile))) {
            String line;
            while ((line = in.readLine()) != null) {
                copy.write(line);
                copy.write('\n');
                copy.flush();
                if (line.startsWith(CrashApp.TAG + " ")) {
                    String[] parts = line.substring(3).split(" ");
                    long ms = Long.parseLong(parts[parts.length - 1]);
                    events.add(new Event(parts[0], List.of(Arrays.copyOfRange(parts, 1, parts.length - 1)), ms, System.nanoTime()));
                    synchronized (lock) {
                        lock.notifyAll();
                    }
                }
            }
        } catch (IOException | RuntimeException e) {
            // the process died: nothing more to read
        } finally {
            synchronized (lock) {
                lock.notifyAll();
            }
        }
    }

    /** Waits for an event; null on timeout or if the process exits first. */
    Event await(Predicate<Event> match, long timeoutMs) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMs);
        synchronized (lock) {
            while (true) {
                for (Event e : events) {
                    if (match.test(e)) {
                        return e;
                    }
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || (!process.isAlive() && !reader.isAlive())) {
                    return null;
                }
                lock.wait(Math.max(1, Math.min(200, TimeUnit.NANOSECONDS.toMillis(left))));
            }
        }
    }

    Event awaitState(String state, long timeoutMs) throws InterruptedException {
        return await(e -> e.type().equals("STATE") && e.field(1).equals(state), timeoutMs);
    }

    /** The client's current state, from the last STATE line. */
    String state() {
        String s = "CREATED";
        for (Event e : events) {
            if (e.type().equals("STATE")) {
                s = e.field(1);
            }
        }
        return s;
    }

    /** Restores started and not yet ended or suspended. */
    long restoresInFlight() {
        java.util.Map<String, Integer> open = new java.util.HashMap<>();
        for (Event e : events) {
            String k = e.type().startsWith("RESTORE_") ? e.field(0) + "/" + e.field(1) + "/" + e.field(2) : null;
            if (e.type().equals("RESTORE_START")) {
                open.merge(k, 1, Integer::sum);
            } else if (e.type().equals("RESTORE_END") || e.type().equals("RESTORE_SUSPENDED")) {
                open.merge(k, -1, Integer::sum);
            }
        }
        return open.values().stream().filter(v -> v > 0).count();
    }

    void send(String command) throws IOException {
        OutputStream os = process.getOutputStream();
        os.write((command + "\n").getBytes(StandardCharsets.UTF_8));
        os.flush();
    }

    /** SIGKILL ({@code destroyForcibly} on Linux); returns the exit code, 137 = 128 + SIGKILL. */
    int kill() throws InterruptedException {
        process.destroyForcibly();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("child " + process.pid() + " survived SIGKILL");
        }
        reader.join(5_000);
        return process.exitValue();
    }

    /** Asks for a clean close; kills it if it does not exit in time. Returns the exit code. */
    int stop(long timeoutMs) throws InterruptedException, IOException {
        if (process.isAlive()) {
            send("stop");
            if (!process.waitFor(timeoutMs, TimeUnit.MILLISECONDS)) {
                return kill();
            }
        }
        reader.join(5_000);
        return process.exitValue();
    }

    long millisSinceLaunch(Event e) {
        return TimeUnit.NANOSECONDS.toMillis(e.nanos() - launchNanos);
    }

    private static final String LOG_CONFIG = """
            status = warn
            appender.file.type = File
            appender.file.name = file
            appender.file.fileName = ${sys:crash.app.log}
            appender.file.layout.type = PatternLayout
            appender.file.layout.pattern = %d{HH:mm:ss.SSS} %-5p [%t] %c{1} - %m%n
            rootLogger.level = warn
            rootLogger.appenderRef.file.ref = file
            logger.streams.name = org.apache.kafka.streams
            logger.streams.level = info
            logger.mmap.name = io.github.mmapstore
            logger.mmap.level = info
            # "Wiping state stores for ACTIVE task 0_1": a dirty close that wipes (EOS without transactional stores)
            logger.task.name = org.apache.kafka.streams.processor.internals.StreamTask
            logger.task.level = debug
            """;
}
