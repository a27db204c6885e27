/**
 * The Kafka Streams adapters: stores, suppliers, restore callbacks, Interactive Queries, metrics. The
 * entry points are {@link io.github.mmapstore.streams.MmapStores} and
 * {@code io.github.mmapstore.streams.MmapDslStoreSuppliers}.
 *
 * <p>This package holds what applications type: the factories, the configuration keys, compaction from
 * a punctuation, embeddings, their search and similarity joins. The machinery behind it lives in
 * {@link io.github.mmapstore.streams.internals}, which is not API.
 */
package io.github.mmapstore.streams;
