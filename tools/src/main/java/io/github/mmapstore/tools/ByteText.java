package io.github.mmapstore.tools;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;

/** Keys and values as text: UTF-8 where that reads back exactly, else hex; and keys parsed from arguments. */
final class ByteText {
    static final String HEX_PREFIX = "hex:";
    private static final HexFormat HEX = HexFormat.of();

    /** How {@code dump} shows bytes. */
    enum Format {
        /** UTF-8 when the bytes are valid UTF-8 without control characters, else {@code hex:...}. */
        AUTO,
        /** UTF-8, with invalid sequences replaced. */
        UTF8,
        /** Lower-case hex, no prefix. */
        HEX
    }

    private ByteText() {
    }

    static String format(byte[] bytes, Format format) {
        return switch (format) {
            case HEX -> HEX.formatHex(bytes);
            case UTF8 -> new String(bytes, StandardCharsets.UTF_8);
            case AUTO -> {
                String text = printableUtf8(bytes);
                yield text != null ? text : HEX_PREFIX + HEX.formatHex(bytes);
            }
        };
    }

    /** {@link Format#AUTO}, cut to {@code max} characters with an ellipsis (tables). */
    static String abbreviate(byte[] bytes, int max) {
        String s = format(bytes, Format.AUTO);
        return s.length() <= max ? s : s.substring(0, Math.max(0, max - 1)) + "…";
    }

    /**
     * The bytes as text when they are strict UTF-8 without control characters and cannot be mistaken
     * for the hex form; else null.
     */
    static String printableUtf8(byte[] bytes) {
        String s;
        try {
            s = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes))
                    .toString();
        } catch (CharacterCodingException e) {
            return null;
        }
        if (s.startsWith(HEX_PREFIX)) {
            return null;
        }
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
                return null;
            }
        }
        return s;
    }

    /** A key given on the command line: {@code hex:0a1b...} or UTF-8 text. */
    static byte[] parseKey(String arg) {
        if (arg.startsWith(HEX_PREFIX)) {
            String hex = arg.substring(HEX_PREFIX.length());
            try {
                return HEX.parseHex(hex);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("'" + arg + "' is not valid hex after '" + HEX_PREFIX
                        + "' (an even number of digits 0-9, a-f)", e);
            }
        }
        return arg.getBytes(StandardCharsets.UTF_8);
    }
}
