package io.github.mmapstore.tools;

import static io.github.mmapstore.tools.TestStores.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.engine.StoreVerifier;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The inspector on a store that an engine is writing, flushing, committing and compacting at the same
 * time: it must never report damage, and every snapshot must be one committed state.
 */
class RunningStoreTest {
    private static final int KEYS = 200;
    private static final int ROUNDS = 60;

    @TempDir
    Path tmp;

    @Test
    void readsAConsistentCommittedStateWhileTheEngineWorks() throws Exception {
        Path dir = tmp.resolve("live");
        EngineConfig cfg = TestStores.config().withMemtableBytes(16 * 1024).withCompactionTrigger(2);
        AtomicBoolean done = new AtomicBoolean();
        ExecutorService pool = Executors.newSingleThreadExecutor();
        StoreEngine engine = StoreEngine.open(dir, cfg);
        // Round r sets every key to "r" and commits: a committed state has one round's value everywhere.
        for (int k = 0; k < KEYS; k++) {
            engine.put(key(k), b("round-0"));
        }
        engine.commit(b("0"));
        Future<?> writer = pool.submit(() -> {
            try {
                for (int r = 1; r <= ROUNDS; r++) {
                    for (int k = 0; k < KEYS; k++) {
                        engine.put(key(k), b("round-" + r + "-" + "p".repeat(r % 7 * 10)));
                    }
                    if (r % 3 == 0) {
                        engine.flush();
                    }
                    engine.commit(b(Integer.toString(r)));
                    engine.compact(TimeUnit.MILLISECONDS.toNanos(5));
                }
            } finally {
                done.set(true);
            }
            return null;
        });
        Set<String> seenRounds = new HashSet<>();
        int checks = 0;
        List<String> problems = new ArrayList<>();
        try {
            while (!done.get() || checks < 3) {
                StoreVerifier.Report v = StoreVerifier.verify(dir);
                if (v.damaged()) {
                    problems.add("verify: " + v.findings());
                }
                LocatedStore located = StoreLocator.find(dir).get(0);
                try (StoreInspector.Opened o = StoreInspector.open(located)) {
                    Set<String> values = new HashSet<>();
                    long n = 0;
                    var it = o.snapshot().range(null, null);
                    while (it.hasNext()) {
                        String value = new String(it.next().value());
                        values.add(value.replace("p", ""));
                        n++;
                    }
                    if (n != KEYS || values.size() != 1) {
                        problems.add("snapshot with " + n + " keys and values " + values);
                    }
                    seenRounds.addAll(values);
                    String meta = new String(o.snapshot().commitMetadata());
                    if (!values.contains("round-" + meta) && !values.contains("round-" + meta + "-")) {
                        problems.add("commit metadata " + meta + " with values " + values);
                    }
                }
                checks++;
            }
            writer.get();
        } finally {
            pool.shutdownNow();
            engine.close();
        }
        System.out.printf("%d checks saw %d committed rounds%n", checks, seenRounds.size());
        assertThat(problems).isEmpty();
        assertThat(checks).isGreaterThanOrEqualTo(3);
        assertThat(StoreVerifier.verify(dir).damaged()).isFalse();
    }

    private static byte[] key(int k) {
        return b(String.format("key-%04d", k));
    }
}
