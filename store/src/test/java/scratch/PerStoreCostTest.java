package scratch;

import io.github.mmapstore.engine.FileLimits;
import io.github.mmapstore.streams.MmapStores;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.processor.api.MockProcessorContext;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.Stores;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PerStoreCostTest {
    @TempDir
    Path dir;

    static long heap() throws Exception {
        for (int i = 0; i < 3; i++) {
            System.gc();
            Thread.sleep(100);
        }
        return ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
    }

    static long maps() throws Exception {
        return java.nio.file.Files.readAllLines(Path.of("/proc/self/maps")).size();
    }

    static long fds() throws Exception {
        try (var s = java.nio.file.Files.list(Path.of("/proc/self/fd"))) {
            return s.count();
        }
    }

    List<KeyValueStore<Bytes, byte[]>> open(int n, String sub) {
        List<KeyValueStore<Bytes, byte[]>> stores = new ArrayList<>();
        for (int t = 0; t < n; t++) {
            Properties props = new Properties();
            props.put(StreamsConfig.APPLICATION_ID_CONFIG, "app");
            props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "localhost:9092");
            MockProcessorContext<Object, Object> context = new MockProcessorContext<>(props, new TaskId(0, t), dir.resolve(sub + t).toFile());
            context.setRecordMetadata("input", t, 0);
            KeyValueStore<Bytes, byte[]> store = Stores.keyValueStoreBuilder(MmapStores.persistentKeyValueStore("s"),
                    Serdes.Bytes(), Serdes.ByteArray()).withLoggingDisabled().withCachingDisabled().build();
            store.init(context.getStateStoreContext(), store);
            stores.add(store);
        }
        return stores;
    }

    @Test
    void probe() throws Exception {
        int n = 500;
        long h0 = heap(), m0 = maps(), f0 = fds();
        long t0 = System.nanoTime();
        List<KeyValueStore<Bytes, byte[]>> stores = open(n, "a");
        long t1 = System.nanoTime();
        long h1 = heap(), m1 = maps(), f1 = fds();
        System.out.printf("COST empty: heap %d B/store, maps %.2f/store, fds %.2f/store, open %.2f ms/store%n", (h1 - h0) / n, (m1 - m0) / (double) n, (f1 - f0) / (double) n, (t1 - t0) / 1e6 / n);
        byte[] v = new byte[100];
        for (int i = 0; i < 2000; i++) {
            for (var s : stores) {
                s.put(Bytes.wrap(ByteBuffer.allocate(16).putLong(i * 0x9E3779B97F4A7C15L).putLong(i).array()), v);
            }
        }
        for (var s : stores) {
            s.commit(Map.of());
            s.flush();
        }
        Thread.sleep(2000);
        long h2 = heap(), m2 = maps(), f2 = fds();
        System.out.printf("COST 2000 rows each, flushed: heap %d B/store, maps %.2f/store (jvm mappings gauge %d), fds %.2f/store%n", (h2 - h0) / n, (m2 - m0) / (double) n, FileLimits.mappings(), (f2 - f0) / (double) n);
        for (var s : stores) {
            s.close();
        }
        long t2 = System.nanoTime();
        List<KeyValueStore<Bytes, byte[]>> again = open(n, "a");
        long t3 = System.nanoTime();
        System.out.printf("COST reopen with one segment: %.2f ms/store%n", (t3 - t2) / 1e6 / n);
        for (var s : again) {
            s.close();
        }
    }
}
