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
import java.util.ArrayList;
import java.util.Arrays;
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

    /**
     * Totals of the rows to be written; computed by a first pass over the same rows. They decide the
     * file's layout too (see {@link SegmentFormat}): fixed-length keys or values need no offsets.
     */
    static final class Sizes {
        final ColumnExtension extension;
        long rows;
        long tombstones;
        long keyBytes;
        /** Stored bytes of the values of the rows that are not tombstones. */
        long valueBytes;
        private long minKey = Long.MAX_VALUE;
        private long maxKey = -1;
        private long minValue = Long.MAX_VALUE;
        private long maxValue = -1;

        Sizes(ColumnExtension extension) {
            this.extension = extension;
        }

        /** A row whose stored value has {@code storedLength} bytes (-1: a tombstone); no extension columns. */
        void addStored(byte[] key, long storedLength) {
            addLengths(key.length, storedLength);
        }

        /** A row of a {@code keyLength}-byte key and a stored value of {@code storedLength} bytes (-1: tombstone). */
        void addLengths(int keyLength, long storedLength) {
            rows++;
            keyBytes += keyLength;
            minKey = Math.min(minKey, keyLength);
            maxKey = Math.max(maxKey, keyLength);
            if (storedLength >= 0) {
                valueBytes += storedLength;
                minValue = Math.min(minValue, storedLength);
                maxValue = Math.max(maxValue, storedLength);
            } else {
                tombstones++;
            }
        }

        void add(byte[] key, byte[] valueOrNull) {
            addStored(key, valueOrNull == null ? -1
                    : extension == null ? valueOrNull.length : extension.storedLength(valueOrNull));
        }

        /** The length of every key, or -1 when they differ (then the file holds key offsets). */
        long fixedKeyLength() {
            return rows > 0 && minKey == maxKey ? minKey : -1;
        }

        /** Bytes per key offset: 0 for fixed-length keys, else 4, or 8 for a key column over 4 GiB. */
        int keyOffsetBytes() {
            return fixedKeyLength() >= 0 ? 0 : keyBytes <= SegmentFormat.MAX_OFFSET_32 ? 4 : 8;
        }

        /**
         * The length of every value's slot, or -1 when the file holds value offsets: when the values that
         * are not tombstones all have one length, and the tombstones' zeroed slots cost less than offsets.
         */
        long fixedValueLength() {
            long present = rows - tombstones;
            if (present > 0 && minValue != maxValue) {
                return -1;
            }
            long length = present == 0 ? 0 : minValue;
            long offsets = (rows + 1) * (valueBytes <= SegmentFormat.MAX_OFFSET_32 ? 4L : 8L);
            return tombstones * length <= offsets ? length : -1;
        }

        /** Bytes per value offset: 0 for fixed-length slots, else 4, or 8 for a value column over 4 GiB. */
        int valueOffsetBytes() {
            return fixedValueLength() >= 0 ? 0 : valueBytes <= SegmentFormat.MAX_OFFSET_32 ? 4 : 8;
        }

        /** Bytes of the value column: the values, and a zeroed slot per tombstone when slots are fixed. */
        long valueColumnBytes() {
            long fixed = fixedValueLength();
            return fixed > 0 ? valueBytes + tombstones * fixed : valueBytes;
        }

        /**
         * About the size of the file these rows make (every column, the bloom filter and page checksums,
         * not the few hundred bytes of alignment, footer and trailer): where a merge cuts its output files.
         */
        long fileBytes() {
            long n = SegmentFormat.HEADER_BYTES + keyBytes + valueColumnBytes() + BloomFilter.bytesFor(rows);
            int keyOffsets = keyOffsetBytes();
            if (keyOffsets > 0) {
                n += rows * 8 + (rows + 1) * keyOffsets;
            }
            n += (rows + 1) * valueOffsetBytes();
            if (tombstones > 0) {
                n += rows;
            }
            if (extension != null) {
                for (ColumnExtension.Column c : extension.columns()) {
                    n += rows * c.bytesPerRow();
                }
            }
            return n + n / SegmentFormat.PAGE_BYTES * 4;
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

        void putInt(int v) throws IOException {
            ensure(4);
            buf.putInt(v);
        }

        /** One offset of an offsets column: 4 or 8 bytes wide. */
        void putOffset(long v, int width) throws IOException {
            if (width == 4) {
                putInt((int) v);
            } else {
                putLong(v);
            }
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
            put(bytes, 0, bytes.length);
        }

        void put(byte[] src, int from, int length) throws IOException {
            if (length > buf.capacity()) {
                drain();
                writeFully(ByteBuffer.wrap(src, from, length), offset + written);
                written += length;
                return;
            }
            ensure(length);
            buf.put(src, from, length);
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
    /** The columns this file has, in file order (structural columns only where the layout needs them). */
    private final List<Column> dataColumns = new ArrayList<>();
    private final Column prefixes;
    private final Column keyOffsets;
    private final Column keys;
    private final Column valueOffsets;
    private final Column values;
    private final Column flags;
    private final Column[] extra;
    private final ByteBuffer[] extraRows;
    private final long fixedKeyLength;
    private final int keyOffsetBytes;
    private final long fixedValueLength;
    private final int valueOffsetBytes;
    private final byte[] emptySlot;
    private final long bloomOffset;
    private final byte[] bloom;
    private final long crcTableOffset;
    private long rows;
    private long tombstones;
    private long keyPos;
    private long valuePos;
    private byte[] firstKey;
    /** The last key added: {@code lastKeyLength} bytes of {@code lastKeySource} at {@code lastKeyFrom} (a row's own array or a memtable slab). */
    private byte[] lastKeySource;
    private int lastKeyFrom;
    private int lastKeyLength;
    private boolean finished;
    private long end = SegmentFormat.HEADER_BYTES;

    SegmentWriter(Path dir, long number, Sizes sizes) throws IOException {
        this.dir = dir;
        this.number = number;
        this.sizes = sizes;
        this.temp = FileNames.segmentTemp(dir, number);
        fixedKeyLength = sizes.fixedKeyLength();
        keyOffsetBytes = sizes.keyOffsetBytes();
        fixedValueLength = sizes.fixedValueLength();
        valueOffsetBytes = sizes.valueOffsetBytes();
        emptySlot = fixedValueLength > 0 && sizes.tombstones > 0 ? new byte[(int) fixedValueLength] : null;
        prefixes = keyOffsetBytes == 0 ? null : column(SegmentFormat.COL_KEY_PREFIX, SegmentFormat.ALIGN, sizes.rows * 8);
        keyOffsets = keyOffsetBytes == 0 ? null : column(keyOffsetBytes == 4 ? SegmentFormat.COL_KEY_OFFSETS_32
                : SegmentFormat.COL_KEY_OFFSETS, SegmentFormat.ALIGN, (sizes.rows + 1) * keyOffsetBytes);
        keys = column(SegmentFormat.COL_KEYS, SegmentFormat.ALIGN, sizes.keyBytes);
        valueOffsets = valueOffsetBytes == 0 ? null : column(valueOffsetBytes == 4 ? SegmentFormat.COL_VALUE_OFFSETS_32
                : SegmentFormat.COL_VALUE_OFFSETS, SegmentFormat.ALIGN, (sizes.rows + 1) * valueOffsetBytes);
        values = column(SegmentFormat.COL_VALUES, SegmentFormat.ALIGN, sizes.valueColumnBytes());
        flags = sizes.tombstones == 0 ? null : column(SegmentFormat.COL_FLAGS, SegmentFormat.ALIGN, sizes.rows);
        List<ColumnExtension.Column> specs = sizes.extension == null ? List.of() : sizes.extension.columns();
        extra = new Column[specs.size()];
        extraRows = new ByteBuffer[specs.size()];
        for (int i = 0; i < specs.size(); i++) {
            ColumnExtension.Column c = specs.get(i);
            extra[i] = column(c.id(), Math.max(SegmentFormat.ALIGN, c.alignment()), sizes.rows * c.bytesPerRow());
            extraRows[i] = ByteBuffer.allocate(c.bytesPerRow()).order(ByteOrder.LITTLE_ENDIAN);
        }
        long bloomBytes = BloomFilter.bytesFor(sizes.rows);
        if (bloomBytes > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("segment of " + sizes.rows + " rows is too large for one bloom filter");
        }
        bloomOffset = SegmentFormat.align(end);
        bloom = new byte[(int) bloomBytes];
        crcTableOffset = SegmentFormat.align(bloomOffset + bloomBytes);
        ch = FileChannel.open(temp, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.READ);
        if (keyOffsets != null) {
            keyOffsets.putOffset(0, keyOffsetBytes);
        }
        if (valueOffsets != null) {
            valueOffsets.putOffset(0, valueOffsetBytes);
        }
    }

    /** Places the next column after the previous one, at the given alignment. */
    private Column column(int id, long alignment, long length) {
        long offset = (end + alignment - 1) & -alignment;
        Column c = new Column(id, offset, length);
        dataColumns.add(c);
        end = offset + length;
        return c;
    }

    long number() {
        return number;
    }

    /** Appends a row; {@code valueOrNull == null} writes a tombstone. Keys must strictly increase. */
    void add(byte[] key, byte[] valueOrNull) throws IOException {
        add(key, valueOrNull, KeyHash.hash(key));
    }

    /** As {@link #add(byte[], byte[])}, with the key's {@link KeyHash#hash} already computed. */
    void add(byte[] key, byte[] valueOrNull, long keyHash) throws IOException {
        if (sizes.extension == null) {
            add(key, 0, key.length, valueOrNull, 0, valueOrNull == null ? -1 : valueOrNull.length, keyHash);
            return;
        }
        for (ByteBuffer row : extraRows) {
            java.util.Arrays.fill(row.array(), (byte) 0);
            row.clear();
        }
        byte[] stored = valueOrNull == null ? null : sizes.extension.split(valueOrNull, extraRows);
        add(key, 0, key.length, stored, 0, stored == null ? -1 : stored.length, keyHash);
    }

    /**
     * Appends a row from slices of arrays (a memtable's slabs: no copy of its own per row), {@code valueLength}
     * -1 for a tombstone. Without extension columns, or with their row buffers already filled by the caller.
     */
    void add(byte[] keySource, int keyFrom, int keyLength, byte[] valueSource, int valueFrom, int valueLength, long keyHash)
            throws IOException {
        if (lastKeySource != null && Arrays.compareUnsigned(lastKeySource, lastKeyFrom, lastKeyFrom + lastKeyLength,
                keySource, keyFrom, keyFrom + keyLength) >= 0) {
            throw new IllegalStateException("segment rows out of order");
        }
        if (rows == sizes.rows) {
            throw new IllegalStateException("more rows than sized (" + sizes.rows + ")");
        }
        if (fixedKeyLength >= 0 && keyLength != fixedKeyLength) {
            throw new IllegalStateException("a key of " + keyLength + " bytes where the sizes pass found only keys of "
                    + fixedKeyLength);
        }
        if (firstKey == null) {
            firstKey = Arrays.copyOfRange(keySource, keyFrom, keyFrom + keyLength);
        }
        lastKeySource = keySource;
        lastKeyFrom = keyFrom;
        lastKeyLength = keyLength;
        if (prefixes != null) {
            prefixes.putLongBigEndian(KeyOrder.prefix(keySource, keyFrom, keyLength));
        }
        keys.put(keySource, keyFrom, keyLength);
        keyPos += keyLength;
        if (keyOffsets != null) {
            keyOffsets.putOffset(keyPos, keyOffsetBytes);
        }
        if (valueLength < 0) {
            for (ByteBuffer row : extraRows) {
                java.util.Arrays.fill(row.array(), (byte) 0);
                row.clear();
            }
            if (flags == null) {
                throw new IllegalStateException("a tombstone where the sizes pass found none");
            }
            flags.put(SegmentFormat.FLAG_TOMBSTONE);
            tombstones++;
            if (emptySlot != null) {
                values.put(emptySlot);
            }
        } else {
            if (flags != null) {
                flags.put((byte) 0);
            }
            if (fixedValueLength >= 0 && valueLength != fixedValueLength) {
                throw new IllegalStateException("a value of " + valueLength + " bytes where the sizes pass found only values of "
                        + fixedValueLength);
            }
            values.put(valueSource, valueFrom, valueLength);
            valuePos += valueLength;
        }
        for (int i = 0; i < extra.length; i++) {
            extraRows[i].clear();
            extra[i].putRow(extraRows[i]);
        }
        if (valueOffsets != null) {
            valueOffsets.putOffset(valuePos, valueOffsetBytes);
        }
        BloomFilter.add(bloom, keyHash);
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

    private boolean sealing;
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
        if (!sealing) {
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
        if (rows != sizes.rows || tombstones != sizes.tombstones || keyPos != sizes.keyBytes || valuePos != sizes.valueBytes) {
            throw new IllegalStateException("segment rows differ from their sizes pass: " + rows + " rows vs " + sizes.rows);
        }
        if (rows == 0) {
            throw new IllegalStateException("an empty segment is never written");
        }
        ByteBuffer header = ByteBuffer.allocate(SegmentFormat.HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putLong(SegmentFormat.MAGIC).putInt(SegmentFormat.VERSION).putInt(SegmentFormat.PAGE_BYTES).putLong(rows);
        header.clear();
        writeFully(header, 0);
        for (Column c : dataColumns) {
            c.drain();
            if (c.written != c.length) {
                throw new IllegalStateException("column " + c.id + " wrote " + c.written + " of " + c.length + " bytes");
            }
        }
        writeFully(ByteBuffer.wrap(bloom), bloomOffset);
        // Pad the alignment gaps so every checked byte exists in the file.
        long at = SegmentFormat.HEADER_BYTES;
        for (Column c : dataColumns) {
            if (c.offset > at) {
                writeFully(ByteBuffer.allocate((int) (c.offset - at)), at);
            }
            at = c.offset + c.length;
        }
        if (bloomOffset > at) {
            writeFully(ByteBuffer.allocate((int) (bloomOffset - at)), at);
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
        sealing = true;
    }

    /** Writes checksum table, footer and trailer, syncs, and renames the file to its final name. */
    Path complete(boolean fsync) throws IOException {
        if (!sealing || nextPage < pageCount) {
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
        byte[] lastKey = Arrays.copyOfRange(lastKeySource, lastKeyFrom, lastKeyFrom + lastKeyLength);
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
