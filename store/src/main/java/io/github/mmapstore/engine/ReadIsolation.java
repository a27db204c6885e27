package io.github.mmapstore.engine;

/**
 * What a read sees: every write so far ({@link #LATEST}), or the state as of the last commit
 * ({@link #COMMITTED}), whatever the writer has done since. Both come from the same snapshot machinery
 * (sequence-numbered memtable versions, segments tagged with the last write they hold), so they cost
 * the same.
 */
public enum ReadIsolation {
    /** Every write made so far, committed or not: what Kafka's stores return by default. */
    LATEST,
    /** Only what the last commit made: writes after it are invisible until the next commit. */
    COMMITTED
}
