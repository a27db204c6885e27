package io.github.mmapstore.streams.internals;

import org.apache.kafka.streams.state.TimestampedBytesStore;

/** A window store of timestamped values ({@code [8-byte timestamp][value]}), for the DSL's windowed tables. */
public class MmapTimestampedWindowStore extends MmapWindowStore implements TimestampedBytesStore {
    public MmapTimestampedWindowStore(MmapSegmentedBytesStore bytesStore, boolean retainDuplicates, long windowSize) {
        super(bytesStore, retainDuplicates, windowSize);
    }
}
