package io.github.mmapstore.tools;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.KeyOrder;
import io.github.mmapstore.engine.StoreEngine;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Builds real stores with the engine, and the model of what they hold. */
final class TestStores {
    private TestStores() {
    }

    static EngineConfig config() {
        return EngineConfig.defaults().withFsync(false);
    }

    static byte[] b(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static TreeMap<byte[], byte[]> model() {
        return new TreeMap<>(KeyOrder.COMPARATOR);
    }

    /** The Kafka layout of a store directory below a state directory. */
    static Path storeDir(Path stateDir, String app, String task, String store) {
        return stateDir.resolve(app).resolve(task).resolve(StoreLocator.STORES_FOLDER).resolve(store);
    }

    /** Segment files of a store, oldest first. */
    static List<Path> files(Path dir, String suffix) throws IOException {
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().endsWith(suffix)).sorted().toList();
        }
    }

    /** Flips every bit of the byte at {@code offset}. */
    static void flip(Path file, long offset) throws IOException {
        byte[] bytes = Files.readAllBytes(file);
        bytes[(int) offset] ^= (byte) 0xFF;
        Files.write(file, bytes);
    }

    static StoreEngine open(Path dir) {
        return StoreEngine.open(dir, config());
    }
}
