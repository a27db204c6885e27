package io.github.mmapstore.benchmarks.report;

/**
 * Replaces the block between two {@value #MARKER} lines of a README with a new snippet (the
 * {@code --update-readme} option of {@link BenchmarkReport}); the markers themselves stay.
 */
public final class ReadmeBlock {
    public static final String MARKER = "<!-- headline-table -->";

    private ReadmeBlock() {
    }

    /** {@code readme} with the text between the first two markers replaced by {@code snippet}. */
    public static String replace(String readme, String snippet) {
        int open = readme.indexOf(MARKER);
        int close = open < 0 ? -1 : readme.indexOf(MARKER, open + MARKER.length());
        if (close < 0) {
            throw new IllegalArgumentException("the README needs two " + MARKER + " lines around the headline block, found "
                    + (open < 0 ? "none" : "one"));
        }
        return readme.substring(0, open + MARKER.length()) + "\n" + snippet.strip() + "\n" + readme.substring(close);
    }
}
