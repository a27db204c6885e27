package io.github.mmapstore.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.DoubleFunction;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Line charts (JFreeChart, PNG) of y over x: latency or throughput over time, load average over a run,
 * latency by percentile. Several named series share the axes; the y axis may be logarithmic (latencies
 * spanning decades).
 *
 * <pre>{@code
 * LineChart.write(LineChart.Spec.of("Load average during the run", "minutes since start", "1-minute load average")
 *                 .withMarker(2, "2 cores"),
 *         List.of(new LineChart.Series("load", new double[] {0, 1, 2}, new double[] {0.5, 1.8, 1.2})),
 *         Path.of("load.png"));
 * }</pre>
 */
public final class LineChart {
    private LineChart() {
    }

    /** One line: points (x[i], y[i]); NaN y values are skipped. */
    public record Series(String name, double[] x, double[] y) {
        public Series {
            if (x.length != y.length) {
                throw new IllegalArgumentException("series '" + name + "' has " + x.length + " x values but " + y.length + " y values");
            }
            x = x.clone();
            y = y.clone();
        }
    }

    public record Marker(double y, String label) {
    }

    public record Spec(String title, String subtitle, String xAxisLabel, String yAxisLabel, boolean logY, boolean showPoints,
                       DoubleFunction<String> yFormat, List<Marker> markers, int width, int height) {
        public Spec {
            markers = List.copyOf(markers);
        }

        /** Linear axes, points drawn, 1000 × 500. */
        public static Spec of(String title, String xAxisLabel, String yAxisLabel) {
            return new Spec(title, null, xAxisLabel, yAxisLabel, false, true, Charts::number, List.of(), 1000, 500);
        }

        public Spec withSubtitle(String s) {
            return new Spec(title, s, xAxisLabel, yAxisLabel, logY, showPoints, yFormat, markers, width, height);
        }

        public Spec withLogY() {
            return new Spec(title, subtitle, xAxisLabel, yAxisLabel, true, showPoints, yFormat, markers, width, height);
        }

        /** A dashed horizontal reference line at {@code y}. */
        public Spec withMarker(double y, String label) {
            List<Marker> m = new ArrayList<>(markers);
            m.add(new Marker(y, label));
            return new Spec(title, subtitle, xAxisLabel, yAxisLabel, logY, showPoints, yFormat, m, width, height);
        }

        public Spec withSize(int w, int h) {
            return new Spec(title, subtitle, xAxisLabel, yAxisLabel, logY, showPoints, yFormat, markers, w, h);
        }
    }

    public static void write(Spec spec, List<Series> series, Path png) throws IOException {
        Charts.writePng(chart(spec, series), png, spec.width(), spec.height());
    }

    /** The JFreeChart object; its dataset holds one XY series per {@link Series}, in order. */
    public static JFreeChart chart(Spec spec, List<Series> series) {
        if (series.isEmpty()) {
            throw new IllegalArgumentException("a line chart needs at least one series");
        }
        XYSeriesCollection data = new XYSeriesCollection();
        for (Series s : series) {
            XYSeries xy = new XYSeries(s.name(), false, true);
            for (int i = 0; i < s.x().length; i++) {
                if (Double.isFinite(s.y()[i]) && (!spec.logY() || s.y()[i] > 0)) {
                    xy.add(s.x()[i], s.y()[i]);
                }
            }
            data.addSeries(xy); // throws on a duplicate series name
        }
        NumberAxis x = new NumberAxis(spec.xAxisLabel());
        x.setAutoRangeIncludesZero(false);
        x.setTickLabelFont(Charts.LABEL_FONT);
        ValueAxis y;
        if (spec.logY()) {
            LogAxis log = new LogAxis(spec.yAxisLabel());
            log.setSmallestValue(1e-9);
            log.setNumberFormatOverride(Charts.numberFormat(spec.yFormat()));
            y = log;
        } else {
            NumberAxis lin = new NumberAxis(spec.yAxisLabel());
            lin.setAutoRangeIncludesZero(true);
            lin.setNumberFormatOverride(Charts.numberFormat(spec.yFormat()));
            y = lin;
        }
        y.setTickLabelFont(Charts.LABEL_FONT);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, spec.showPoints());
        for (int i = 0; i < series.size(); i++) {
            renderer.setSeriesPaint(i, Charts.PALETTE[i % Charts.PALETTE.length]);
            renderer.setSeriesStroke(i, new BasicStroke(2f));
        }
        XYPlot plot = new XYPlot(data, x, y, renderer);
        plot.setDomainGridlinePaint(Charts.GRID);
        plot.setRangeGridlinePaint(Charts.GRID);
        for (Marker m : spec.markers()) {
            ValueMarker vm = new ValueMarker(m.y(), Color.DARK_GRAY,
                    new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f));
            vm.setLabel(m.label());
            vm.setLabelFont(Charts.VALUE_FONT);
            vm.setLabelBackgroundColor(new Color(255, 255, 255, 0));
            vm.setLabelAnchor(RectangleAnchor.TOP_LEFT);
            vm.setLabelTextAnchor(TextAnchor.BOTTOM_LEFT);
            plot.addRangeMarker(vm);
        }
        return Charts.titled(spec.title(), spec.subtitle(), plot, series.size() > 1);
    }
}
