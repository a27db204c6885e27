package io.github.mmapstore.it;

import java.util.Map;
import org.apache.kafka.streams.state.RocksDBConfigSetter;
import org.rocksdb.BlockBasedTableConfig;
import org.rocksdb.Cache;
import org.rocksdb.LRUCache;
import org.rocksdb.Options;
import org.rocksdb.WriteBufferManager;

/**
 * Kafka Streams' documented recipe for bounding the memory of all RocksDB stores of an instance ("Bounded memory
 * usage" in the RocksDB section of Kafka Streams' memory-management docs), as {@link ManyStoresIT} runs it against
 * MmapStore's instance-wide budget: one static {@link LRUCache} shared by every store of the JVM, sized to the total;
 * a static {@link WriteBufferManager} that charges every memtable to that cache (so memtables and blocks share the one
 * bound); index and filter blocks cached, with high priority, the top-level index and filter pinned; a strict capacity
 * limit on the cache. Written for this test from the documented recipe.
 *
 * <p>Settings, read from the Streams configuration (the keys pass through to {@code appConfigs()}) or else from the
 * system properties of the same names:
 * <ul>
 *   <li>{@value #TOTAL}: the cache's capacity, all off-heap memory of the stores' caches and memtables (required);</li>
 *   <li>{@value #MEMTABLE_SHARE}: the share of it the write buffer manager may give memtables (default 0.5);</li>
 *   <li>{@value #HIGH_PRIORITY}: the cache's high-priority pool ratio, for index and filter blocks (default 0.1);</li>
 *   <li>{@value #WRITE_BUFFER}: each memtable's size (default 2 MiB; Kafka's own default is 16 MiB: with 500 stores a
 *       memtable each, RocksDB's arena blocks of 1/8 of it would exceed the budget before a byte is written);</li>
 *   <li>{@value #STRICT}: the strict capacity limit (default true).</li>
 * </ul>
 */
public class BoundedMemoryRocksDBConfig implements RocksDBConfigSetter {
    static final String TOTAL = "it.rocksdb.memory.total.bytes";
    static final String MEMTABLE_SHARE = "it.rocksdb.memtable.share";
    static final String HIGH_PRIORITY = "it.rocksdb.index.filter.ratio";
    static final String WRITE_BUFFER = "it.rocksdb.write.buffer.bytes";
    static final String STRICT = "it.rocksdb.strict.capacity";
    /** Kafka's block size. */
    static final long BLOCK_SIZE = 4096;
    static final int MEMTABLES_PER_STORE = 2;

    private static Cache cache;
    private static WriteBufferManager writeBufferManager;
    private static String description;

    public BoundedMemoryRocksDBConfig() {
    }

    @Override
    public void setConfig(String storeName, Options options, Map<String, Object> configs) {
        long writeBuffer;
        synchronized (BoundedMemoryRocksDBConfig.class) {
            if (cache == null) {
                long total = Long.parseLong(setting(configs, TOTAL, null));
                double share = Double.parseDouble(setting(configs, MEMTABLE_SHARE, "0.5"));
                double ratio = Double.parseDouble(setting(configs, HIGH_PRIORITY, "0.1"));
                boolean strict = Boolean.parseBoolean(setting(configs, STRICT, "true"));
                cache = new LRUCache(total, -1, strict, ratio);
                writeBufferManager = new WriteBufferManager((long) (total * share), cache);
                description = "LRUCache(" + total + ", strict=" + strict + ", highPriRatio=" + ratio + "), WriteBufferManager("
                        + (long) (total * share) + ", charged to the cache)";
                CrashApp.emit("ROCKSDB_BOUNDED", description.replace(' ', '_'));
            }
            writeBuffer = Long.parseLong(setting(configs, WRITE_BUFFER, String.valueOf(2L << 20)));
        }
        BlockBasedTableConfig table = (BlockBasedTableConfig) options.tableFormatConfig();
        table.setBlockCache(cache);
        table.setCacheIndexAndFilterBlocks(true);
        table.setCacheIndexAndFilterBlocksWithHighPriority(true);
        table.setPinTopLevelIndexAndFilter(true);
        table.setBlockSize(BLOCK_SIZE);
        options.setWriteBufferManager(writeBufferManager);
        options.setMaxWriteBufferNumber(MEMTABLES_PER_STORE);
        options.setWriteBufferSize(writeBuffer);
        options.setTableFormatConfig(table);
    }

    @Override
    public void close(String storeName, Options options) {
        // the cache and the write buffer manager are shared by every store of the JVM: never closed here
    }

    private static String setting(Map<String, Object> configs, String key, String dflt) {
        Object v = configs.get(key);
        if (v != null) {
            return v.toString();
        }
        String s = System.getProperty(key, dflt);
        if (s == null) {
            throw new IllegalArgumentException(key + " is required by " + BoundedMemoryRocksDBConfig.class.getSimpleName());
        }
        return s;
    }
}
