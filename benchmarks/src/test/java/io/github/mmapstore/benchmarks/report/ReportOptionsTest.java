package io.github.mmapstore.benchmarks.report;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.LocalDate;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReportOptionsTest {
    @Test
    void quickModeShrinksEverySizeAndFullIsTheDefault() {
        ReportOptions full = ReportOptions.parse();
        ReportOptions quick = ReportOptions.parse("--quick");
        assertThat(full.mode()).isEqualTo("full");
        assertThat(quick.mode()).isEqualTo("quick");
        assertThat(quick.storeKeys()).isLessThan(full.storeKeys());
        assertThat(quick.topologyRecords()).isLessThan(full.topologyRecords());
        assertThat(quick.knnVectors()).isLessThan(full.knnVectors());
        assertThat(quick.kernelDimensions().size()).isLessThan(full.kernelDimensions().size());
        assertThat(full.sections()).containsExactly("store", "topology", "knn");
    }

    @Test
    void explicitSizesFoldersAndSectionsOverrideTheMode() {
        ReportOptions o = ReportOptions.parse("--quick", "--store-keys", "1_500_000", "--sections", "knn,store",
                "--date", "2026-01-02", "--out", "/tmp/r", "--kernel-dimensions", "64,128", "--update-readme", "README.md");
        assertThat(o.storeKeys()).isEqualTo(1_500_000);
        assertThat(o.sections()).containsExactly("store", "knn"); // report order, not argument order
        assertThat(o.runs("topology")).isFalse();
        assertThat(o.date()).isEqualTo(LocalDate.of(2026, 1, 2));
        assertThat(o.folder()).isEqualTo(Path.of("/tmp/r/2026-01-02"));
        assertThat(o.kernelDimensions()).isEqualTo(List.of(64, 128));
        assertThat(o.updateReadme()).isEqualTo(Path.of("README.md"));
    }

    @Test
    void badInputIsRejectedWithAMessageNamingIt() {
        assertThatThrownBy(() -> ReportOptions.parse("--fast"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("unknown argument '--fast'");
        assertThatThrownBy(() -> ReportOptions.parse("--store-keys"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--store-keys needs a value");
        assertThatThrownBy(() -> ReportOptions.parse("--store-keys", "--quick"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--store-keys needs a value");
        assertThatThrownBy(() -> ReportOptions.parse("--topology-records", "many"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--topology-records wants a whole number, got 'many'");
        assertThatThrownBy(() -> ReportOptions.parse("--knn-vectors", "0"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--knn-vectors must be positive, got 0");
        assertThatThrownBy(() -> ReportOptions.parse("--kernel-dimensions", "768,-1"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--kernel-dimensions must be positive, got -1");
        assertThatThrownBy(() -> ReportOptions.parse("--sections", "store,disk"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown section 'disk'");
        assertThatThrownBy(() -> ReportOptions.parse("--date", "25.11.2026"))
                .isInstanceOf(IllegalArgumentException.class).hasMessage("--date wants YYYY-MM-DD, got '25.11.2026'");
        assertThatThrownBy(() -> ReportOptions.parse("--store-keys", "50"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("more than 100");
    }
}
