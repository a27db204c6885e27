package io.github.mmapstore.examples.shared;

import java.util.function.Function;
import java.util.function.ToIntFunction;

/**
 * What every example's {@code main} does around its run: parse the options (exit 2 with the usage on bad
 * ones, print the usage for {@code --help}), run under a {@link Watchdog}, and exit 0 when every check
 * passed, 1 when one failed or the run threw.
 */
public final class ExampleMain {
    private ExampleMain() {
    }

    /** One run of an example; true when all its checks passed. */
    @FunctionalInterface
    public interface Run<O> {
        boolean run(O options) throws Exception;
    }

    /**
     * @param parse returns the options, null for {@code --help}, or throws IllegalArgumentException
     */
    public static <O> void main(String name, String[] args, Function<String[], O> parse, String usage,
            ToIntFunction<O> timeoutSeconds, Run<O> run) {
        O opts;
        try {
            opts = parse.apply(args);
        } catch (IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            System.err.println(usage);
            System.exit(2);
            return;
        }
        if (opts == null) {
            System.out.println(usage);
            return;
        }
        int rc;
        try (Watchdog w = new Watchdog(name, timeoutSeconds.applyAsInt(opts))) {
            rc = run.run(opts) ? 0 : 1;
        } catch (Throwable t) {
            System.out.flush();
            System.err.println(name + " FAILED: " + t);
            t.printStackTrace();
            rc = 1;
        }
        System.out.flush();
        System.exit(rc);
    }
}
