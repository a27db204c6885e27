package io.github.mmapstore.tools;

import io.github.mmapstore.engine.EngineException;
import io.github.mmapstore.engine.KeyValue;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mmapstore dump DIR [--from KEY] [--to KEY]}: live keys and values in key order, for debugging. */
@Command(name = "dump", mixinStandardHelpOptions = true,
        description = {
            "Prints the live entries of every store below DIR in key order, one 'KEY<TAB>VALUE' line each, as",
            "a read of the committed store returns them (segments merged with the committed log tail; deleted",
            "and overwritten versions left out). With several stores, a '# store LABEL' line starts each.",
            "KEY arguments are UTF-8 text, or hex:0a1b... for arbitrary bytes."})
final class DumpCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "store, task, application or state directory")
    Path dir;

    @Option(names = "--from", paramLabel = "KEY", description = "first key (inclusive)")
    String from;

    @Option(names = "--to", paramLabel = "KEY", description = "last key (inclusive)")
    String to;

    @Option(names = "--format", paramLabel = "FORMAT", defaultValue = "auto",
            description = "auto (UTF-8 when printable, else hex:...), utf8 or hex; default ${DEFAULT-VALUE}")
    String format;

    @Option(names = "--limit", paramLabel = "N", description = "at most N entries per store")
    Long limit;

    @Override
    public Integer call() {
        ByteText.Format fmt = parseFormat();
        byte[] fromKey = key("--from", from);
        byte[] toKey = key("--to", to);
        if (limit != null && limit < 0) {
            throw new CommandLine.ParameterException(spec.commandLine(), "--limit must not be negative, got " + limit);
        }
        List<LocatedStore> stores = StoreArguments.locate(spec, dir);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int exit = 0;
        for (LocatedStore store : stores) {
            if (stores.size() > 1) {
                out.println("# store " + store.label());
            }
            try (StoreInspector.Opened o = StoreInspector.open(store)) {
                long n = 0;
                Iterator<KeyValue> it = o.snapshot().range(fromKey, toKey);
                while (it.hasNext() && (limit == null || n < limit)) {
                    KeyValue kv = it.next();
                    out.print(ByteText.format(kv.key(), fmt));
                    out.print('\t');
                    out.println(ByteText.format(kv.value(), fmt));
                    n++;
                }
            } catch (EngineException e) {
                exit = MmapStoreCli.EXIT_DAMAGED;
                err.println("cannot read store " + store.label() + ": " + e.getMessage()
                        + " (run `mmapstore verify` for every damaged file and offset)");
            }
        }
        out.flush();
        err.flush();
        return exit;
    }

    private ByteText.Format parseFormat() {
        return switch (format.toLowerCase(java.util.Locale.ROOT)) {
            case "auto" -> ByteText.Format.AUTO;
            case "utf8", "utf-8" -> ByteText.Format.UTF8;
            case "hex" -> ByteText.Format.HEX;
            default -> throw new CommandLine.ParameterException(spec.commandLine(),
                    "--format must be auto, utf8 or hex, got '" + format + "'");
        };
    }

    private byte[] key(String option, String arg) {
        if (arg == null) {
            return null;
        }
        try {
            return ByteText.parseKey(arg);
        } catch (IllegalArgumentException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), option + ": " + e.getMessage());
        }
    }
}
