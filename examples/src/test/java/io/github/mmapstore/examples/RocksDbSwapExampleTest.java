package io.github.mmapstore.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.examples.RocksDbSwapExample.Backend;
import io.github.mmapstore.examples.RocksDbSwapExample.Figures;
import org.junit.jupiter.api.Test;

/** The rocksdb-swap example end to end, in-process (plus the crashed child JVMs), at a small size. */
class RocksDbSwapExampleTest {
    @Test
    void bothBackendsProduceIdenticalResultsAndMmapStoreRestoresLessAfterACrash() throws Exception {
        RocksDbSwapExample.Result r = RocksDbSwapExample.run(RocksDbSwapExample.Options.parse(
                "--orders", "4000", "--customers", "200", "--partitions", "2"));

        assertThat(r.failures()).isEmpty();
        assertThat(r.identicalOutputs()).isTrue();
        Figures rocks = r.figures().get(Backend.ROCKSDB);
        Figures mmap = r.figures().get(Backend.MMAPSTORE);
        assertThat(rocks.usedRocksDb()).isTrue();
        assertThat(rocks.usedMmapStore()).isFalse();
        assertThat(mmap.usedMmapStore()).isTrue();
        assertThat(mmap.usedRocksDb()).as("the one config line moved every store").isFalse();
        // Kafka wipes RocksDB stores not closed cleanly under exactly-once and restores everything; MmapStore
        // replays at most what the child processed after the clean restart
        assertThat(rocks.crashRestored()).isGreaterThan(mmap.crashRestored());
        assertThat(r.leftoverThreads()).isEmpty();
    }
}
