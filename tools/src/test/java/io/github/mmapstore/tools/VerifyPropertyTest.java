package io.github.mmapstore.tools;

import static io.github.mmapstore.tools.TestStores.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.engine.StoreEngine;
import io.github.mmapstore.engine.StoreVerifier;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.AfterContainer;

/**
 * Every byte of a closed store is covered by a checksum: changing any one byte of the manifest, a
 * segment or a log makes {@code verify} report damage in that very file.
 */
class VerifyPropertyTest {
    private static Path pristine;
    private Path copy;

    @BeforeContainer
    static void buildPristine() throws IOException {
        pristine = Files.createTempDirectory("mmapstore-verify-pristine-");
        try (StoreEngine e = StoreEngine.open(pristine, TestStores.config().withMemtableBytes(8 * 1024))) {
            for (int i = 0; i < 120; i++) {
                e.put(b(InspectTest.key(i)), InspectTest.value("v", i));
                if (i % 40 == 39) {
                    e.commit(b("m" + i));
                }
            }
            for (int i = 0; i < 30; i += 3) {
                e.delete(b(InspectTest.key(i)));
            }
            e.commit(b("last"));
        }
        assertThat(StoreVerifier.verify(pristine).damaged()).isFalse();
    }

    @AfterContainer
    static void deletePristine() throws IOException {
        deleteTree(pristine);
    }

    @AfterTry
    void deleteCopy() throws IOException {
        deleteTree(copy);
        copy = null;
    }

    static void deleteTree(Path dir) throws IOException {
        if (dir == null) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted((x, y) -> y.compareTo(x)).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    static List<String> storeFiles() throws IOException {
        try (Stream<Path> s = Files.list(pristine)) {
            return s.map(p -> p.getFileName().toString())
                    .filter(n -> n.equals("MANIFEST") || n.endsWith(".seg") || n.endsWith(".log"))
                    .sorted().toList();
        }
    }

    @Provide
    Arbitrary<String> file() throws IOException {
        return Arbitraries.of(storeFiles());
    }

    @Property(tries = 150)
    void anyChangedByteIsDamageInThatFile(@ForAll("file") String name, @ForAll double where,
                                          @ForAll("xor") byte xor) throws IOException {
        copy = Files.createTempDirectory("mmapstore-verify-");
        try (Stream<Path> s = Files.list(pristine)) {
            for (Path p : s.toList()) {
                Files.copy(p, copy.resolve(p.getFileName()), StandardCopyOption.COPY_ATTRIBUTES);
            }
        }
        Path target = copy.resolve(name);
        byte[] bytes = Files.readAllBytes(target);
        int offset = (int) Math.min(bytes.length - 1, Math.abs(where) % 1.0 * bytes.length);
        bytes[offset] ^= xor;
        Files.write(target, bytes);

        StoreVerifier.Report r = StoreVerifier.verify(copy);
        assertThat(r.damaged()).as("byte %d of %s: %s", offset, name, r.findings()).isTrue();
        assertThat(r.findings()).as("byte %d of %s", offset, name)
                .anyMatch(f -> f.severity() == StoreVerifier.Severity.DAMAGE && f.file().equals(target));
    }

    @Provide
    Arbitrary<Byte> xor() {
        return Arbitraries.bytes().filter(x -> x != 0);
    }
}
