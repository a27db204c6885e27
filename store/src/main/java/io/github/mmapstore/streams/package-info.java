/**
 * The Kafka Streams adapters: stores, suppliers, restore callbacks, Interactive Queries, metrics. The
 * entry points are {@link io.github.mmapstore.streams.MmapStores} and
 * {@code io.github.mmapstore.streams.MmapDslStoreSuppliers}.
 */
package io.github.mmapstore.streams;
