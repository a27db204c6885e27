package io.github.mmapstore.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.function.DoubleFunction;
import java.util.stream.DoubleStream;
import javax.imageio.ImageIO;

/**
 * PNG bar charts of ratios on a log scale (java.awt, headless): the canvas, the decade grid, the 1× and
 * target lines, and {@link #draw a chart of one bar per row}; grouped charts use the pieces directly.
 */
public final class BarChart {
    public static final Color GRID = new Color(225, 225, 225);
    public static final Color TARGET_MET = new Color(46, 139, 87);
    public static final Color TARGET_MISSED = new Color(220, 120, 40);
    public static final Color BETTER = new Color(70, 130, 180);
    public static final Color WORSE = new Color(190, 80, 80);

    private BarChart() {
    }

    /** A log-scale x axis from {@code 10^llo} to {@code 10^lhi} over {@code plotW} pixels starting at {@code left}. */
    public record Axis(double llo, double lhi, int left, int plotW) {
        /** At least {@code lo..hi}, widened to whole decades around every positive value. */
        public static Axis fit(double lo, double hi, DoubleStream values, int left, int plotW) {
            for (double a : values.toArray()) {
                if (!Double.isNaN(a) && a > 0) {
                    lo = Math.min(lo, Math.pow(10, Math.floor(Math.log10(a))));
                    hi = Math.max(hi, Math.pow(10, Math.ceil(Math.log10(a))));
                }
            }
            return new Axis(Math.log10(lo), Math.log10(hi), left, plotW);
        }

        public int x(double v) {
            return left + (int) ((Math.log10(v) - llo) / (lhi - llo) * plotW);
        }

        /** Grey decade lines from {@code top - 8} to {@code plotBottom}, labelled below. */
        public void drawGrid(Graphics2D g, int top, int plotBottom) {
            for (int e = (int) Math.round(llo); e <= (int) Math.round(lhi); e++) {
                int x = x(Math.pow(10, e));
                g.setColor(GRID);
                g.drawLine(x, top - 8, x, plotBottom);
                g.setColor(Color.DARK_GRAY);
                String label = e >= 0 ? String.format(Locale.ROOT, "%.0f×", Math.pow(10, e)) : Double.toString(Math.pow(10, e)) + "×";
                g.drawString(label, x - 10, plotBottom + 18);
            }
        }

        /** The thick black 1× line; returns its x. Leaves a 2 px stroke set. */
        public int drawOne(Graphics2D g, int top, int plotBottom) {
            int x1 = x(1);
            g.setColor(Color.BLACK);
            g.setStroke(new BasicStroke(2f));
            g.drawLine(x1, top - 10, x1, plotBottom);
            return x1;
        }

        /** A dashed green line at {@code target}, labelled above the plot. Leaves that colour and stroke set. */
        public void drawTarget(Graphics2D g, double target, String label, int top, int plotBottom) {
            int xt = x(target);
            g.setColor(new Color(0, 140, 0));
            g.setStroke(new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            g.drawLine(xt, top - 10, xt, plotBottom);
            g.drawString(label, xt + 4, top - 12);
        }
    }

    /** A white {@code w × h} canvas with {@code title} in bold at the top; the font is left at plain 12. */
    public static Graphics2D begin(BufferedImage img, String title) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, img.getWidth(), img.getHeight());
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
        g.drawString(title, 12, 24);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        return g;
    }

    /** {@code name} shortened until it fits in {@code width} pixels. */
    public static String clip(FontMetrics fm, String name, int width) {
        while (fm.stringWidth(name) > width && name.length() > 4) {
            name = name.substring(0, name.length() - 2);
        }
        return name;
    }

    public static void write(BufferedImage img, Path png) throws IOException {
        ImageIO.write(img, "png", png.toFile());
    }

    /** One bar of a {@link #draw} chart: its row name, ratio (NaN or ≤ 0: "n/a") and colour. */
    public record Bar(String label, double value, Color color) {
    }

    /** Layout and labels of a {@link #draw} chart. */
    public record Spec(String title, int left, int plotW, int right, double lo, double hi, double target, String targetLabel,
                       String footer, int footerX, DoubleFunction<String> format) {
    }

    /** One horizontal bar per row from the 1× line, with a target line. */
    public static void draw(Spec spec, List<Bar> bars, Path png) throws IOException {
        int left = spec.left();
        int barH = 24;
        int gap = 12;
        int top = 60;
        int bottom = 50;
        int w = left + spec.plotW() + spec.right();
        int h = top + bars.size() * (barH + gap) + bottom;
        Axis axis = Axis.fit(spec.lo(), spec.hi(), bars.stream().mapToDouble(Bar::value), left, spec.plotW());
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = begin(img, spec.title());
        try {
            int plotBottom = top + bars.size() * (barH + gap);
            axis.drawGrid(g, top, plotBottom);
            int x1 = axis.drawOne(g, top, plotBottom);
            axis.drawTarget(g, spec.target(), spec.targetLabel(), top, plotBottom);
            g.setStroke(new BasicStroke(1f));
            FontMetrics fm = g.getFontMetrics();
            for (int i = 0; i < bars.size(); i++) {
                Bar bar = bars.get(i);
                int y = top + i * (barH + gap);
                g.setColor(Color.BLACK);
                String name = clip(fm, bar.label(), left - 20);
                g.drawString(name, left - 10 - fm.stringWidth(name), y + barH / 2 + 5);
                double a = bar.value();
                if (Double.isNaN(a) || a <= 0) {
                    g.drawString("n/a", x1 + 6, y + barH / 2 + 5);
                    continue;
                }
                int xa = axis.x(a);
                g.setColor(bar.color());
                g.fillRect(Math.min(x1, xa), y, Math.max(2, Math.abs(xa - x1)), barH);
                g.setColor(Color.BLACK);
                int tx = a >= 1 ? xa + 6 : x1 + 6; // left of the bar would collide with the row names
                g.drawString(spec.format().apply(a), tx, y + barH / 2 + 5);
            }
            g.setColor(Color.DARK_GRAY);
            g.drawString(spec.footer(), spec.footerX(), h - 12);
        } finally {
            g.dispose();
        }
        write(img, png);
    }
}
