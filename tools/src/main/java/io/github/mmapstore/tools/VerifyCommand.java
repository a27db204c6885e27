package io.github.mmapstore.tools;

import io.github.mmapstore.engine.StoreVerifier;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mmapstore verify DIR}: reads every byte of every store below DIR and checks every checksum. */
@Command(name = "verify", mixinStandardHelpOptions = true,
        description = {
            "Reads every byte of every store below DIR: the manifest, every segment page, checksum table,",
            "footer and trailer (plus key order, prefix index and bloom filter), every log frame, and the",
            "manifest's references. Lists each damaged file with its byte offset.",
            "A torn log tail after the last commit is reported as 'torn tail (recoverable)', not damage.",
            "Exit 0 when no store is damaged, 1 when one is."})
final class VerifyCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "DIR", description = "store, task, application or state directory")
    Path dir;

    @Option(names = "--quiet", description = "print damage only (and the summary line)")
    boolean quiet;

    @Override
    public Integer call() {
        List<LocatedStore> stores = StoreArguments.locate(spec, dir);
        PrintWriter out = spec.commandLine().getOut();
        out.println(StoreArguments.found(dir, stores));
        int damaged = 0;
        for (LocatedStore store : stores) {
            StoreVerifier.Report r = StoreVerifier.verify(store.dir());
            boolean bad = r.damaged();
            if (bad) {
                damaged++;
            }
            out.printf("%s  %s  (%d segment files, %d log files, %s read)%n", bad ? "DAMAGED" : "ok     ", store.label(),
                    r.segmentFiles(), r.logFiles(), ReportText.size(r.bytesRead()));
            for (StoreVerifier.Finding f : r.findings()) {
                if (quiet && f.severity() != StoreVerifier.Severity.DAMAGE) {
                    continue;
                }
                out.printf("  %-11s %s at byte offset %d: %s%n", label(f.severity()), f.file(), f.offset(), f.what());
            }
        }
        out.printf("%d of %d stores damaged%n", damaged, stores.size());
        out.flush();
        return damaged > 0 ? MmapStoreCli.EXIT_DAMAGED : 0;
    }

    private static String label(StoreVerifier.Severity s) {
        return switch (s) {
            case DAMAGE -> "DAMAGE";
            case RECOVERABLE -> "recoverable";
            case NOTE -> "note";
        };
    }
}
