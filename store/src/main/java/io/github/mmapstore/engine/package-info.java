/** The storage engine: log, memtable, segments, manifest. Knows nothing of Kafka. */
package io.github.mmapstore.engine;
