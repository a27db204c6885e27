package io.github.mmapstore.tools;

import java.nio.file.Path;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;

/** Turns the DIR argument into the stores below it, or a usage error saying why there are none. */
final class StoreArguments {
    private StoreArguments() {
    }

    static List<LocatedStore> locate(CommandSpec spec, Path dir) {
        try {
            return StoreLocator.find(dir);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    /** One line naming what was found, for the top of the output. */
    static String found(Path dir, List<LocatedStore> stores) {
        return "found " + stores.size() + (stores.size() == 1 ? " store" : " stores") + " in " + dir.toAbsolutePath().normalize();
    }
}
