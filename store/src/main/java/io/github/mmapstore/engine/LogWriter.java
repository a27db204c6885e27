package io.github.mmapstore.engine;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.zip.CRC32C;

/**
 * Appends CRC32C-framed records to one log file through a heap buffer. Nothing is durable until
 * {@link #sync}: a commit appends its COMMIT frame and syncs once, however many writes came before it
 * (group commit).
 */
final class LogWriter implements AutoCloseable {
    private final Path path;
    private final long number;
    private final FileChannel ch;
    private final ByteBuffer buf;
    private final CRC32C crc = new CRC32C();
    private long filePosition;

    private LogWriter(Path path, long number, FileChannel ch, long position, int bufferBytes) {
        this.path = path;
        this.number = number;
        this.ch = ch;
        this.filePosition = position;
        this.buf = ByteBuffer.allocate(bufferBytes).order(ByteOrder.LITTLE_ENDIAN);
        FileLimits.fileOpened();
    }

    /** Creates a new log file and writes its header (synced, with its directory entry, when fsync). */
    static LogWriter create(Path dir, long number, int bufferBytes, boolean fsync) throws IOException {
        Path path = FileNames.log(dir, number);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        try {
            ByteBuffer h = ByteBuffer.allocate(LogFormat.FILE_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
            h.putLong(LogFormat.MAGIC).putInt(LogFormat.VERSION).putLong(number);
            h.putInt(Checksums.crc(h.array(), 0, 20));
            h.flip();
            while (h.hasRemaining()) {
                ch.write(h, LogFormat.FILE_HEADER_BYTES - h.remaining());
            }
            if (fsync) {
                ch.force(true);
                Manifest.syncDirectory(dir);
            }
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new LogWriter(path, number, ch, LogFormat.FILE_HEADER_BYTES, bufferBytes);
    }

    /** Reopens an existing log for appending after {@code validEnd}, cutting off anything past it. */
    static LogWriter reopen(Path dir, long number, long validEnd, int bufferBytes, boolean fsync) throws IOException {
        Path path = FileNames.log(dir, number);
        FileChannel ch = FileChannel.open(path, StandardOpenOption.WRITE);
        try {
            if (ch.size() > validEnd) {
                ch.truncate(validEnd);
                if (fsync) {
                    ch.force(true);
                }
            }
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        return new LogWriter(path, number, ch, validEnd, bufferBytes);
    }

    Path path() {
        return path;
    }

    long number() {
        return number;
    }

    /** Bytes in the file plus bytes still buffered. */
    long size() {
        return filePosition + buf.position();
    }

    void appendPut(byte[] key, byte[] value) throws IOException {
        int vl = LogFormat.varintSize(key.length);
        int payload = vl + key.length + value.length;
        if (LogFormat.FRAME_HEADER_BYTES + payload > buf.capacity()) {
            writeLarge(LogFormat.PUT, key, value);
            return;
        }
        ensure(LogFormat.FRAME_HEADER_BYTES + payload);
        int start = buf.position();
        buf.position(start + LogFormat.FRAME_HEADER_BYTES);
        putVarint(key.length);
        buf.put(key).put(value);
        sealFrame(start, LogFormat.PUT, payload);
    }

    void appendDelete(byte[] key) throws IOException {
        if (LogFormat.FRAME_HEADER_BYTES + key.length > buf.capacity()) {
            writeLarge(LogFormat.DELETE, key, null);
            return;
        }
        ensure(LogFormat.FRAME_HEADER_BYTES + key.length);
        int start = buf.position();
        buf.position(start + LogFormat.FRAME_HEADER_BYTES);
        buf.put(key);
        sealFrame(start, LogFormat.DELETE, key.length);
    }

    void appendCommit(long seq, byte[] metadata) throws IOException {
        int payload = 8 + 1 + (metadata == null ? 0 : metadata.length);
        byte[] body = new byte[payload];
        ByteBuffer b = ByteBuffer.wrap(body).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(seq).put((byte) (metadata == null ? 0 : 1));
        if (metadata != null) {
            b.put(metadata);
        }
        if (LogFormat.FRAME_HEADER_BYTES + payload > buf.capacity()) {
            writeLarge(LogFormat.COMMIT, body, null);
            return;
        }
        ensure(LogFormat.FRAME_HEADER_BYTES + payload);
        int start = buf.position();
        buf.position(start + LogFormat.FRAME_HEADER_BYTES);
        buf.put(body);
        sealFrame(start, LogFormat.COMMIT, payload);
    }

    /** The last frame of a log being rotated: names the log that continues it. */
    void appendEnd(long nextLogNumber) throws IOException {
        ensure(LogFormat.FRAME_HEADER_BYTES + 8);
        int start = buf.position();
        buf.position(start + LogFormat.FRAME_HEADER_BYTES);
        buf.putLong(nextLogNumber);
        sealFrame(start, LogFormat.END, 8);
    }

    void appendDropBelow(long partition) throws IOException {
        ensure(LogFormat.FRAME_HEADER_BYTES + 8);
        int start = buf.position();
        buf.position(start + LogFormat.FRAME_HEADER_BYTES);
        buf.putLong(partition);
        sealFrame(start, LogFormat.DROP_BELOW, 8);
    }

    private void sealFrame(int start, byte type, int payload) {
        crc.reset();
        crc.update(buf.array(), start + LogFormat.FRAME_HEADER_BYTES, payload);
        int pcrc = (int) crc.getValue();
        buf.putInt(start, payload);
        buf.put(start + 4, type);
        buf.putInt(start + 5, pcrc);
        crc.reset();
        crc.update(buf.array(), start, 9);
        buf.putInt(start + 9, (int) crc.getValue());
    }

    /** A frame larger than the buffer: written straight to the file. */
    private void writeLarge(byte type, byte[] first, byte[] valueOrNull) throws IOException {
        drain();
        boolean put = type == LogFormat.PUT;
        int vl = put ? LogFormat.varintSize(first.length) : 0;
        long payloadLong = (long) vl + first.length + (valueOrNull == null ? 0 : valueOrNull.length);
        if (payloadLong > Integer.MAX_VALUE - 64) {
            throw new IllegalArgumentException("record of " + payloadLong + " bytes is too large for the log");
        }
        int payload = (int) payloadLong;
        ByteBuffer prefix = ByteBuffer.allocate(vl).order(ByteOrder.LITTLE_ENDIAN);
        if (put) {
            int v = first.length;
            while ((v & ~0x7F) != 0) {
                prefix.put((byte) ((v & 0x7F) | 0x80));
                v >>>= 7;
            }
            prefix.put((byte) v);
        }
        crc.reset();
        crc.update(prefix.array(), 0, vl);
        crc.update(first);
        if (valueOrNull != null) {
            crc.update(valueOrNull);
        }
        int pcrc = (int) crc.getValue();
        ByteBuffer header = ByteBuffer.allocate(LogFormat.FRAME_HEADER_BYTES).order(ByteOrder.LITTLE_ENDIAN);
        header.putInt(payload).put(type).putInt(pcrc);
        header.putInt(Checksums.crc(header.array(), 0, 9));
        header.flip();
        prefix.flip();
        ByteBuffer[] parts = valueOrNull == null
                ? new ByteBuffer[] {header, prefix, ByteBuffer.wrap(first)}
                : new ByteBuffer[] {header, prefix, ByteBuffer.wrap(first), ByteBuffer.wrap(valueOrNull)};
        for (ByteBuffer p : parts) {
            while (p.hasRemaining()) {
                filePosition += ch.write(p, filePosition);
            }
        }
    }

    private void putVarint(int v) {
        while ((v & ~0x7F) != 0) {
            buf.put((byte) ((v & 0x7F) | 0x80));
            v >>>= 7;
        }
        buf.put((byte) v);
    }

    private void ensure(int n) throws IOException {
        if (buf.remaining() < n) {
            drain();
        }
    }

    /** Hands the buffered frames to the operating system (not yet durable). */
    void drain() throws IOException {
        buf.flip();
        while (buf.hasRemaining()) {
            filePosition += ch.write(buf, filePosition);
        }
        buf.clear();
    }

    /** Drains and, when {@code fsync}, forces the file's data to the device. */
    void sync(boolean fsync) throws IOException {
        drain();
        if (fsync) {
            ch.force(false);
        }
    }

    @Override
    public void close() throws IOException {
        if (ch.isOpen()) {
            FileLimits.fileClosed();
        }
        ch.close();
    }
}
