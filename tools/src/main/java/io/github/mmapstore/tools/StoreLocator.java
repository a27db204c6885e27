package io.github.mmapstore.tools;

import io.github.mmapstore.engine.StoreSnapshot;
import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Finds every store below a directory: the directory itself when it is a store, else each directory
 * below it that holds a manifest or numbered log or segment files. Works on a store directory, a task
 * directory, an application's state directory or a whole {@code state.dir}. Does not look inside a store
 * (its {@code quarantine-*} folders hold damaged files, not stores) and does not follow symbolic links.
 */
final class StoreLocator {
    /** The folder Kafka stores of MmapStore live in, below a task directory. */
    static final String STORES_FOLDER = "mmapstore";

    private StoreLocator() {
    }

    /**
     * @throws IllegalArgumentException {@code root} does not exist, is not a directory, or holds no store
     */
    static List<LocatedStore> find(Path root) {
        if (!Files.exists(root)) {
            throw new IllegalArgumentException(root + " does not exist");
        }
        if (!Files.isDirectory(root)) {
            throw new IllegalArgumentException(root + " is not a directory (give a store, task or state directory)");
        }
        Path base = root.toAbsolutePath().normalize();
        List<Path> dirs = new ArrayList<>();
        try {
            Files.walkFileTree(base, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    Path name = dir.getFileName();
                    if (name != null && name.toString().startsWith("quarantine-") && !dir.equals(base)) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    if (StoreSnapshot.isStoreDirectory(dir)) {
                        dirs.add(dir);
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFileFailed(Path file, IOException exc) {
                    // An unreadable folder (permissions) holds no store we could read anyway.
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot walk " + root + ": " + e.getMessage(), e);
        }
        if (dirs.isEmpty()) {
            throw new IllegalArgumentException("no MmapStore store found in " + root
                    + " (looked for directories holding a MANIFEST or NNNNNNNNNNNN.log/.seg files,"
                    + " such as <state.dir>/<app>/<task>/mmapstore/<store>)");
        }
        dirs.sort(Comparator.naturalOrder());
        List<LocatedStore> out = new ArrayList<>();
        for (Path d : dirs) {
            out.add(describe(base, d));
        }
        return out;
    }

    private static LocatedStore describe(Path base, Path dir) {
        String label = base.equals(dir) ? "." : base.relativize(dir).toString();
        String name = dir.getFileName() == null ? dir.toString() : dir.getFileName().toString();
        Path parent = dir.getParent();
        String app = null;
        String task = null;
        if (parent != null && parent.getFileName() != null && parent.getFileName().toString().equals(STORES_FOLDER)) {
            Path taskDir = parent.getParent();
            if (taskDir != null && taskDir.getFileName() != null) {
                task = taskDir.getFileName().toString();
                Path appDir = taskDir.getParent();
                if (appDir != null && appDir.getFileName() != null) {
                    app = appDir.getFileName().toString();
                }
            }
        }
        return new LocatedStore(dir, label, app, task, name);
    }
}
