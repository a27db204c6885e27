package io.github.mmapstore.engine;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The writer's state of one store (after LevelDB's {@code VersionSet}): the segment lists, the memtable
 * being written out, the version readers see, the sequence numbers, the last commit, and the manifest as
 * last composed. The parts of the engine ({@link CommitPath}, {@link Compactor}) change it; every change
 * happens under the engine's monitor, and readers see it only through {@link #current}.
 *
 * <p>Segment lists are replaced, never changed in place, so a list handed out (to a version, to the
 * compaction policy's cache) stays what it was.
 */
final class VersionSet {
    final AtomicLong fileNumbers;
    /** Sequence number of the last write. */
    long seq;
    /** Sequence number of the last write readers see (a batch becomes visible at once). */
    volatile long visibleSeq;
    /** Sequence number and metadata of the last commit (durable with a log; a checkpoint candidate without). */
    long commitSeq;
    byte[] lastCommitMetadata;
    /** The manifest as last composed: on disk, or queued in {@link #manifests}. */
    Manifest manifest;
    final ManifestWriter manifests;
    /** Segments the manifest names, newest first. */
    List<Segment> committed;
    /**
     * Segments written since the manifest last changed and not named by it, newest first: memtables
     * spilled before a commit (and merges among them). Their {@link Segment#maxSeq()} never grows down the
     * list, so those at or before a commit are always a tail of it.
     */
    List<Segment> pending = new ArrayList<>();
    /**
     * Manifest segments of partitions dropped since the last manifest: out of every reader's view, but kept
     * on disk until a manifest without them is durable.
     */
    List<Segment> droppedCommitted = new ArrayList<>();
    /**
     * Pending segments of partitions dropped since the last commit: out of latest reads, in committed
     * reads until the commit; no manifest names them (their files go with their last reader).
     */
    List<Segment> droppedPending = new ArrayList<>();
    /** The memtable a flush is writing out; readers see it until its segments are installed. */
    Memtable frozen;
    private volatile Version current;

    VersionSet(long nextFileNumber, long seq, Manifest manifest, ManifestWriter manifests, List<Segment> committed,
               Memtable memtable, byte[] metadata) {
        this.fileNumbers = new AtomicLong(nextFileNumber);
        this.seq = seq;
        this.visibleSeq = seq;
        this.commitSeq = seq;
        this.lastCommitMetadata = metadata;
        this.manifest = manifest;
        this.manifests = manifests;
        this.committed = committed;
        this.current = new Version(memtable, null, committed, seq);
    }

    Version current() {
        return current;
    }

    /** Publishes a new version: {@code memtable} over the frozen one and every pending and committed segment. */
    void install(Memtable memtable) {
        Version old = current;
        current = new Version(memtable, frozen, all(), commitSeq);
        old.release();
    }

    /**
     * Publishes the last commit to committed readers (same memtables and segments, but dropped partitions'
     * files, which no reader needs once the drop is committed).
     */
    void publishCommit() {
        if (!droppedPending.isEmpty()) {
            droppedPending = new ArrayList<>();
        }
        install(current.memtable);
    }

    /**
     * Pending then committed segments: what readers search, newest first; then the files of partitions
     * dropped after the last commit (only committed reads see them; they hold keys no other file holds).
     */
    List<Segment> all() {
        List<Segment> all = new ArrayList<>(pending.size() + committed.size());
        all.addAll(pending);
        all.addAll(committed);
        for (Segment s : droppedPending) {
            if (s.droppedAt() > commitSeq) {
                all.add(s);
            }
        }
        for (Segment s : droppedCommitted) {
            if (s.droppedAt() > commitSeq) {
                all.add(s);
            }
        }
        return all;
    }

    /** Pending then committed segments, the store's own (the dropped partitions' files left out). */
    List<Segment> present() {
        List<Segment> all = new ArrayList<>(pending.size() + committed.size());
        all.addAll(pending);
        all.addAll(committed);
        return all;
    }

    /**
     * Makes {@code m} the manifest: the writer's view moves on now, the file is replaced in the background
     * (see {@link ManifestWriter}); {@code afterDurable} runs once it is on disk.
     */
    void replaceManifest(Manifest m, Runnable afterDurable) {
        manifest = m;
        manifests.submit(m, afterDurable);
    }

    /** The manifest naming {@code segments}, everything else as the current one has it. */
    Manifest withSegments(List<Segment> segments) {
        return new Manifest(fileNumbers.get(), manifest.lastSeq(), manifest.logStart(), manifest.commitEnd(),
                refs(segments), manifest.metadata());
    }

    static List<Manifest.SegmentRef> refs(List<Segment> segments) {
        List<Manifest.SegmentRef> out = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            out.add(new Manifest.SegmentRef(s.number(), s.fileSize(), s.rows()));
        }
        return out;
    }

    /**
     * What deletes {@code segments} once a manifest without them is durable: takes a reference to each now
     * (so no reader's release deletes a file a crash would still need), and marks them obsolete and gives
     * the references back when run. The file goes when the last reader is done.
     */
    static Runnable retireWhenDurable(List<Segment> segments) {
        if (segments.isEmpty()) {
            return null;
        }
        List<Segment> held = List.copyOf(segments);
        for (Segment s : held) {
            s.acquire();
        }
        return () -> {
            for (Segment s : held) {
                s.markObsolete();
                s.release();
            }
        };
    }

    /** Runs both (either may be null). */
    static Runnable both(Runnable a, Runnable b) {
        if (a == null) {
            return b;
        }
        if (b == null) {
            return a;
        }
        return () -> {
            a.run();
            b.run();
        };
    }
}
