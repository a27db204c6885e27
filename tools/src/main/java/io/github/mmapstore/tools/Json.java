package io.github.mmapstore.tools;

/**
 * A small streaming JSON writer for {@code --json} output (two-space indentation, keys in the order
 * written). Callers write balanced objects and arrays; commas and indentation are handled here.
 */
final class Json {
    private final StringBuilder out = new StringBuilder();
    private int depth;
    /** Whether the current container already holds a member (a comma goes before the next). */
    private boolean[] hasMember = new boolean[16];
    private boolean afterKey;

    Json beginObject() {
        value("{");
        push();
        return this;
    }

    Json endObject() {
        return pop('}');
    }

    Json beginArray() {
        value("[");
        push();
        return this;
    }

    Json endArray() {
        return pop(']');
    }

    Json key(String name) {
        separate();
        quote(name);
        out.append(": ");
        afterKey = true;
        return this;
    }

    Json string(String s) {
        if (s == null) {
            return nullValue();
        }
        separateValue();
        quote(s);
        return this;
    }

    Json number(long n) {
        return value(Long.toString(n));
    }

    Json number(double d) {
        if (Double.isNaN(d) || Double.isInfinite(d)) {
            return nullValue();
        }
        return value(Double.toString(d));
    }

    Json bool(boolean b) {
        return value(Boolean.toString(b));
    }

    Json nullValue() {
        return value("null");
    }

    Json field(String name, String s) {
        return key(name).string(s);
    }

    Json field(String name, long n) {
        return key(name).number(n);
    }

    Json field(String name, boolean b) {
        return key(name).bool(b);
    }

    @Override
    public String toString() {
        return out.toString();
    }

    private Json value(String literal) {
        separateValue();
        out.append(literal);
        return this;
    }

    private void separateValue() {
        if (afterKey) {
            afterKey = false;
        } else if (depth > 0) {
            separate();
        }
    }

    private void separate() {
        if (hasMember[depth]) {
            out.append(',');
        }
        hasMember[depth] = true;
        newline();
    }

    private void push() {
        depth++;
        if (depth == hasMember.length) {
            hasMember = java.util.Arrays.copyOf(hasMember, depth * 2);
        }
        hasMember[depth] = false;
    }

    private Json pop(char close) {
        boolean had = hasMember[depth];
        depth--;
        if (had) {
            newline();
        }
        out.append(close);
        return this;
    }

    private void newline() {
        out.append('\n');
        out.append("  ".repeat(depth));
    }

    private void quote(String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                case '\n' -> out.append("\\n");
                case '\r' -> out.append("\\r");
                case '\t' -> out.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029') {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        out.append('"');
    }
}
