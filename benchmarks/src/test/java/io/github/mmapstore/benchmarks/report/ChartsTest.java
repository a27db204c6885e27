package io.github.mmapstore.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.data.category.CategoryDataset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChartsTest {
    @TempDir
    Path dir;

    @Test
    void ratioBarChartIsAPngOfTheRequestedSizeWithEverySeriesAndCategory() throws Exception {
        List<String> categories = List.of("put", "get", "range", "restore");
        List<BarChart.Series> series = List.of(BarChart.Series.of("throughput", List.of(1.8, 4.0, 0.5, 2.5)),
                BarChart.Series.of("p99", List.of(4.2, 3.1, Double.NaN, 0.02)));
        BarChart.Spec spec = BarChart.Spec.ratios("title", "advantage").withMarker(3, "3× target").withSize(900, 420);

        JFreeChart chart = BarChart.chart(spec, categories, series);
        CategoryDataset data = ((CategoryPlot) chart.getPlot()).getDataset();
        assertThat(data.getRowCount()).isEqualTo(2);
        assertThat(data.getColumnCount()).isEqualTo(4);
        assertThat(data.getValue("p99", "range")).isNull(); // NaN: no bar
        assertThat(data.getValue("throughput", "range").doubleValue()).isEqualTo(0.5);
        assertThat(((CategoryPlot) chart.getPlot()).getRangeAxis()).isInstanceOf(LogAxis.class);
        // parity line at 1× plus the target
        assertThat(((CategoryPlot) chart.getPlot()).getRangeMarkers(org.jfree.chart.ui.Layer.FOREGROUND)).hasSize(2);

        Path png = dir.resolve("sub/ratios.png");
        BarChart.write(spec, categories, series, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img).isNotNull();
        assertThat(img.getWidth()).isEqualTo(900);
        assertThat(img.getHeight()).isEqualTo(420);
        assertThat(distinctColours(img)).isGreaterThan(10); // something was drawn, not a blank canvas
    }

    @Test
    void horizontalChartsGrowWithTheirBarsWhenNoHeightIsGiven() {
        BarChart.Spec spec = BarChart.Spec.ratios("t", "x");
        assertThat(spec.heightFor(10, 2)).isGreaterThan(spec.heightFor(3, 2));
        assertThat(BarChart.Spec.values("t", "ops/s").heightFor(10, 2)).isEqualTo(600);
    }

    @Test
    void valueBarChartIsLinearFromZero() throws Exception {
        BarChart.Spec spec = BarChart.Spec.values("throughput", "ops/s").withSize(640, 480);
        Path png = dir.resolve("values.png");
        BarChart.write(spec, List.of("a", "b", "c"), List.of(BarChart.Series.of("MmapStore", List.of(3.0, 2.0, 1.0))), png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(640);
        assertThat(img.getHeight()).isEqualTo(480);
        JFreeChart chart = BarChart.chart(spec, List.of("a"), List.of(BarChart.Series.of("s", List.of(1.0))));
        assertThat(((CategoryPlot) chart.getPlot()).getRangeAxis()).isNotInstanceOf(LogAxis.class);
    }

    @Test
    void lineChartHasOneSeriesPerLineAndTheRequestedSize() throws Exception {
        LineChart.Spec spec = LineChart.Spec.of("load", "minutes", "load average").withMarker(2, "2 cores").withSize(800, 300);
        List<LineChart.Series> lines = List.of(
                new LineChart.Series("1-minute", new double[] {0, 1, 2}, new double[] {0.5, 1.8, 1.2}),
                new LineChart.Series("5-minute", new double[] {0, 1, 2}, new double[] {0.4, 0.9, Double.NaN}));
        JFreeChart chart = LineChart.chart(spec, lines);
        XYPlot plot = (XYPlot) chart.getPlot();
        assertThat(plot.getDataset().getSeriesCount()).isEqualTo(2);
        assertThat(plot.getDataset().getItemCount(0)).isEqualTo(3);
        assertThat(plot.getDataset().getItemCount(1)).isEqualTo(2); // the NaN point is skipped

        Path png = dir.resolve("line.png");
        LineChart.write(spec, lines, png);
        BufferedImage img = ImageIO.read(png.toFile());
        assertThat(img.getWidth()).isEqualTo(800);
        assertThat(img.getHeight()).isEqualTo(300);
        assertThat(LineChart.chart(spec.withLogY(), lines).getXYPlot().getRangeAxis()).isInstanceOf(LogAxis.class);
    }

    @Test
    void badChartInputIsRejectedWithTheReason() {
        BarChart.Spec spec = BarChart.Spec.ratios("t", "x");
        assertThatThrownBy(() -> BarChart.chart(spec, List.of("a", "b"), List.of(BarChart.Series.of("s", List.of(1.0)))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("1 values for 2 categories");
        assertThatThrownBy(() -> BarChart.chart(spec, List.of("a", "a"), List.of(BarChart.Series.of("s", List.of(1.0, 2.0)))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("distinct");
        assertThatThrownBy(() -> BarChart.chart(spec, List.of(), List.of()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least one category");
        assertThatThrownBy(() -> new BarChart.Series("s", List.of(1.0, 2.0), List.of(Charts.BETTER)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 values but 1 colours");
        assertThatThrownBy(() -> new BarChart.Spec("t", null, null, "x", BarChart.Scale.LOG, 0, true, Charts::ratio, List.of(), 800, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("positive base");
        assertThatThrownBy(() -> new LineChart.Series("s", new double[2], new double[3]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 x values but 3 y values");
        assertThatThrownBy(() -> Charts.writePng(BarChart.chart(spec, List.of("a"), List.of(BarChart.Series.of("s", List.of(1.0)))),
                dir.resolve("tiny.png"), 10, 10))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 100 × 100");
    }

    @Test
    void ratioFormatsKeepSmallRatiosDistinct() {
        assertThat(Charts.ratio(3.123)).isEqualTo("3.12×");
        assertThat(Charts.ratio(12.34)).isEqualTo("12.3×");
        assertThat(Charts.ratio(0.0005)).isEqualTo("0.00050×");
        assertThat(Charts.ratio(0.005)).isEqualTo("0.0050×");
        assertThat(Charts.ratio(Double.NaN)).isEqualTo("n/a");
        assertThat(Charts.ratioTick(0.01)).isEqualTo("0.01×");
        assertThat(Charts.ratioTick(100)).isEqualTo("100×");
    }

    private static int distinctColours(BufferedImage img) {
        java.util.Set<Integer> seen = new java.util.HashSet<>();
        for (int y = 0; y < img.getHeight(); y += 3) {
            for (int x = 0; x < img.getWidth(); x += 3) {
                seen.add(img.getRGB(x, y));
            }
        }
        return seen.size();
    }
}
