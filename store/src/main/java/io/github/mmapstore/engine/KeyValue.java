package io.github.mmapstore.engine;

/** A key and its value as the engine returns them. The arrays may be shared with the engine: never modify them. */
public record KeyValue(byte[] key, byte[] value) {
}
