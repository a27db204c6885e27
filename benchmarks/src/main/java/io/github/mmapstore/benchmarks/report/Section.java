package io.github.mmapstore.benchmarks.report;

import java.util.List;

/**
 * One part of the report (store level, topology level, kNN): its comparisons, a paragraph on what was
 * measured and how, and links to the detailed files the harness wrote next to the report.
 * {@code id} names the section's chart ({@code <id>.png}) and must be a plain file-name word.
 */
public record Section(String id, String title, String description, List<Comparison> comparisons, List<String> details) {
    public Section {
        if (id == null || !id.matches("[a-z0-9-]+")) {
            throw new IllegalArgumentException("section id must be lower-case letters, digits and '-', got " + id);
        }
        comparisons = List.copyOf(comparisons);
        details = List.copyOf(details);
        if (comparisons.stream().map(Comparison::operation).distinct().count() != comparisons.size()) {
            throw new IllegalArgumentException("section " + id + " names an operation twice");
        }
    }
}
