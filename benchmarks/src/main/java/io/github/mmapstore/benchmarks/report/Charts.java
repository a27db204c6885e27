package io.github.mmapstore.benchmarks.report;

import java.awt.Color;
import java.awt.Font;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.text.FieldPosition;
import java.text.NumberFormat;
import java.text.ParsePosition;
import java.util.Locale;
import java.util.function.DoubleFunction;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.plot.Plot;
import org.jfree.chart.title.TextTitle;

/**
 * What the report charts share: headless AWT, fonts, colours, value formats and PNG output. The chart
 * types themselves are {@link BarChart} and {@link LineChart}.
 */
public final class Charts {
    static {
        // Benchmarks run on servers without a display; JFreeChart renders through java.awt.
        System.setProperty("java.awt.headless", "true");
    }

    public static final Font TITLE_FONT = new Font(Font.SANS_SERIF, Font.BOLD, 16);
    public static final Font SUBTITLE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    public static final Font LABEL_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 12);
    public static final Font VALUE_FONT = new Font(Font.SANS_SERIF, Font.PLAIN, 11);
    public static final Color GRID = new Color(215, 215, 215);
    public static final Color PARITY = Color.BLACK;
    public static final Color TARGET = new Color(0, 140, 0);
    public static final Color TARGET_MET = new Color(46, 139, 87);
    public static final Color TARGET_MISSED = new Color(220, 120, 40);
    public static final Color BETTER = new Color(70, 130, 180);
    public static final Color WORSE = new Color(190, 80, 80);
    /** Series colours in order: MmapStore-ish blue first, then contrasting ones. */
    public static final Color[] PALETTE = {new Color(46, 110, 180), new Color(230, 130, 40), new Color(120, 120, 120),
            new Color(60, 160, 90), new Color(170, 80, 160), new Color(200, 60, 60)};

    private Charts() {
    }

    /** "3.12×"-style ratio: enough digits to tell 0.0005× from 0.005×. */
    public static String ratio(double v) {
        if (!Double.isFinite(v)) {
            return "n/a";
        }
        if (v >= 10) {
            return String.format(Locale.ROOT, "%.1f×", v);
        }
        if (v >= 0.1) {
            return String.format(Locale.ROOT, "%.2f×", v);
        }
        return String.format(Locale.ROOT, "%.2g×", v);
    }

    /** Axis tick of a log ratio axis: "0.01×", "1×", "100×". */
    static String ratioTick(double v) {
        return (v >= 1 ? String.format(Locale.ROOT, "%,.0f", v)
                : java.math.BigDecimal.valueOf(v).round(new java.math.MathContext(2)).stripTrailingZeros().toPlainString()) + "×";
    }

    /** Plain figure with thousands separators and 3 significant digits below 100. */
    public static String number(double v) {
        if (!Double.isFinite(v)) {
            return "n/a";
        }
        double a = Math.abs(v);
        if (a >= 100) {
            return String.format(Locale.ROOT, "%,.0f", v);
        }
        if (a >= 10) {
            return String.format(Locale.ROOT, "%.1f", v);
        }
        if (a >= 1) {
            return String.format(Locale.ROOT, "%.2f", v);
        }
        return a == 0 ? "0" : String.format(Locale.ROOT, "%.3g", v);
    }

    /** A {@link NumberFormat} (what JFreeChart's axes and labels take) printing through {@code format}. */
    static NumberFormat numberFormat(DoubleFunction<String> format) {
        return new NumberFormat() {
            @Override
            public StringBuffer format(double number, StringBuffer toAppendTo, FieldPosition pos) {
                return toAppendTo.append(format.apply(number));
            }

            @Override
            public StringBuffer format(long number, StringBuffer toAppendTo, FieldPosition pos) {
                return toAppendTo.append(format.apply(number));
            }

            @Override
            public Number parse(String source, ParsePosition parsePosition) {
                throw new UnsupportedOperationException("chart labels are only formatted, never parsed");
            }
        };
    }

    /** Title, optional subtitle, white background. */
    static JFreeChart titled(String title, String subtitle, Plot plot, boolean legend) {
        JFreeChart chart = new JFreeChart(title, TITLE_FONT, plot, legend);
        if (subtitle != null && !subtitle.isBlank()) {
            TextTitle sub = new TextTitle(subtitle, SUBTITLE_FONT);
            sub.setPaint(Color.DARK_GRAY);
            chart.addSubtitle(sub);
        }
        chart.setBackgroundPaint(Color.WHITE);
        chart.setAntiAlias(true);
        chart.setTextAntiAlias(true);
        chart.setPadding(new org.jfree.chart.ui.RectangleInsets(6, 6, 6, 24)); // the last tick label needs room
        plot.setBackgroundPaint(Color.WHITE);
        plot.setOutlinePaint(Color.GRAY);
        return chart;
    }

    /** Renders {@code chart} into a {@code width × height} PNG at {@code png} (parent folders created). */
    public static void writePng(JFreeChart chart, Path png, int width, int height) throws IOException {
        if (width < 100 || height < 100) {
            throw new IllegalArgumentException("a chart needs at least 100 × 100 pixels, got " + width + " × " + height);
        }
        Path parent = png.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        ChartUtils.saveChartAsPNG(png.toFile(), chart, width, height);
    }
}
