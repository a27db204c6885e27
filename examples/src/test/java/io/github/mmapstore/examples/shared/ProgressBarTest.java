package io.github.mmapstore.examples.shared;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class ProgressBarTest {
    @Test
    void withoutATerminalPrintsALineAtEachQuarterAndAtTheEnd() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressBar bar = new ProgressBar("loading", 100, "records", new PrintStream(bytes, true, StandardCharsets.UTF_8), false)) {
            for (int i = 0; i < 100; i++) {
                bar.step(1);
            }
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertThat(lines).hasSize(5); // 0%, 25%, 50%, 75%, and the closing 100%
        assertThat(lines.get(0)).contains("loading").contains("  0%").contains("0/100 records");
        assertThat(lines.get(4)).contains("100%").contains("100/100 records").contains("#".repeat(30));
        assertThat(String.join("", lines)).doesNotContain("\r");
    }

    @Test
    void onATerminalRedrawsOneLineInPlace() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ProgressBar bar = new ProgressBar("restoring", 0, "records", new PrintStream(bytes, true, StandardCharsets.UTF_8), true)) {
            bar.addToTotal(10);
            bar.set(10);
        }
        String out = bytes.toString(StandardCharsets.UTF_8);
        // one line, redrawn after carriage returns, ended once
        assertThat(out.chars().filter(c -> c == '\n').count()).isEqualTo(1);
        assertThat(out).startsWith("\r").endsWith(System.lineSeparator());
        assertThat(out.substring(out.lastIndexOf('\r'))).contains("100% 10/10 records");
    }
}
