package io.github.mmapstore.examples.shared;

import java.io.PrintStream;
import java.util.Locale;

/**
 * A console progress bar for the long phases of the examples (producing, loading, restoring). On a
 * terminal it redraws one line in place ({@code \r}) at most ten times a second; when the output is not
 * a terminal (piped, under Maven's {@code exec:exec}, in a test) it prints a plain line at every quarter
 * of the way and at least every five seconds, so logs stay readable. The system property
 * {@code progress=bar} or {@code progress=lines} overrides the choice.
 *
 * <p>Thread-safe: a producer's callback thread or a restore listener may advance it while another thread
 * reads the total. The total may grow while the bar runs (a restore learns its size partition by
 * partition).
 */
public final class ProgressBar implements AutoCloseable {
    private static final int WIDTH = 30;
    private static final long REDRAW_NANOS = 100_000_000L;
    private static final long LINE_EVERY_NANOS = 5_000_000_000L;

    private final String label;
    private final String unit;
    private final boolean inPlace;
    private final PrintStream out;
    private final long started = System.nanoTime();
    private long total;
    private long done;
    private long lastDraw;
    private int lastQuarter;
    private boolean closed;

    public ProgressBar(String label, long total, String unit) {
        this(label, total, unit, System.out, drawsInPlace());
    }

    ProgressBar(String label, long total, String unit, PrintStream out, boolean inPlace) {
        if (total < 0) {
            throw new IllegalArgumentException("total must not be negative, was " + total);
        }
        this.label = label;
        this.total = total;
        this.unit = unit;
        this.out = out;
        this.inPlace = inPlace;
        draw(true);
    }

    /** True when standard output is an interactive terminal (or {@code -Dprogress=bar}). */
    static boolean drawsInPlace() {
        String forced = System.getProperty("progress", "");
        if (forced.equals("bar")) {
            return true;
        }
        if (forced.equals("lines")) {
            return false;
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    public synchronized void step(long n) {
        done += n;
        draw(false);
    }

    public synchronized void set(long value) {
        done = value;
        draw(false);
    }

    public synchronized void addToTotal(long n) {
        total += n;
        draw(false);
    }

    public synchronized long done() {
        return done;
    }

    /** Draws the final state and ends the line. */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        String line = render();
        out.println(inPlace ? "\r" + line : line);
        out.flush();
    }

    private void draw(boolean first) {
        if (closed) {
            return;
        }
        long now = System.nanoTime();
        if (inPlace) {
            if (first || now - lastDraw >= REDRAW_NANOS || done >= total) {
                lastDraw = now;
                out.print("\r" + render());
                out.flush();
            }
            return;
        }
        int quarter = total == 0 ? 0 : (int) Math.min(4, 4 * done / total);
        if (first || (quarter > lastQuarter && quarter < 4) || now - lastDraw >= LINE_EVERY_NANOS) {
            lastDraw = now;
            lastQuarter = Math.max(lastQuarter, quarter);
            out.println(render());
        }
    }

    private String render() {
        double fraction = total == 0 ? (closed ? 1 : 0) : Math.min(1.0, (double) done / total);
        int filled = (int) Math.round(fraction * WIDTH);
        long elapsed = System.nanoTime() - started;
        double perSec = done / Math.max(1e-3, elapsed / 1e9);
        return String.format(Locale.ROOT, "  %-24s [%s%s] %3.0f%% %,d/%,d %s  %.1f s  %,.0f %s/s",
                label, "#".repeat(filled), ".".repeat(WIDTH - filled), 100 * fraction, done, total, unit,
                elapsed / 1e9, perSec, unit);
    }
}
