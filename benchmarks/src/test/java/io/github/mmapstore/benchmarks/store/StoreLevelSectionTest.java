package io.github.mmapstore.benchmarks.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.benchmarks.report.Comparison;
import io.github.mmapstore.benchmarks.report.Section;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The report section built from the harness's results, with every competitor the harness runs by default. */
class StoreLevelSectionTest {

    private static Map<String, Double> figures(double scale) {
        Map<String, Double> r = new LinkedHashMap<>();
        for (String op : List.of("put", "get_uniform", "get_zipf", "get_committed", "range", "putAll", "restore", "commit", "commit100")) {
            r.put(op + ".ops_s", 1_000 * scale);
            r.put(op + ".records_s", 1_000 * scale);
            r.put(op + ".writes_s", 1_000 * scale);
            r.put(op + ".p50_us", 10 / scale);
            r.put(op + ".p99_us", 20 / scale);
        }
        return r;
    }

    @Test
    void everyOperationAgainstBothRocksDbBaselinesUnderDistinctNames() {
        Map<String, Map<String, Double>> results = new LinkedHashMap<>();
        results.put(StoreLevelBenchmark.MMAPSTORE, figures(3));
        results.put(StoreLevelBenchmark.ROCKSDB, figures(1));
        results.put(StoreLevelBenchmark.ROCKSDB_TXN, figures(0.5));
        results.put(StoreLevelBenchmark.INMEMORY, figures(1.5));

        Section section = StoreLevelSection.section(results, 1_000, 1_000);

        List<String> names = section.comparisons().stream().map(Comparison::operation).toList();
        assertThat(names).doesNotHaveDuplicates().hasSize(2 * 9)
                .contains("get, uniform, READ_COMMITTED view", "get, uniform, READ_COMMITTED view, vs RocksDB (transactional)");
        Comparison putVsTxn = section.comparisons().stream()
                .filter(c -> c.operation().equals("put (16 B key, 100 B value), vs RocksDB (transactional)")).findFirst().orElseThrow();
        assertThat(putVsTxn.baseline()).isEqualTo("RocksDB (transactional)");
        assertThat(putVsTxn.measurements()).hasSize(4);
    }
}
