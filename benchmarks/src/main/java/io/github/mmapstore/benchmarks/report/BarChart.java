package io.github.mmapstore.benchmarks.report;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Paint;
import java.awt.geom.Rectangle2D;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.function.DoubleFunction;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.AxisLocation;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.labels.CategoryItemLabelGenerator;
import org.jfree.chart.labels.ItemLabelAnchor;
import org.jfree.chart.labels.ItemLabelPosition;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.ValueMarker;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.category.CategoryDataset;
import org.jfree.data.category.DefaultCategoryDataset;

/**
 * Bar charts (JFreeChart, PNG): one bar per (category, series), the value printed at the end of every
 * bar, optional reference lines. Two presets: {@link Spec#ratios} (horizontal, log scale, bars grow from
 * 1× so that "better" and "worse" point in opposite directions, a parity line at 1×) and
 * {@link Spec#values} (vertical, linear, bars from 0, e.g. throughputs).
 *
 * <pre>{@code
 * BarChart.write(BarChart.Spec.ratios("MmapStore vs RocksDB", "advantage (log scale, > 1 = MmapStore better)")
 *                 .withMarker(3, "3× target"),
 *         List.of("put", "get"),
 *         List.of(BarChart.Series.of("throughput", List.of(1.8, 4.0)), BarChart.Series.of("p99 latency", List.of(4.2, 3.1))),
 *         Path.of("chart.png"));
 * }</pre>
 */
public final class BarChart {
    private BarChart() {
    }

    public enum Scale { LINEAR, LOG }

    /**
     * One series: a value per category (NaN: no bar, e.g. not measured) and optionally a colour per
     * value (e.g. green where a target is met); {@code colors} null means one colour for the series.
     */
    public record Series(String name, List<Double> values, List<Color> colors) {
        public Series {
            values = List.copyOf(values);
            if (colors != null && colors.size() != values.size()) {
                throw new IllegalArgumentException("series '" + name + "' has " + values.size() + " values but "
                        + colors.size() + " colours");
            }
            colors = colors == null ? null : List.copyOf(colors);
        }

        public static Series of(String name, List<Double> values) {
            return new Series(name, values, null);
        }
    }

    /** A reference line across the plot at {@code value} (parity, a target), labelled. */
    public record Marker(double value, String label, Color color, boolean dashed) {
    }

    /**
     * Layout and labels. {@code base} is where bars start (0 for amounts, 1 for ratios); {@code height} 0
     * means "tall enough for the bars" (horizontal charts).
     */
    public record Spec(String title, String subtitle, String categoryAxisLabel, String valueAxisLabel, Scale scale, double base,
                       boolean horizontal, DoubleFunction<String> valueFormat, List<Marker> markers, int width, int height) {
        public Spec {
            markers = List.copyOf(markers);
            if (scale == Scale.LOG && !(base > 0)) {
                throw new IllegalArgumentException("a log-scale bar chart needs a positive base, got " + base);
            }
        }

        /** Horizontal, log scale, bars from 1×, a black parity line at 1×, "3.12×" labels. */
        public static Spec ratios(String title, String valueAxisLabel) {
            return new Spec(title, null, null, valueAxisLabel, Scale.LOG, 1, true, Charts::ratio,
                    List.of(new Marker(1, "1× (parity)", Charts.PARITY, false)), 1100, 0);
        }

        /** Vertical, linear, bars from 0, "12,345"-style labels. */
        public static Spec values(String title, String valueAxisLabel) {
            return new Spec(title, null, null, valueAxisLabel, Scale.LINEAR, 0, false, Charts::number, List.of(), 1000, 600);
        }

        public Spec withSubtitle(String s) {
            return new Spec(title, s, categoryAxisLabel, valueAxisLabel, scale, base, horizontal, valueFormat, markers, width, height);
        }

        public Spec withCategoryAxisLabel(String s) {
            return new Spec(title, subtitle, s, valueAxisLabel, scale, base, horizontal, valueFormat, markers, width, height);
        }

        /** Adds a dashed green target line. */
        public Spec withMarker(double value, String label) {
            List<Marker> m = new ArrayList<>(markers);
            m.add(new Marker(value, label, Charts.TARGET, true));
            return new Spec(title, subtitle, categoryAxisLabel, valueAxisLabel, scale, base, horizontal, valueFormat, m, width, height);
        }

        public Spec withFormat(DoubleFunction<String> f) {
            return new Spec(title, subtitle, categoryAxisLabel, valueAxisLabel, scale, base, horizontal, f, markers, width, height);
        }

        public Spec withOrientation(boolean isHorizontal) {
            return new Spec(title, subtitle, categoryAxisLabel, valueAxisLabel, scale, base, isHorizontal, valueFormat, markers, width, height);
        }

        public Spec withSize(int w, int h) {
            return new Spec(title, subtitle, categoryAxisLabel, valueAxisLabel, scale, base, horizontal, valueFormat, markers, w, h);
        }

        /** The PNG height: {@link #height()}, or for 0 enough room for every bar of a horizontal chart. */
        public int heightFor(int categories, int series) {
            if (height > 0) {
                return height;
            }
            return horizontal ? Math.max(300, 170 + categories * (series * 20 + 14)) : 600;
        }
    }

    /** Writes the chart as a PNG of {@code spec.width()} × {@code spec.heightFor(...)} pixels. */
    public static void write(Spec spec, List<String> categories, List<Series> series, Path png) throws IOException {
        Charts.writePng(chart(spec, categories, series), png, spec.width(), spec.heightFor(categories.size(), series.size()));
    }

    /** The JFreeChart object (for tests or further styling); rows of its dataset = series, columns = categories. */
    public static JFreeChart chart(Spec spec, List<String> categories, List<Series> series) {
        if (categories.isEmpty() || series.isEmpty()) {
            throw new IllegalArgumentException("a bar chart needs at least one category and one series, got "
                    + categories.size() + " and " + series.size());
        }
        if (new HashSet<>(categories).size() != categories.size()) {
            throw new IllegalArgumentException("category names must be distinct: " + categories);
        }
        if (series.stream().map(Series::name).distinct().count() != series.size()) {
            throw new IllegalArgumentException("series names must be distinct: " + series.stream().map(Series::name).toList());
        }
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        double lo = spec.base();
        double hi = spec.base();
        for (Series s : series) {
            if (s.values().size() != categories.size()) {
                throw new IllegalArgumentException("series '" + s.name() + "' has " + s.values().size() + " values for "
                        + categories.size() + " categories");
            }
            for (int c = 0; c < categories.size(); c++) {
                double v = s.values().get(c);
                boolean drawable = Double.isFinite(v) && (spec.scale() == Scale.LINEAR || v > 0);
                data.addValue(drawable ? v : null, s.name(), categories.get(c));
                if (drawable) {
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
            }
        }
        for (Marker m : spec.markers()) {
            lo = Math.min(lo, m.value());
            hi = Math.max(hi, m.value());
        }

        CategoryAxis categoryAxis = new CategoryAxis(spec.categoryAxisLabel());
        categoryAxis.setTickLabelFont(Charts.LABEL_FONT);
        categoryAxis.setMaximumCategoryLabelLines(3);
        categoryAxis.setMaximumCategoryLabelWidthRatio(spec.horizontal() ? 0.3f : 1f);
        categoryAxis.setCategoryMargin(series.size() > 1 ? 0.25 : 0.15);
        ValueAxis valueAxis = valueAxis(spec, lo, hi);
        Renderer renderer = new Renderer(spec, series);
        CategoryPlot plot = new CategoryPlot(data, categoryAxis, valueAxis, renderer);
        plot.setOrientation(spec.horizontal() ? PlotOrientation.HORIZONTAL : PlotOrientation.VERTICAL);
        plot.setRangeAxisLocation(AxisLocation.BOTTOM_OR_LEFT);
        plot.setRangeGridlinePaint(Charts.GRID);
        plot.setRangeGridlineStroke(new BasicStroke(1f));
        for (Marker m : spec.markers()) {
            ValueMarker vm = new ValueMarker(m.value(), m.color(), m.dashed()
                    ? new BasicStroke(1.5f, BasicStroke.CAP_BUTT, BasicStroke.JOIN_MITER, 10f, new float[] {6f, 4f}, 0f)
                    : new BasicStroke(2f));
            vm.setLabel(m.label());
            vm.setLabelFont(Charts.VALUE_FONT);
            vm.setLabelPaint(m.color());
            vm.setLabelBackgroundColor(new Color(255, 255, 255, 0));
            // The parity line is labelled at the far end from the targets so that the labels never collide.
            boolean parity = !m.dashed();
            if (spec.horizontal()) {
                vm.setLabelAnchor(parity ? RectangleAnchor.BOTTOM_LEFT : RectangleAnchor.TOP_RIGHT);
                vm.setLabelTextAnchor(parity ? TextAnchor.BOTTOM_RIGHT : TextAnchor.TOP_LEFT);
            } else {
                vm.setLabelAnchor(parity ? RectangleAnchor.BOTTOM_RIGHT : RectangleAnchor.TOP_RIGHT);
                vm.setLabelTextAnchor(parity ? TextAnchor.TOP_RIGHT : TextAnchor.BOTTOM_RIGHT);
            }
            plot.addRangeMarker(vm);
        }
        return Charts.titled(spec.title(), spec.subtitle(), plot, series.size() > 1);
    }

    private static ValueAxis valueAxis(Spec spec, double lo, double hi) {
        if (spec.scale() == Scale.LOG) {
            LogAxis axis = new LogAxis(spec.valueAxisLabel());
            axis.setBase(10);
            axis.setSmallestValue(1e-9);
            // Whole decades, with room beyond the longest bar for its label.
            axis.setRange(Math.pow(10, Math.floor(Math.log10(lo / 1.5))), Math.pow(10, Math.ceil(Math.log10(hi * 3))));
            axis.setNumberFormatOverride(Charts.numberFormat(Charts::ratioTick));
            axis.setTickUnit(new NumberTickUnit(1)); // one tick per decade (the unit is an exponent)
            axis.setMinorTickCount(9);
            axis.setMinorTickMarksVisible(true);
            axis.setTickLabelFont(Charts.LABEL_FONT);
            return axis;
        }
        NumberAxis axis = new NumberAxis(spec.valueAxisLabel());
        axis.setAutoRangeIncludesZero(true);
        axis.setUpperMargin(0.15); // room for the value labels
        axis.setNumberFormatOverride(Charts.numberFormat(Charts::number));
        axis.setTickLabelFont(Charts.LABEL_FONT);
        return axis;
    }

    /** Flat bars from the base, per-value colours, labels on the outer end of each bar (either direction). */
    private static final class Renderer extends BarRenderer {
        private static final long serialVersionUID = 1L;
        private final transient List<Series> series;
        private final double base;

        Renderer(Spec spec, List<Series> series) {
            this.series = series;
            this.base = spec.base();
            setBase(spec.base());
            setIncludeBaseInRange(true);
            setBarPainter(new StandardBarPainter());
            setShadowVisible(false);
            setDrawBarOutline(false);
            setItemMargin(0.05);
            setMaximumBarWidth(0.12);
            for (int i = 0; i < series.size(); i++) {
                setSeriesPaint(i, Charts.PALETTE[i % Charts.PALETTE.length]);
            }
            DoubleFunction<String> f = spec.valueFormat();
            setDefaultItemLabelGenerator(new CategoryItemLabelGenerator() {
                @Override
                public String generateRowLabel(CategoryDataset dataset, int row) {
                    return dataset.getRowKey(row).toString();
                }

                @Override
                public String generateColumnLabel(CategoryDataset dataset, int column) {
                    return dataset.getColumnKey(column).toString();
                }

                @Override
                public String generateLabel(CategoryDataset dataset, int row, int column) {
                    Number v = dataset.getValue(row, column);
                    return v == null ? null : f.apply(v.doubleValue());
                }
            });
            setDefaultItemLabelsVisible(true);
            setDefaultItemLabelFont(Charts.VALUE_FONT);
            if (spec.horizontal()) {
                setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE3, TextAnchor.CENTER_LEFT));
                setDefaultNegativeItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE9, TextAnchor.CENTER_RIGHT));
            } else {
                setDefaultPositiveItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE12, TextAnchor.BOTTOM_CENTER));
                setDefaultNegativeItemLabelPosition(new ItemLabelPosition(ItemLabelAnchor.OUTSIDE6, TextAnchor.TOP_CENTER));
            }
        }

        @Override
        public Paint getItemPaint(int row, int column) {
            List<Color> colors = series.get(row).colors();
            return colors == null ? super.getItemPaint(row, column) : colors.get(column);
        }

        @Override
        protected void drawItemLabel(java.awt.Graphics2D g2, CategoryDataset data, int row, int column, CategoryPlot plot,
                                     CategoryItemLabelGenerator generator, Rectangle2D bar, boolean negative) {
            // "Negative" means "below the base" here (BarRenderer compares with 0), so the label of a
            // ratio below 1× sits at the outer end of its bar, not on the parity line.
            Number v = data.getValue(row, column);
            super.drawItemLabel(g2, data, row, column, plot, generator, bar, v != null && v.doubleValue() < base);
        }
    }
}
