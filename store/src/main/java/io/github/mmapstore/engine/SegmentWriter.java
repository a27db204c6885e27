package io.github.mmapstore.engine;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Writes one segment file in a single pass over rows in strictly increasing key order.
 *
 * <p>The caller first sizes the rows ({@link Sizes}), so every column's place in the file is known
 * up front and each column streams through its own small buffer to its own region of one file: no
 * temporary files, no second copy, and no writes through a mapping (a write fault on a full disk must
 * be an {@link IOException}, never a signal). The file is written under a temporary name and renamed
 * once complete and synced, so a crash never leaves a half-written file under a segment's name.
 */
final class SegmentWriter implements AutoCloseable {
    private static final int BUFFER_BYTES = 64 * 1024;

    /** Totals of the rows to be written; computed by a first pass over the same rows. */
    static final class Sizes {
        final ColumnExtension extension;
        long rows;
        long keyBytes;
        long valueBytes;

        Sizes(ColumnExtension extension) {
            this.extension = extension;
        }

        /** A row whose stored value has {@code storedLength} bytes (-1: a tombstone); no extension columns. */
        void addStored(byte[] key, long storedLength) {
            rows++;
            keyBytes += key.length;
            if (storedLength >= 0) {
                valueBytes += storedLength;
            }
        }

        void add(byte[] key, byte[] valueOrNull) {
            rows++;
            keyBytes += key.length;
            if (valueOrNull != null) {
                valueBytes += extension == null ? valueOrNull.length : extension.storedLength(valueOrNull);
            }
        }
    }

    /** One column's region of the file and the buffer in front of it. */
    private final class Column {
        final int id;
        final long offset;
        final long length;
        long written;
        final ByteBuffer buf = ByteBuffer.allocate(BUFFER_BYTES).order(ByteOrder.LITTLE_ENDIAN);

        void putRow(ByteBuffer row) throws IOException {
            ensure(row.remaining());
            if (row.remaining() > buf.remaining()) {
                drain();
                writeFully(row, offset + written);
                written += row.capacity();
                return;
            }
            buf.put(row);
        }

        Column(int id, long offset, long length) {
            this.id = id;
            this.offset = offset;
            this.length = length;
        }

        void ensure(int n) throws IOException {
            if (buf.remaining() < n) {
                drain();
            }
        }

        void putLong(long v) throws IOException {
            ensure(8);
            buf.putLong(v);
        }

        void putLongBigEndian(long v) throws IOException {
            ensure(8);
            buf.order(ByteOrder.BIG_ENDIAN).putLong(v).order(ByteOrder.LITTLE_ENDIAN);
        }

        void put(byte b) throws IOException {
            ensure(1);
            buf.put(b);
        }

        void put(byte[] bytes) throws IOException {
            if (bytes.length > buf.capacity()) {
                drain();
                writeFully(ByteBuffer.wrap(bytes), offset + written);
                written += bytes.length;
                return;
            }
            ensure(bytes.length);
            buf.put(bytes);
        }

        void drain() throws IOException {
            buf.flip();
            int n = buf.remaining();
            if (written + n > length) {
                throw new IllegalStateException("column " + id + " overflows its region: sizes pass disagrees with rows");
            }
            writeFully(buf, offset + written);
            written += n;
            buf.clear();
        }
    }

    private final Path dir;
    private final long number;
    private final Path temp;
    private final FileChannel ch;
    private final Sizes sizes;
    private final Column prefixes;
    private final Column keyOffsets;
    private final Column keys;
    private final Column valueOffsets;
    private final Column values;
    private final Column flags;
    private final Column[] extra;
    private final ByteBuffer[] extraRows;
    private final long bloomOffset;
    private final byte[] bloom;
    private final long crcTableOffset;
    private long rows;
    private long tombstones;
    private long keyPos;
    private long valuePos;
    private byte[] firstKey;
    private byte[] lastKey;
    private boolean finished;

    SegmentWriter(Path dir, long number, Sizes sizes) throws IOException {
        this.dir = dir;
        this.number = number;
        this.sizes = sizes;
        this.temp = FileNames.segmentTemp(dir, number);
        long off = SegmentFormat.HEADER_BYTES;
        prefixes = new Column(SegmentFormat.COL_KEY_PREFIX, off = SegmentFormat.align(off), sizes.rows * 8);
        off += prefixes.length;
        keyOffsets = new Column(SegmentFormat.COL_KEY_OFFSETS, off = SegmentFormat.align(off), (sizes.rows + 1) * 8);
        off += keyOffsets.length;
        keys = new Column(SegmentFormat.COL_KEYS, off = SegmentFormat.align(off), sizes.keyBytes);
        off += keys.length;
        valueOffsets = new Column(SegmentFormat.COL_VALUE_OFFSETS, off = SegmentFormat.align(off), (sizes.rows + 1) * 8);
        off += valueOffsets.length;
        values = new Column(SegmentFormat.COL_VALUES, off = SegmentFormat.align(off), sizes.valueBytes);
        off += values.length;
        flags = new Column(SegmentFormat.COL_FLAGS, off = SegmentFormat.align(off), sizes.rows);
        off += flags.length;
        List<ColumnExtension.Column> specs = sizes.extension == null ? List.of() : sizes.extension.columns();
        extra = new Column[specs.size()];
        extraRows = new ByteBuffer[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            ColumnExtension.Column c = specs.get(i);
            long a = Math.max(SegmentFormat.ALIGN, c.alignment());
            off = (off + a - 1) & -a;
            extra[i] = new Column(c.id(), off, sizes.rows * c.bytesPerRow());
            extraRows[i] = ByteBuffer.allocate(c.bytesPerRow()).order(ByteOrder.LITTLE_ENDIAN);
            off += extra[i].length;
        }
        long bloomBytes = BloomFilter.bytesFor(sizes.rows);
        if (bloomBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("segment of " + sizes.rows + " rows is too large for one bloom filter");
        }
        bloomOffset = SegmentFormat.align(off);
        bloom = new byte[(int) bloomBytes];
        crcTableOffset = SegmentFormat.align(bloomOffset + bloomBytes);
        ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ);
        keyOffsets.putLong(0);
        valueOffsets.putLong(0);
    }

    long number() {
        return number;
    }

    /** Appends a row; {@code valueOrNull == null} writes a tombstone. Keys must strictly increase. */
    void add(byte[] key, byte[] valueOrNull) throws IOException {
        if (lastKey != null && KeyOrder.compare(lastKey, key) >= 0) {
            throw new IllegalStateException("segment rows out of order");
        }
        if (rows == sizes.rows) {
            throw new IllegalStateException("more rows than sized (" + sizes.rows + ")");
        }
        if (firstKey == null) {
            firstKey = key;
        }
        lastKey = key;
        prefixes.putLongBigEndian(KeyOrder.prefix(key));
        keys.put(key);
        keyPos += key.length;
        keyOffsets.putLong(keyPos);
        for (ByteBuffer row : extraRows) {
            java.util.Arrays.fill(row.array(), (byte) 0);
            row.clear();
        }
        if (valueOrNull == null) {
            flags.put(SegmentFormat.FLAG_TOMBSTONE);
            tombstones++;
        } else {
            flags.put((byte) 0);
            byte[] stored = sizes.extension == null ? valueOrNull : sizes.extension.split(valueOrNull, extraRows);
            values.put(stored);
            valuePos += stored.length;
        }
        for (int i = 0; i < extra.length; i++) {
            extraRows[i].clear();
            extra[i].putRow(extraRows[i]);
        }
        valueOffsets.putLong(valuePos);
        BloomFilter.add(bloom, KeyHash.hash(key));
        rows++;
    }

    long rows() {
        return rows;
    }

    /**
     * Completes the file: columns, bloom filter, page checksums, footer, trailer; syncs it and renames
     * it to its final name. Returns the final path.
     */
    Path finish(boolean fsync) throws IOException {
        while (!seal(Long.MAX_VALUE)) {
            // computes every page checksum
        }
        return complete(fsync);
    }

    private List<Column> dataColumns;
    private Arena sealArena;
    private MemorySegment sealMap;
    private ByteBuffer table;
    private int pageCount;
    private int nextPage;

    /**
     * Completes the data region and computes page checksums until {@code deadline} (System.nanoTime);
     * true when every page has its checksum. Lets a compaction finish a large output in bounded steps.
     */
    boolean seal(long deadline) throws IOException {
        if (dataColumns == null) {
            sealData();
        }
        while (nextPage < pageCount) {
            long start = (long) nextPage * SegmentFormat.PAGE_BYTES;
            table.putInt(Checksums.crc(sealMap, start, Math.min(SegmentFormat.PAGE_BYTES, crcTableOffset - start)));
            nextPage++;
            if ((nextPage & 3) == 0 && System.nanoTime() >= deadline) {
                return nextPage == pageCount;
            }
        }
        return true;
    }

    private void sealData() throws IOException {
        if (rows != sizes.rows || keyPos != sizes.keyBytes || valuePos != sizes.valueBytes) {
            throw new IllegalStateException("segment rows differ from their sizes pass: " + rows + " rows vs " + sizes.rows);
        }
        if (rows == 0) {
            throw new IllegalStateException("an empty segment is never written");
        }
        ByteBuffer header = ByteBuffer.allocate(SegmentFormat.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(SegmentFormat.MAGIC).putInt(SegmentFormat.VERSION).putInt(SegmentFormat.PAGE_BYTES).putLong(rows);
        header.clear();
        writeFully(header, 0);
        List<Column> cols = new java.util.ArrayList<>(List.of(prefixes, keyOffsets, keys, valueOffsets, values, flags));
        cols.addAll(List.of(extra));
        for (Column c : cols) {
            c.drain();
            if (c.written != c.length) {
                throw new IllegalStateException("column " + c.id + " wrote " + c.written + " of " + c.length + " bytes");
            }
        }
        writeFully(ByteBuffer.wrap(bloom), bloomOffset);
        // Pad the alignment gaps so every checked byte exists in the file.
        long end = SegmentFormat.HEADER_BYTES;
        for (Column c : cols) {
            if (c.offset > end) {
                writeFully(ByteBuffer.allocate((int) (c.offset - end)), end);
            }
            end = c.offset + c.length;
        }
        if (bloomOffset > end) {
            writeFully(ByteBuffer.allocate((int) (bloomOffset - end)), end);
        }
        // Pad to the checksum table so every checked byte exists in the file.
        long padFrom = bloomOffset + bloom.length;
        if (crcTableOffset > padFrom) {
            writeFully(ByteBuffer.allocate((int) (crcTableOffset - padFrom)), padFrom);
        }
        pageCount = (int) ((crcTableOffset + SegmentFormat.PAGE_BYTES - 1) / SegmentFormat.PAGE_BYTES);
        table = ByteBuffer.allocate(4 * pageCount).order(ByteOrder.LITTLE_ENDIAN);
        // Shared, not confined: a compaction seals in budgeted steps from commits, and Kafka Streams moves a
        // task's stores between threads (the state updater restores and commits, the stream thread processes
        // and closes), so a later step or the abandoning close() may run on another thread.
        sealArena = Arena.ofShared();
        sealMap = ch.map(FileChannel.MapMode.READ_ONLY, 0, crcTableOffset, sealArena);
        dataColumns = cols;
    }

    /** Writes checksum table, footer and trailer, syncs, and renames the file to its final name. */
    Path complete(boolean fsync) throws IOException {
        if (dataColumns == null || nextPage < pageCount) {
            throw new IllegalStateException("complete() before seal() finished");
        }
        sealArena.close();
        sealArena = null;
        sealMap = null;
        table.flip();
        int tableCrc = Checksums.crc(table.duplicate());
        writeFully(table, crcTableOffset);

        long footerOffset = crcTableOffset + 4L * pageCount;
        Column[] all = dataColumns.toArray(new Column[0]);
        int footerLen = 4 + 8 + 8 + 4 + 8 + 4 + 4 + (all.length + 1) * 20 + 4 + firstKey.length + 4 + lastKey.length;
        ByteBuffer footer = ByteBuffer.allocate(footerLen).order(ByteOrder.LITTLE_ENDIAN);
        footer.putInt(SegmentFormat.VERSION).putLong(rows).putLong(tombstones).putInt(all.length + 1);
        footer.putLong(crcTableOffset).putInt(pageCount).putInt(tableCrc);
        for (Column c : all) {
            footer.putInt(c.id).putLong(c.offset).putLong(c.length);
        }
        footer.putInt(SegmentFormat.COL_BLOOM).putLong(bloomOffset).putLong(bloom.length);
        footer.putInt(firstKey.length).put(firstKey).putInt(lastKey.length).put(lastKey);
        footer.flip();
        int footerCrc = Checksums.crc(footer.duplicate());
        writeFully(footer, footerOffset);

        ByteBuffer trailer = ByteBuffer.allocate(SegmentFormat.TRAILER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        trailer.putLong(footerOffset).putInt(footerLen).putInt(footerCrc).putInt(SegmentFormat.VERSION);
        trailer.putInt(Checksums.crc(trailer.array(), 0, 20)).putLong(SegmentFormat.MAGIC);
        trailer.flip();
        writeFully(trailer, footerOffset + footerLen);
        if (fsync) {
            ch.force(true);
        }
        ch.close();
        Path target = FileNames.segment(dir, number);
        Files.move(temp, target, StandardCopyOption.ATOMIC_MOVE);
        finished = true;
        return target;
    }

    private void writeFully(ByteBuffer buf, long position) throws IOException {
        long pos = position;
        while (buf.hasRemaining()) {
            pos += ch.write(buf, pos);
        }
    }

    /** Abandons an unfinished file: closes and deletes the temporary file. */
    @Override
    public void close() throws IOException {
        if (sealArena != null) {
            sealArena.close();
            sealArena = null;
        }
        if (!finished) {
            ch.close();
            Files.deleteIfExists(temp);
        }
    }
}
