package io.github.mmapstore.tools;

import io.github.mmapstore.engine.ColumnExtension;
import io.github.mmapstore.engine.StoreSnapshot;
import io.github.mmapstore.vector.EmbeddingFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Builds a {@link StoreReport} from a read-only {@link StoreSnapshot}. Reads every live row once. */
final class StoreInspector {
    private static final Map<Integer, String> COLUMN_NAMES = Map.of(
            EmbeddingFormat.COL_VECTORS, "vectors",
            EmbeddingFormat.COL_NORMS, "norms",
            EmbeddingFormat.COL_CONFIDENCE, "confidence",
            EmbeddingFormat.COL_TIMESTAMP, "timestamps");

    private StoreInspector() {
    }

    /**
     * Opens a snapshot of the store, with the embedding columns joined back in when the segments carry
     * them. The caller closes it.
     */
    static Opened open(LocatedStore store) {
        StoreSnapshot plain = StoreSnapshot.open(store.dir(), null);
        Optional<EmbeddingColumns.Layout> layout;
        try {
            layout = EmbeddingColumns.recognise(plain);
        } catch (RuntimeException e) {
            plain.close();
            throw e;
        }
        if (layout.isEmpty()) {
            return new Opened(plain, null);
        }
        plain.close();
        ColumnExtension columns = layout.get().columns();
        return new Opened(StoreSnapshot.open(store.dir(), columns), layout.get());
    }

    /** A snapshot and the embedding layout it was opened with (or null). */
    record Opened(StoreSnapshot snapshot, EmbeddingColumns.Layout embedding) implements AutoCloseable {
        @Override
        public void close() {
            snapshot.close();
        }
    }

    static StoreReport inspect(LocatedStore store) {
        try (Opened o = open(store)) {
            return report(store, o.snapshot(), o.embedding());
        }
    }

    private static StoreReport report(LocatedStore store, StoreSnapshot s, EmbeddingColumns.Layout embedding) {
        StoreSnapshot.LiveSummary live = s.liveSummary();
        boolean partitioned = partitioned(s);
        List<StoreReport.SegmentRow> segRows = new ArrayList<>();
        long rows = s.logTailKeys();
        long disk = s.manifestBytes();
        for (int i = 0; i < s.segments().size(); i++) {
            StoreSnapshot.SegmentInfo seg = s.segments().get(i);
            StoreSnapshot.Live l = live.segments().get(i);
            List<StoreReport.Column> extra = new ArrayList<>();
            for (StoreSnapshot.ColumnInfo c : seg.extraColumns()) {
                extra.add(new StoreReport.Column(c.id(), COLUMN_NAMES.getOrDefault(c.id(), "column " + c.id()), c.length()));
            }
            Long timeSegment = partitioned && seg.firstKey().length >= 8 ? prefix(seg.firstKey()) ^ Long.MIN_VALUE : null;
            segRows.add(new StoreReport.SegmentRow(seg.file().getFileName().toString(), seg.number(), seg.bytes(), seg.rows(),
                    seg.tombstones(), l.rows(), l.bytes(), seg.firstKey(), seg.lastKey(), timeSegment, extra, seg.dropped()));
            rows += seg.rows();
            disk += seg.bytes();
        }
        List<StoreReport.LogRow> logRows = new ArrayList<>();
        for (StoreSnapshot.LogInfo log : s.logs()) {
            logRows.add(new StoreReport.LogRow(log.file().getFileName().toString(), log.number(), log.bytes(), log.records(),
                    log.puts(), log.deletes(), log.commits(), log.partitionDrops(), log.uncommittedBytes(), log.tornTail()));
            disk += log.bytes();
        }
        long other = 0;
        List<String> obsolete = new ArrayList<>();
        for (Path p : s.obsoleteLogs()) {
            obsolete.add(p.getFileName().toString());
            other += sizeOrZero(p);
        }
        List<String> unreferenced = new ArrayList<>();
        for (Path p : s.unreferencedSegments()) {
            unreferenced.add(p.getFileName().toString());
            other += sizeOrZero(p);
        }
        List<String> temps = new ArrayList<>();
        for (Path p : s.temporaryFiles()) {
            temps.add(p.getFileName().toString());
            other += sizeOrZero(p);
        }
        List<String> quarantines = s.quarantines().stream().map(p -> p.getFileName().toString()).toList();
        StoreReport.ManifestInfo manifest = new StoreReport.ManifestInfo(s.manifestBytes(), s.nextFileNumber(), s.manifestSeq(),
                s.lastSeq(), s.logStart(), s.commitInLog());
        return new StoreReport(store,
                new StoreReport.Versions(s.manifestFormatVersion(), StoreSnapshot.SEGMENT_FORMAT_VERSION,
                        StoreSnapshot.LOG_FORMAT_VERSION),
                manifest, KafkaCommit.decode(s.commitMetadata()), segRows, logRows, s.logTailKeys(),
                live.logTail().rows(), live.logTail().bytes(), embedding, partitioned, rows, live.rows(), live.bytes(),
                disk, other, obsolete, unreferenced, temps, quarantines, s.corruptionMarker().orElse(null));
    }

    /**
     * Window and session stores key every row by an 8-byte partition (their time segment id with the sign
     * bit flipped) and keep each partition in its own segment files; their logs may drop partitions.
     */
    private static boolean partitioned(StoreSnapshot s) {
        if (s.logs().stream().anyMatch(l -> l.partitionDrops() > 0)) {
            return true;
        }
        if (s.segments().isEmpty()) {
            return false;
        }
        for (StoreSnapshot.SegmentInfo seg : s.segments()) {
            if (seg.firstKey().length < 8 || seg.lastKey().length < 8) {
                return false;
            }
            long first = prefix(seg.firstKey());
            if (first != prefix(seg.lastKey()) || first >= 0) {
                return false; // non-negative segment ids have the top bit set once flipped
            }
        }
        return true;
    }

    private static long prefix(byte[] key) {
        long p = 0;
        for (int i = 0; i < 8; i++) {
            p = (p << 8) | (key[i] & 0xFFL);
        }
        return p;
    }

    private static long sizeOrZero(Path p) {
        try {
            return Files.size(p);
        } catch (NoSuchFileException e) {
            return 0; // removed by a running engine since the listing
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
