package io.github.mmapstore.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The background manifest writer's promise to those who wait for it. */
class ManifestWriterTest {
    @TempDir
    Path dir;

    /**
     * {@code awaitDurable} returns only once the {@code afterDurable} actions (the deletion of the files a
     * manifest stopped naming) have run, not as soon as the manifest is on disk: it once returned while the
     * writer's thread was still deleting a merge's inputs, and a directory listing right after found them.
     */
    @Test
    void awaitDurableWaitsForTheActionsAfterTheWrite() throws Exception {
        ManifestWriter w = new ManifestWriter(dir, false, FaultInjector.NONE, Manifest.empty());
        CountDownLatch running = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        AtomicBoolean done = new AtomicBoolean();
        Manifest m = new Manifest(7, 3, Manifest.NO_LOG, 0, List.of(new Manifest.SegmentRef(5, 100, 1)), null);
        w.submit(m, () -> {
            running.countDown();
            try {
                proceed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            done.set(true);
        });
        assertThat(running.await(30, TimeUnit.SECONDS)).isTrue();
        // The manifest is on disk now; its action has started and cannot end before `proceed`.
        assertThat(w.durable()).isEqualTo(m);
        CompletableFuture<Boolean> waiter = CompletableFuture.supplyAsync(() -> {
            try {
                w.awaitDurable();
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
            return done.get();
        });
        assertThatThrownBy(() -> waiter.get(200, TimeUnit.MILLISECONDS))
                .as("awaitDurable returned while the manifest's afterDurable action was still running")
                .isInstanceOf(TimeoutException.class);
        assertThat(w.idle()).isFalse();
        proceed.countDown();
        assertThat(waiter.get(30, TimeUnit.SECONDS)).as("the action had finished when awaitDurable returned").isTrue();
        assertThat(w.idle()).isTrue();
    }
}
