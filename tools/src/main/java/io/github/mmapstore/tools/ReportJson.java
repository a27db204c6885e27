package io.github.mmapstore.tools;

import java.util.HexFormat;

/** The {@code --json} form of {@code inspect}: exact figures, keys as hex and (where printable) UTF-8. */
final class ReportJson {
    private ReportJson() {
    }

    static void write(Json j, StoreReport r) {
        LocatedStore s = r.store();
        j.beginObject();
        j.field("path", s.dir().toString()).field("label", s.label()).field("app", s.app()).field("task", s.task())
                .field("store", s.name());
        j.key("formatVersions").beginObject().field("manifest", r.formatVersions().manifest())
                .field("segment", r.formatVersions().segment()).field("log", r.formatVersions().log()).endObject();
        StoreReport.ManifestInfo m = r.manifest();
        j.key("manifest").beginObject().field("bytes", m.bytes()).field("generation", m.nextFileNumber())
                .field("seq", m.seq()).field("committedSeq", m.committedSeq()).field("logStart", m.logStart())
                .field("commitInLog", m.commitInLog()).endObject();
        commit(j, r.commit());
        j.key("kind").string(r.embedding() != null ? "embedding" : r.partitioned() ? "time-partitioned" : "key-value");
        if (r.embedding() != null) {
            j.key("embedding").beginObject().field("dimension", r.embedding().dimension())
                    .field("valuePrefixBytes", r.embedding().prefix()).endObject();
        }
        j.key("segments").beginArray();
        for (StoreReport.SegmentRow seg : r.segments()) {
            j.beginObject().field("file", seg.file()).field("number", seg.number()).field("bytes", seg.bytes())
                    .field("rows", seg.rows()).field("tombstones", seg.tombstones()).field("liveRows", seg.liveRows())
                    .field("liveBytes", seg.liveBytes());
            key(j, "firstKey", seg.firstKey());
            key(j, "lastKey", seg.lastKey());
            j.key("timeSegment");
            if (seg.timeSegment() == null) {
                j.nullValue();
            } else {
                j.number(seg.timeSegment());
            }
            j.key("extraColumns").beginArray();
            for (StoreReport.Column c : seg.extraColumns()) {
                j.beginObject().field("id", c.id()).field("name", c.name()).field("bytes", c.bytes()).endObject();
            }
            j.endArray().field("dropped", seg.dropped()).endObject();
        }
        j.endArray();
        j.key("logs").beginArray();
        for (StoreReport.LogRow log : r.logs()) {
            j.beginObject().field("file", log.file()).field("number", log.number()).field("bytes", log.bytes())
                    .field("records", log.records()).field("puts", log.puts()).field("deletes", log.deletes())
                    .field("commits", log.commits()).field("partitionDrops", log.partitionDrops())
                    .field("uncommittedBytes", log.uncommittedBytes()).field("tornTail", log.tornTail()).endObject();
        }
        j.endArray();
        j.key("logTail").beginObject().field("keys", r.logTailKeys()).field("liveRows", r.logTailLiveRows())
                .field("liveBytes", r.logTailLiveBytes()).endObject();
        j.key("totals").beginObject().field("rows", r.rows()).field("liveRows", r.liveRows()).field("liveBytes", r.liveBytes())
                .field("diskBytes", r.diskBytes()).field("otherBytes", r.otherBytes());
        j.key("spaceAmplification");
        if (r.liveBytes() == 0) {
            j.nullValue();
        } else {
            j.number(r.spaceAmplification());
        }
        j.endObject();
        strings(j, "obsoleteLogs", r.obsoleteLogs());
        strings(j, "unreferencedSegments", r.unreferencedSegments());
        strings(j, "temporaryFiles", r.temporaryFiles());
        strings(j, "quarantines", r.quarantines());
        j.field("corruptionMarker", r.corruptionMarker());
        j.endObject();
    }

    private static void commit(Json j, KafkaCommit c) {
        j.key("commitMetadata").beginObject().field("present", c.present()).field("bytes", c.bytes()).field("problem", c.problem());
        offsets(j, "offsets", c.offsets());
        offsets(j, "position", c.position());
        j.endObject();
    }

    private static void offsets(Json j, String name, java.util.List<KafkaCommit.Offset> list) {
        j.key(name).beginArray();
        for (KafkaCommit.Offset o : list) {
            j.beginObject().field("topic", o.topic()).field("partition", o.partition()).field("offset", o.offset()).endObject();
        }
        j.endArray();
    }

    private static void key(Json j, String name, byte[] key) {
        j.key(name).beginObject().field("hex", HexFormat.of().formatHex(key)).field("utf8", ByteText.printableUtf8(key)).endObject();
    }

    private static void strings(Json j, String name, java.util.List<String> list) {
        j.key(name).beginArray();
        for (String s : list) {
            j.string(s);
        }
        j.endArray();
    }
}
