package io.github.mmapstore.benchmarks.report;

import java.time.Duration;
import java.util.List;

/**
 * Everything {@link ReportWriter} needs for {@code report.md}, {@code headline.md} and the charts: what
 * ran, where, under which load, and the sections' comparisons.
 *
 * @param folder  the results folder as the README should link it, e.g. {@code benchmarks/results/2026-11-25}
 * @param command the command that produced the report, quoted in it
 * @param revision the source measured (git revision), or null when unknown
 */
public record Report(String date, String mode, String folder, String command, String revision, Machine machine, String loadBefore,
                     String loadDuring, String loadAfter, Duration duration, List<LoadSampler.Sample> load,
                     List<Section> sections) {
    public Report {
        load = List.copyOf(load);
        sections = List.copyOf(sections);
        if (sections.stream().map(Section::id).distinct().count() != sections.size()) {
            throw new IllegalArgumentException("two sections share an id: " + sections.stream().map(Section::id).toList());
        }
    }
}
