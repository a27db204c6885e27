package io.github.mmapstore.engine;

/**
 * The log file format (version 1): a 24-byte header, then frames.
 *
 * <pre>
 * header: magic u64 | version u32 | file number u64 | CRC32C of the 20 bytes before it u32
 * frame:  payload length u32 | type u8 | payload CRC32C u32 | CRC32C of the 9 bytes before it u32 | payload
 * PUT     payload: key length (varint) | key | value
 * DELETE  payload: key
 * COMMIT  payload: sequence number u64 | has metadata u8 | metadata
 * DROP_BELOW payload: partition u64 (partitioned engines: every key of a lower partition is gone)
 * END     payload: number of the next log file u64 (the last frame of a log that was rotated)
 * </pre>
 *
 * The header checksum lets recovery tell a torn tail (a partial header, a frame that runs past the end
 * of the file, or zeros to the end) from damage (anything else), which it reports as corruption rather
 * than silently dropping committed writes. The END frame lets it tell a rotated log that lost its tail
 * (to a truncation that happened to fall on a frame boundary, say) from one that ended there: without
 * it, the records cut from an older log would vanish while a commit in a newer log claimed them.
 */
final class LogFormat {
    static final long MAGIC = 0x31474F4C54534D4DL; // "MMSTLOG1"
    static final int VERSION = 1;
    static final int FILE_HEADER_BYTES = 24;
    static final int FRAME_HEADER_BYTES = 13;
    static final byte PUT = 1;
    static final byte DELETE = 2;
    static final byte COMMIT = 3;
    static final byte DROP_BELOW = 4;
    static final byte END = 5;

    private LogFormat() {
    }

    static boolean knownType(byte t) {
        return t == PUT || t == DELETE || t == COMMIT || t == DROP_BELOW || t == END;
    }

    static int varintSize(int v) {
        int n = 1;
        while ((v & ~0x7F) != 0) {
            v >>>= 7;
            n++;
        }
        return n;
    }
}
