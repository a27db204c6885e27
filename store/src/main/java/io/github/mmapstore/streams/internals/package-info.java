/**
 * The machinery behind {@link io.github.mmapstore.streams}: the key-value, window and session stores and
 * their suppliers, {@code StoreCore} (the engine's lifecycle in the task directory, store-managed offsets
 * and positions, restore, the translation of engine exceptions), the adapters to each Kafka line, exact
 * embedding search, compaction pacing, task maintenance, metrics and the commit metadata format.
 *
 * <p>Not API, as Kafka's {@code org.apache.kafka.streams.state.internals} is not: classes and members are
 * public only where {@code io.github.mmapstore.streams} or the tools need them, and may change in any
 * release.
 */
package io.github.mmapstore.streams.internals;
