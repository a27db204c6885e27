package io.github.mmapstore.examples.shared;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;

/**
 * Command-line options of the form {@code --name value} or {@code --name=value}. Unknown options, missing
 * values and malformed numbers are refused with an {@link IllegalArgumentException} naming the option.
 */
public final class Args {
    private final Map<String, String> values;
    private final boolean help;

    private Args(Map<String, String> values, boolean help) {
        this.values = values;
        this.help = help;
    }

    /** Parses {@code args}, accepting only the options named in {@code known} (without the dashes). */
    public static Args parse(String[] args, Set<String> known) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.isBlank()) {
                continue; // an empty -Dexample.args expands to one blank argument
            }
            if (a.equals("--help") || a.equals("-h")) {
                return new Args(Map.of(), true);
            }
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "' (options start with --)");
            }
            String key = a.substring(2);
            String value;
            int eq = key.indexOf('=');
            if (eq >= 0) {
                value = key.substring(eq + 1);
                key = key.substring(0, eq);
            } else if (i + 1 < args.length) {
                value = args[++i];
            } else {
                throw new IllegalArgumentException("option --" + key + " needs a value");
            }
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown option --" + key + " (known: --" + String.join(", --", known.stream().sorted().toList()) + ")");
            }
            if (m.put(key, value) != null) {
                throw new IllegalArgumentException("option --" + key + " given twice");
            }
        }
        return new Args(m, false);
    }

    /** True when {@code --help} was given. */
    public boolean help() {
        return help;
    }

    public String string(String key, String def) {
        return values.getOrDefault(key, def);
    }

    /** An absolute path, or null when the option is absent. */
    public Path path(String key) {
        String v = values.get(key);
        return v == null ? null : Paths.get(v).toAbsolutePath();
    }

    /** A whole number of at least {@code min} (underscores and commas allowed as separators). */
    public int integer(String key, int def, int min) {
        long n = number(key, def);
        if (n < min || n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("--" + key + " must be between " + min + " and " + Integer.MAX_VALUE + ", was " + n);
        }
        return (int) n;
    }

    public long longValue(String key, long def) {
        return number(key, def);
    }

    /** A finite decimal number strictly greater than {@code above}. */
    public double decimal(String key, double def, double above) {
        String v = values.get(key);
        if (v == null) {
            return def;
        }
        double d;
        try {
            d = Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be a number, was '" + v + "'");
        }
        if (!Double.isFinite(d) || d <= above) {
            throw new IllegalArgumentException("--" + key + " must be a finite number above " + above + ", was " + v);
        }
        return d;
    }

    private long number(String key, long def) {
        String v = values.get(key);
        if (v == null) {
            return def;
        }
        try {
            return Long.parseLong(v.replace("_", "").replace(",", ""));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + key + " must be a whole number, was '" + v + "'");
        }
    }
}
