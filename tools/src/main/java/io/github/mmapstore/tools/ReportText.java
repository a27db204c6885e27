package io.github.mmapstore.tools;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** The human-readable form of {@code inspect}: one block per store, with a table of segments and of logs. */
final class ReportText {
    private static final int KEY_WIDTH = 24;

    private ReportText() {
    }

    static String render(StoreReport r) {
        StringBuilder b = new StringBuilder();
        LocatedStore s = r.store();
        b.append("store ").append(s.label());
        if (s.app() != null) {
            b.append("  (app ").append(s.app()).append(", task ").append(s.task()).append(", store ").append(s.name()).append(')');
        }
        b.append('\n');
        line(b, "path", s.dir().toString());
        line(b, "format", "manifest v" + r.formatVersions().manifest() + ", segments v" + r.formatVersions().segment()
                + ", logs v" + r.formatVersions().log());
        StoreReport.ManifestInfo m = r.manifest();
        line(b, "manifest", "generation (next file number) " + m.nextFileNumber() + ", seq " + m.seq() + ", log start "
                + m.logStart() + ", " + m.bytes() + " bytes");
        line(b, "committed", "seq " + m.committedSeq() + (m.commitInLog() ? " (last commit in the log)" : " (last commit is the manifest's checkpoint)"));
        commit(b, r.commit());
        String kind = r.embedding() != null
                ? "embedding store, dimension " + r.embedding().dimension() + (r.embedding().prefix() > 0 ? ", timestamped values" : "")
                : r.partitioned() ? "time-partitioned (window or session store; inferred from the keys)" : "key-value";
        line(b, "kind", kind);

        b.append("  segments (").append(r.segments().size()).append(", newest first)\n");
        if (!r.segments().isEmpty()) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"FILE", "ROWS", "TOMBSTONES", "LIVE", "BYTES", "FIRST KEY", "LAST KEY", "PARTITION", "EXTRA COLUMNS"});
            for (StoreReport.SegmentRow seg : r.segments()) {
                List<String> extra = new ArrayList<>();
                for (StoreReport.Column c : seg.extraColumns()) {
                    extra.add(c.name() + " " + size(c.bytes()));
                }
                rows.add(new String[] {
                    seg.file() + (seg.dropped() ? " (dropped)" : ""), Long.toString(seg.rows()), Long.toString(seg.tombstones()),
                    Long.toString(seg.liveRows()), size(seg.bytes()), ByteText.abbreviate(seg.firstKey(), KEY_WIDTH),
                    ByteText.abbreviate(seg.lastKey(), KEY_WIDTH), seg.timeSegment() == null ? "-" : "time segment " + seg.timeSegment(),
                    extra.isEmpty() ? "-" : String.join(", ", extra)});
            }
            table(b, rows);
        }
        b.append("  logs (").append(r.logs().size()).append(")\n");
        if (!r.logs().isEmpty()) {
            List<String[]> rows = new ArrayList<>();
            rows.add(new String[] {"FILE", "BYTES", "RECORDS", "PUTS", "DELETES", "COMMITS", "DROPS", "UNCOMMITTED", "TAIL"});
            for (StoreReport.LogRow log : r.logs()) {
                rows.add(new String[] {log.file(), size(log.bytes()), Long.toString(log.records()), Long.toString(log.puts()),
                    Long.toString(log.deletes()), Long.toString(log.commits()), Long.toString(log.partitionDrops()),
                    size(log.uncommittedBytes()), log.tornTail() ? "torn (recoverable)" : "clean"});
            }
            table(b, rows);
        }
        line(b, "log tail", r.logTailKeys() + " committed keys not yet in a segment, " + r.logTailLiveRows() + " of them live");
        line(b, "rows", r.rows() + " (segment rows incl. tombstones + log tail keys)");
        line(b, "live rows", r.liveRows() + " (" + size(r.liveBytes()) + " of keys and values)");
        line(b, "disk", size(r.diskBytes()) + " (manifest, segments, logs)" + (r.otherBytes() > 0 ? " + " + size(r.otherBytes()) + " not needed" : ""));
        line(b, "space amp", r.liveBytes() == 0 ? "n/a (nothing live)" : String.format(Locale.ROOT, "%.2f (disk bytes / live bytes)", r.spaceAmplification()));
        if (!r.obsoleteLogs().isEmpty()) {
            line(b, "obsolete", String.join(", ", r.obsoleteLogs()) + " (before the log start; deleted by the next open)");
        }
        if (!r.unreferencedSegments().isEmpty()) {
            line(b, "unnamed", String.join(", ", r.unreferencedSegments()) + " (not in the manifest: uncommitted flush or merge output)");
        }
        if (!r.temporaryFiles().isEmpty()) {
            line(b, "temporary", String.join(", ", r.temporaryFiles()));
        }
        line(b, "quarantine", r.quarantines().isEmpty() ? "none" : String.join(", ", r.quarantines()) + " (damaged files moved aside by an earlier open)");
        if (r.corruptionMarker() != null) {
            line(b, "CORRUPT", "marked damaged by a running engine; the next open starts empty: " + r.corruptionMarker());
        }
        return b.toString();
    }

    private static void commit(StringBuilder b, KafkaCommit c) {
        if (!c.present()) {
            line(b, "offsets", "none (never committed with metadata)");
            return;
        }
        if (c.problem() != null) {
            line(b, "metadata", c.bytes() + " bytes, " + c.problem());
            return;
        }
        line(b, "offsets", c.offsets().isEmpty() ? "none" : join(c.offsets()));
        line(b, "position", c.position().isEmpty() ? "empty" : join(c.position()));
    }

    private static String join(List<KafkaCommit.Offset> offsets) {
        List<String> parts = new ArrayList<>();
        for (KafkaCommit.Offset o : offsets) {
            parts.add(o.topic() + "-" + o.partition() + "=" + o.offset());
        }
        return String.join(", ", parts);
    }

    private static void line(StringBuilder b, String label, String text) {
        b.append(String.format(Locale.ROOT, "  %-11s %s%n", label, text));
    }

    private static void table(StringBuilder b, List<String[]> rows) {
        int[] width = new int[rows.get(0).length];
        for (String[] row : rows) {
            for (int i = 0; i < row.length; i++) {
                width[i] = Math.max(width[i], row[i].length());
            }
        }
        for (String[] row : rows) {
            StringBuilder l = new StringBuilder("    ");
            for (int i = 0; i < row.length; i++) {
                l.append(row[i]);
                if (i < row.length - 1) {
                    l.append(" ".repeat(width[i] - row[i].length() + 2));
                }
            }
            b.append(l.toString().stripTrailing()).append('\n');
        }
    }

    /** Bytes as "12.3 MiB"; below 1 KiB as "123 B". */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(Locale.ROOT, "%.1f %s", v, units[u]);
    }
}
