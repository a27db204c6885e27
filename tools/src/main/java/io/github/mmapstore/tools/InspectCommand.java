package io.github.mmapstore.tools;

import io.github.mmapstore.engine.EngineException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mmapstore inspect DIR [--json]}: the figures of every store below DIR. */
@Command(name = "inspect", mixinStandardHelpOptions = true,
        description = {
            "Per store: format version, manifest generation, segments (rows, live rows, bytes, key range,",
            "time partition, extra columns), logs (bytes, records, uncommitted bytes), totals and space",
            "amplification, committed changelog offsets and position, quarantine folders.",
            "Reads the committed state (manifest + log up to the last commit) and every live row once."})
final class InspectCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "store, task, application or state directory")
    Path dir;

    @Option(names = "--json", description = "machine-readable output")
    boolean json;

    @Override
    public Integer call() {
        List<LocatedStore> stores = StoreArguments.locate(spec, dir);
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        int exit = 0;
        Json j = new Json();
        if (json) {
            j.beginObject().field("dir", dir.toAbsolutePath().normalize().toString()).key("stores").beginArray();
        } else {
            out.println(StoreArguments.found(dir, stores));
        }
        for (LocatedStore store : stores) {
            StoreReport report;
            try {
                report = StoreInspector.inspect(store);
            } catch (EngineException e) {
                exit = MmapStoreCli.EXIT_DAMAGED;
                String why = "cannot read store " + store.label() + ": " + e.getMessage()
                        + " (run `mmapstore verify` for every damaged file and offset)";
                if (json) {
                    j.beginObject().field("path", store.dir().toString()).field("label", store.label())
                            .field("error", e.getMessage()).endObject();
                } else {
                    out.println();
                    out.println("store " + store.label());
                }
                err.println(why);
                continue;
            }
            if (json) {
                ReportJson.write(j, report);
            } else {
                out.println();
                out.print(ReportText.render(report));
            }
        }
        if (json) {
            j.endArray().endObject();
            out.println(j);
        }
        out.flush();
        err.flush();
        return exit;
    }
}
