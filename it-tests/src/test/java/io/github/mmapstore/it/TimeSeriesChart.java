package io.github.mmapstore.it;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * A small headless PNG chart for {@link ManyStoresIT}: two panels over seconds since launch, heap (top) and RSS
 * (bottom) in MiB, one line per variant, a dashed vertical line where that variant was killed. Java2D only.
 */
final class TimeSeriesChart {
    record Line(String name, double[] t, double[] heapMib, double[] rssMib, double killedAtSec) {
    }

    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xd62728), new Color(0x2ca02c), new Color(0xff7f0e)};
    private static final int W = 1100;
    private static final int PANEL_H = 330;
    private static final int LEFT = 80;
    private static final int RIGHT = 30;
    private static final int TOP = 50;
    private static final int GAP = 60;

    private TimeSeriesChart() {
    }

    static void write(List<Line> lines, String title, Path png) throws IOException {
        System.setProperty("java.awt.headless", "true");
        int h = TOP + 2 * PANEL_H + GAP + 50;
        BufferedImage img = new BufferedImage(W, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, W, h);
        g.setColor(Color.BLACK);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 16));
        g.drawString(title, LEFT, 25);
        double tMax = 1;
        for (Line l : lines) {
            for (double t : l.t()) {
                tMax = Math.max(tMax, t);
            }
        }
        panel(g, lines, true, TOP, tMax, "heap after the last GC (MiB)");
        panel(g, lines, false, TOP + PANEL_H + GAP, tMax, "RSS (MiB)");
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        g.setColor(Color.BLACK);
        g.drawString("seconds since launch (dashed: kill -9)", W / 2 - 100, h - 12);
        // the legend on the title's line, right of it (the panels' labels sit just above each panel)
        int x = Math.max(LEFT + 20 + g.getFontMetrics(new Font(Font.SANS_SERIF, Font.BOLD, 16)).stringWidth(title), W - 360);
        for (int i = 0; i < lines.size(); i++) {
            g.setColor(COLORS[i % COLORS.length]);
            g.fillRect(x, 17, 14, 6);
            g.setColor(Color.BLACK);
            g.drawString(lines.get(i).name(), x + 18, 25);
            x += 30 + g.getFontMetrics().stringWidth(lines.get(i).name());
        }
        g.dispose();
        ImageIO.write(img, "png", png.toFile());
    }

    private static void panel(Graphics2D g, List<Line> lines, boolean heap, int top, double tMax, String label) {
        double yMax = 1;
        for (Line l : lines) {
            for (double v : heap ? l.heapMib() : l.rssMib()) {
                if (!Double.isNaN(v)) {
                    yMax = Math.max(yMax, v);
                }
            }
        }
        yMax = niceCeil(yMax * 1.05);
        int plotW = W - LEFT - RIGHT;
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        for (int i = 0; i <= 5; i++) {
            int y = top + PANEL_H - i * PANEL_H / 5;
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(LEFT, y, LEFT + plotW, y);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.0f", yMax * i / 5), 10, y + 4);
        }
        double tStep = niceCeil(tMax / 10);
        for (double t = 0; t <= tMax; t += tStep) {
            int x = LEFT + (int) (t / tMax * plotW);
            g.setColor(new Color(0xe0e0e0));
            g.drawLine(x, top, x, top + PANEL_H);
            g.setColor(Color.DARK_GRAY);
            g.drawString(String.format(Locale.ROOT, "%.0f", t), x - 8, top + PANEL_H + 14);
        }
        g.setColor(Color.BLACK);
        g.drawRect(LEFT, top, plotW, PANEL_H);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 12));
        g.drawString(label, LEFT + 5, top - 6);
        for (int i = 0; i < lines.size(); i++) {
            Line l = lines.get(i);
            double[] ys = heap ? l.heapMib() : l.rssMib();
            g.setColor(COLORS[i % COLORS.length]);
            g.setStroke(new BasicStroke(1.6f));
            int px = -1;
            int py = -1;
            for (int j = 0; j < l.t().length; j++) {
                if (Double.isNaN(ys[j]) || ys[j] < 0) {
                    px = -1;
                    continue;
                }
                int x = LEFT + (int) (l.t()[j] / tMax * plotW);
                int y = top + PANEL_H - (int) (ys[j] / yMax * PANEL_H);
                if (px >= 0 && l.t()[j] - l.t()[j - 1] < 3) {
                    g.drawLine(px, py, x, y);
                }
                px = x;
                py = y;
            }
            if (l.killedAtSec() > 0) {
                int x = LEFT + (int) (l.killedAtSec() / tMax * plotW);
                g.setStroke(new BasicStroke(1f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
                g.drawLine(x, top, x, top + PANEL_H);
            }
        }
        g.setStroke(new BasicStroke(1f));
    }

    private static double niceCeil(double v) {
        double p = Math.pow(10, Math.floor(Math.log10(v)));
        for (double m : new double[] {1, 2, 2.5, 5, 10}) {
            if (m * p >= v) {
                return m * p;
            }
        }
        return 10 * p;
    }
}
