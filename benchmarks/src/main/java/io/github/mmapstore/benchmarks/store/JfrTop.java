package io.github.mmapstore.benchmarks.store;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordingFile;

/**
 * Summarises a JFR recording of {@link StoreLevelBenchmark} per store and phase (the harness's
 * {@code --phases} file gives each phase's start and end): for the harness thread, the top frames by
 * self samples and by inclusive samples ({@code jdk.ExecutionSample} for Java code,
 * {@code jdk.NativeMethodSample} for threads in JNI/native code, e.g. RocksDB).
 *
 * <p>Usage: {@code JfrTop <recording.jfr> <phases.txt> [top N] [thread name]}.
 */
public final class JfrTop {
    record Window(String label, Instant start, Instant end) {
    }

    static final class Counts {
        long samples;
        long nativeSamples;
        final Map<String, Long> self = new HashMap<>();
        final Map<String, Long> inclusive = new HashMap<>();
    }

    public static void main(String[] args) throws IOException {
        Path jfr = Path.of(args[0]);
        List<Window> windows = windows(Path.of(args[1]));
        int top = args.length > 2 ? Integer.parseInt(args[2]) : 15;
        String thread = args.length > 3 ? args[3] : "main";
        Map<String, Counts> byWindow = new LinkedHashMap<>();
        for (Window w : windows) {
            byWindow.put(w.label(), new Counts());
        }
        try (RecordingFile rf = new RecordingFile(jfr)) {
            while (rf.hasMoreEvents()) {
                RecordedEvent e = rf.readEvent();
                String type = e.getEventType().getName();
                boolean isNative = type.equals("jdk.NativeMethodSample");
                if (!isNative && !type.equals("jdk.ExecutionSample")) {
                    continue;
                }
                var t = e.getThread(isNative ? "sampledThread" : "sampledThread");
                if (t == null || !thread.equals(t.getJavaName())) {
                    continue;
                }
                Instant at = e.getStartTime();
                Window w = null;
                for (Window x : windows) {
                    if (!at.isBefore(x.start()) && !at.isAfter(x.end())) {
                        w = x;
                        break;
                    }
                }
                if (w == null) {
                    continue;
                }
                RecordedStackTrace st = e.getStackTrace();
                if (st == null || st.getFrames().isEmpty()) {
                    continue;
                }
                Counts c = byWindow.get(w.label());
                c.samples++;
                if (isNative) {
                    c.nativeSamples++;
                }
                List<RecordedFrame> frames = st.getFrames();
                c.self.merge(name(frames.get(0)), 1L, Long::sum);
                Set<String> seen = new HashSet<>();
                for (RecordedFrame f : frames) {
                    String n = name(f);
                    if (seen.add(n)) {
                        c.inclusive.merge(n, 1L, Long::sum);
                    }
                }
            }
        }
        for (Map.Entry<String, Counts> en : byWindow.entrySet()) {
            Counts c = en.getValue();
            System.out.printf(Locale.ROOT, "%n=== %s: %d samples on thread '%s' (%d in native code) ===%n", en.getKey(),
                    c.samples, thread, c.nativeSamples);
            if (c.samples == 0) {
                continue;
            }
            System.out.println("-- self (top frame) --");
            print(c.self, c.samples, top);
            System.out.println("-- inclusive (frame anywhere on the stack) --");
            print(c.inclusive, c.samples, top);
        }
    }

    static String name(RecordedFrame f) {
        String cls = f.getMethod().getType().getName();
        int dot = cls.lastIndexOf('.');
        return cls.substring(dot + 1) + "." + f.getMethod().getName() + (f.isJavaFrame() ? "" : " [native]");
    }

    static void print(Map<String, Long> m, long total, int top) {
        m.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(top)
                .forEach(e -> System.out.printf(Locale.ROOT, "  %5.1f%%  %6d  %s%n", 100.0 * e.getValue() / total, e.getValue(), e.getKey()));
    }

    /** Lines "start|end kind op ISO-instant" to windows "kind op". */
    static List<Window> windows(Path phases) throws IOException {
        Map<String, Instant> open = new HashMap<>();
        List<Window> out = new ArrayList<>();
        for (String l : Files.readAllLines(phases)) {
            String[] p = l.trim().split("\\s+");
            if (p.length != 4) {
                continue;
            }
            String label = p[1] + " " + p[2];
            Instant at = Instant.parse(p[3]);
            if (p[0].equals("start")) {
                open.put(label, at);
            } else if (open.containsKey(label)) {
                out.add(new Window(label, open.remove(label), at));
            }
        }
        return out;
    }
}
