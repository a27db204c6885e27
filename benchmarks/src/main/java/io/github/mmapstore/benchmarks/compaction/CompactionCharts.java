package io.github.mmapstore.benchmarks.compaction;

import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/**
 * Time-series charts of {@link CompactionBenchmark} (JFreeChart, PNG): put latency p99 and max per
 * interval (log scale), and disk use and space amplification per interval, one line per competitor.
 */
final class CompactionCharts {
    private static final Color[] COLORS = {new Color(0x1f77b4), new Color(0xff7f0e), new Color(0x2ca02c), new Color(0xd62728)};

    private CompactionCharts() {
    }

    static void write(List<CompactionBenchmark.Run> runs, int intervalSeconds, Path latencyPng, Path diskPng) throws IOException {
        System.setProperty("java.awt.headless", "true");
        XYSeriesCollection p99 = new XYSeriesCollection();
        XYSeriesCollection max = new XYSeriesCollection();
        XYSeriesCollection disk = new XYSeriesCollection();
        XYSeriesCollection amp = new XYSeriesCollection();
        XYSeriesCollection tput = new XYSeriesCollection();
        for (CompactionBenchmark.Run r : runs) {
            XYSeries a = new XYSeries(r.kind() + " p99");
            XYSeries m = new XYSeries(r.kind() + " max");
            XYSeries d = new XYSeries(r.kind());
            XYSeries s = new XYSeries(r.kind());
            XYSeries t = new XYSeries(r.kind());
            for (CompactionBenchmark.Interval x : r.intervals()) {
                a.add(x.atSeconds(), Math.max(0.01, x.putP99Micros()));
                m.add(x.atSeconds(), Math.max(0.01, x.putMaxMicros()));
                d.add(x.atSeconds(), x.diskBytes() / 1e9);
                s.add(x.atSeconds(), x.spaceAmplification());
                t.add(x.atSeconds(), x.putsPerSecond(intervalSeconds) / 1e3);
            }
            p99.addSeries(a);
            max.addSeries(m);
            disk.addSeries(d);
            amp.addSeries(s);
            tput.addSeries(t);
        }
        NumberAxis time = new NumberAxis("seconds into the update phase");
        CombinedDomainXYPlot lat = new CombinedDomainXYPlot(time);
        XYPlot first = plot(p99, log("put p99 (µs, log)"));
        lat.add(first, 2);
        lat.add(plot(max, log("put max (µs, log)")), 2);
        lat.add(plot(tput, new NumberAxis("puts/s (thousands)")), 1);
        lat.setFixedLegendItems(first.getLegendItems());
        save(new JFreeChart("Put latency and throughput per " + intervalSeconds + " s interval", JFreeChart.DEFAULT_TITLE_FONT, lat, true),
                latencyPng, 1100, 900);

        CombinedDomainXYPlot space = new CombinedDomainXYPlot(new NumberAxis("seconds into the update phase"));
        XYPlot diskPlot = plot(disk, new NumberAxis("disk (GB)"));
        space.add(diskPlot, 1);
        space.setFixedLegendItems(diskPlot.getLegendItems());
        space.add(plot(amp, new NumberAxis("space amplification")), 1);
        save(new JFreeChart("Disk use per " + intervalSeconds + " s interval", JFreeChart.DEFAULT_TITLE_FONT, space, true),
                diskPng, 1100, 750);
    }

    private static LogAxis log(String label) {
        LogAxis a = new LogAxis(label);
        a.setBase(10);
        a.setSmallestValue(0.01);
        return a;
    }

    private static XYPlot plot(XYSeriesCollection data, org.jfree.chart.axis.ValueAxis range) {
        XYLineAndShapeRenderer r = new XYLineAndShapeRenderer(true, false);
        for (int i = 0; i < data.getSeriesCount(); i++) {
            r.setSeriesPaint(i, COLORS[i % COLORS.length]);
            r.setSeriesStroke(i, new BasicStroke(1.6f));
        }
        XYPlot p = new XYPlot(data, null, range, r);
        p.setBackgroundPaint(Color.WHITE);
        p.setDomainGridlinePaint(Color.LIGHT_GRAY);
        p.setRangeGridlinePaint(Color.LIGHT_GRAY);
        p.setOrientation(PlotOrientation.VERTICAL);
        return p;
    }

    private static void save(JFreeChart chart, Path png, int w, int h) throws IOException {
        chart.setBackgroundPaint(Color.WHITE);
        ChartUtils.saveChartAsPNG(png.toFile(), chart, w, h);
    }
}
