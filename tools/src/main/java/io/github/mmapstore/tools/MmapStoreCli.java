package io.github.mmapstore.tools;

import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code mmapstore}: inspects, verifies and dumps MmapStore store directories without changing them.
 *
 * <p>Exit codes: 0 success (verify: no damage), 1 damage found or a store could not be read,
 * 2 usage error (bad arguments, DIR missing or holding no store), 3 an unexpected failure.
 */
@Command(name = "mmapstore",
        mixinStandardHelpOptions = true,
        versionProvider = MmapStoreCli.Version.class,
        description = {
            "Reads MmapStore store directories without changing them (no lock, no recovery, no truncation).",
            "DIR may be one store directory, a task directory, an application's state directory or a whole",
            "state.dir: every store below it is reported."},
        subcommands = {InspectCommand.class, VerifyCommand.class, DumpCommand.class, CommandLine.HelpCommand.class},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {
            "0:success (verify: no damage)",
            "1:damage found, or a store could not be read",
            "2:usage error (bad arguments, DIR missing or holding no store)",
            "3:unexpected failure"})
public final class MmapStoreCli implements Runnable {
    static final int EXIT_DAMAGED = 1;
    static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;
    static final int EXIT_FAILURE = 3;

    @Spec
    CommandSpec spec;

    public static void main(String[] args) {
        System.exit(commandLine().execute(args));
    }

    /** The command line with the tool's error handling; tests set its output writers. */
    static CommandLine commandLine() {
        CommandLine cmd = new CommandLine(new MmapStoreCli());
        cmd.setExecutionExceptionHandler((ex, line, parseResult) -> {
            PrintWriter err = line.getErr();
            if (ex instanceof CommandLine.ParameterException pe) {
                throw pe;
            }
            err.println("mmapstore: " + ex);
            ex.printStackTrace(err);
            err.flush();
            return EXIT_FAILURE;
        });
        return cmd;
    }

    @Override
    public void run() {
        throw new CommandLine.ParameterException(spec.commandLine(), "name a command: inspect, verify or dump");
    }

    /** The version of the tool's jar, as Maven recorded it. */
    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = MmapStoreCli.class.getPackage().getImplementationVersion();
            return new String[] {"mmapstore " + (v == null ? "(development build)" : v)
                    + ", reads manifest/segment/log format v" + io.github.mmapstore.engine.StoreSnapshot.MANIFEST_FORMAT_VERSION};
        }
    }
}
