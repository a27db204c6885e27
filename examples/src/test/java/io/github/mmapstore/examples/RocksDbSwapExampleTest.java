package io.github.mmapstore.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.examples.RocksDbSwapExample.Backend;
import io.github.mmapstore.examples.RocksDbSwapExample.Figures;
import org.junit.jupiter.api.Test;

/** The rocksdb-swap example end to end, in-process (plus the crashed child JVMs), at a small size. */
class RocksDbSwapExampleTest {
    @Test
    void bothBackendsProduceIdenticalResultsAndMmapStoreResumesFromItsLastCommitAfterACrash() throws Exception {
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
        // MmapStore resumes from its own last commit: it replays at most what the crashed child wrote
        assertThat(mmap.crashChangelogWritten()).isPositive();
        assertThat(mmap.crashRestored()).isLessThanOrEqualTo(mmap.crashChangelogWritten());
        assertThat(rocks.crashChangelogWritten()).isPositive();
        assertThat(r.leftoverThreads()).isEmpty();
    }
}
