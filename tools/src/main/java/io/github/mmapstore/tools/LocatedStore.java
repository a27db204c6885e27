package io.github.mmapstore.tools;

import java.nio.file.Path;

/**
 * A store directory found below the directory the user named.
 *
 * @param label the path relative to that directory ("." when it is the store itself)
 * @param app   the Kafka Streams application id, when the path has Kafka's layout
 *              ({@code <state.dir>/<app>/<task>/mmapstore/<store>}), else null
 * @param task  the task id, likewise
 * @param name  the store name (the directory's name)
 */
record LocatedStore(Path dir, String label, String app, String task, String name) {
}
