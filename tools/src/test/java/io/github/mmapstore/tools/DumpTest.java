package io.github.mmapstore.tools;

import static io.github.mmapstore.tools.TestStores.b;
import static org.assertj.core.api.Assertions.assertThat;

import io.github.mmapstore.engine.EngineConfig;
import io.github.mmapstore.engine.KeyOrder;
import io.github.mmapstore.engine.StoreEngine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterTry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DumpTest {
    @TempDir
    Path tmp;

    /** What dump prints for these entries: one {@code KEY<TAB>VALUE} line each. */
    static String expected(Map<byte[], byte[]> entries, ByteText.Format format) {
        StringBuilder b = new StringBuilder();
        entries.forEach((k, v) -> b.append(ByteText.format(k, format)).append('\t').append(ByteText.format(v, format))
                .append(System.lineSeparator()));
        return b.toString();
    }

    @Test
    void rangeOfAStoreEqualsTheModel() {
        Path dir = tmp.resolve("store");
        TreeMap<byte[], byte[]> model = InspectTest.build(dir);
        Cli all = Cli.run("dump", dir.toString());
        assertThat(all.exit()).as(all.toString()).isZero();
        assertThat(all.out()).isEqualTo(expected(model, ByteText.Format.AUTO));
        assertThat(all.out()).doesNotContain("uncommitted");

        Cli range = Cli.run("dump", dir.toString(), "--from", "k090", "--to", "k210", "--format", "utf8");
        assertThat(range.exit()).as(range.toString()).isZero();
        assertThat(range.out()).isEqualTo(expected(model.subMap(b("k090"), true, b("k210"), true), ByteText.Format.UTF8));

        Cli hexBounds = Cli.run("dump", dir.toString(), "--from", "hex:6b313030", "--to", "hex:6b333030", "--format", "hex",
                "--limit", "7");
        assertThat(hexBounds.exit()).as(hexBounds.toString()).isZero();
        NavigableMap<byte[], byte[]> sub = model.subMap(b("k100"), true, b("k300"), true);
        TreeMap<byte[], byte[]> first7 = TestStores.model();
        sub.entrySet().stream().limit(7).forEach(e -> first7.put(e.getKey(), e.getValue()));
        assertThat(hexBounds.out()).isEqualTo(expected(first7, ByteText.Format.HEX));
    }

    @Test
    void binaryKeysAndValuesAreHexInAutoFormat() {
        Path dir = tmp.resolve("bin");
        try (StoreEngine e = TestStores.open(dir)) {
            e.put(new byte[] {0, 1, (byte) 0xFF}, b("text"));
            e.put(b("tab\there"), new byte[] {(byte) 0xC3, 0x28});
            e.put(b("hex:looks-like-hex"), b("ü ok"));
            e.commit(null);
        }
        Cli r = Cli.run("dump", dir.toString());
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out().lines().toList()).containsExactly(
                "hex:0001ff\ttext",
                "hex:6865783a6c6f6f6b732d6c696b652d686578\tü ok",
                "hex:7461620968657265\thex:c328");
    }

    @Test
    void severalStoresEachStartWithAHeader() {
        InspectTest.build(TestStores.storeDir(tmp, "app", "0_0", "a"));
        InspectTest.build(TestStores.storeDir(tmp, "app", "1_0", "b"));
        Cli r = Cli.run("dump", tmp.toString(), "--to", "k001");
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out().lines().toList()).containsExactly("# store app/0_0/mmapstore/a", "# store app/1_0/mmapstore/b");
        Cli r2 = Cli.run("dump", tmp.toString(), "--from", "k005", "--to", "k005");
        assertThat(r2.out().lines().filter(l -> l.startsWith("k005\t")).count()).isEqualTo(2);
    }

    @Test
    void badArgumentsAreUsageErrors() {
        Path dir = tmp.resolve("store");
        InspectTest.build(dir);
        Cli badHex = Cli.run("dump", dir.toString(), "--from", "hex:zz");
        assertThat(badHex.exit()).isEqualTo(2);
        assertThat(badHex.err()).contains("--from: 'hex:zz' is not valid hex");
        Cli badFormat = Cli.run("dump", dir.toString(), "--format", "base64");
        assertThat(badFormat.exit()).isEqualTo(2);
        assertThat(badFormat.err()).contains("--format must be auto, utf8 or hex");
        Cli badLimit = Cli.run("dump", dir.toString(), "--limit", "-1");
        assertThat(badLimit.exit()).isEqualTo(2);
    }

    // ---- random stores against a model ------------------------------------------------------------

    record Op(int kind, int key, int valueLength) {
    }

    private Path propertyDir;

    @AfterTry
    void deleteStore() throws IOException {
        if (propertyDir != null) {
            try (var s = Files.walk(propertyDir)) {
                for (Path p : s.sorted((x, y) -> y.compareTo(x)).toList()) {
                    Files.deleteIfExists(p);
                }
            }
            propertyDir = null;
        }
    }

    @Provide
    Arbitrary<List<Op>> ops() {
        Arbitrary<Op> op = Combinators.combine(Arbitraries.integers().between(0, 9), Arbitraries.integers().between(0, 199),
                Arbitraries.integers().between(0, 300)).as(Op::new);
        return op.list().ofMinSize(1).ofMaxSize(400);
    }

    /** Binary keys over a small space so that overwrites and deletes hit earlier versions. */
    static byte[] binaryKey(int k) {
        return new byte[] {(byte) (k * 37), (byte) k, 0, (byte) (k % 3)};
    }

    @Property(tries = 25)
    void dumpEqualsTheModelForAnyRange(@ForAll("ops") List<Op> ops, @ForAll("bound") Integer fromKey, @ForAll("bound") Integer toKey)
            throws IOException {
        propertyDir = Files.createTempDirectory("mmapstore-dump-");
        TreeMap<byte[], byte[]> committed = TestStores.model();
        TreeMap<byte[], byte[]> current = TestStores.model();
        EngineConfig cfg = TestStores.config().withMemtableBytes(8 * 1024).withCompactionTrigger(3);
        StoreEngine e = StoreEngine.open(propertyDir, cfg);
        int step = 0;
        for (Op op : ops) {
            byte[] key = binaryKey(op.key());
            switch (op.kind()) {
                case 0, 1 -> {
                    e.delete(key);
                    current.remove(key);
                }
                case 2 -> {
                    e.commit(null);
                    committed = new TreeMap<>(current);
                }
                case 3 -> e.flush();
                default -> {
                    byte[] v = new byte[op.valueLength()];
                    java.util.Arrays.fill(v, (byte) step);
                    e.put(key, v);
                    current.put(key, v);
                }
            }
            step++;
        }
        if (ops.size() % 3 == 0) {
            e.compact(Long.MAX_VALUE);
        }
        e.abandon(); // uncommitted writes after the last commit must not show
        byte[] from = fromKey == null ? null : binaryKey(fromKey);
        byte[] to = toKey == null ? null : binaryKey(toKey);
        NavigableMap<byte[], byte[]> range = committed;
        if (from != null && to != null && KeyOrder.compare(from, to) > 0) {
            range = TestStores.model();
        } else {
            if (from != null) {
                range = range.tailMap(from, true);
            }
            if (to != null) {
                range = range.headMap(to, true);
            }
        }
        String[] args = {"dump", propertyDir.toString(), "--format", "hex"};
        if (from != null) {
            args = append(args, "--from", "hex:" + HexFormat.of().formatHex(from));
        }
        if (to != null) {
            args = append(args, "--to", "hex:" + HexFormat.of().formatHex(to));
        }
        Cli r = Cli.run(args);
        assertThat(r.exit()).as(r.toString()).isZero();
        assertThat(r.out()).isEqualTo(expected(range, ByteText.Format.HEX));
    }

    @Provide
    Arbitrary<Integer> bound() {
        return Arbitraries.integers().between(0, 199).injectNull(0.3);
    }

    private static String[] append(String[] a, String... more) {
        String[] out = java.util.Arrays.copyOf(a, a.length + more.length);
        System.arraycopy(more, 0, out, a.length, more.length);
        return out;
    }
}
