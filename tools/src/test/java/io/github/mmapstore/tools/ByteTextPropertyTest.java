package io.github.mmapstore.tools;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;

/** What {@code dump} prints for a key can be given back as {@code --from}/{@code --to} and means the same bytes. */
class ByteTextPropertyTest {
    @Property(tries = 500)
    void autoFormatReadsBackAsTheSameKey(@ForAll byte[] key) {
        String shown = ByteText.format(key, ByteText.Format.AUTO);
        assertThat(ByteText.parseKey(shown)).isEqualTo(key);
        assertThat(shown).doesNotContain("\t", "\n", "\r");
    }

    @Property(tries = 200)
    void printableTextIsShownAsItself(@ForAll String text) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        String shown = ByteText.format(bytes, ByteText.Format.AUTO);
        boolean plain = !text.startsWith(ByteText.HEX_PREFIX) && text.chars().noneMatch(Character::isISOControl)
                && text.indexOf('\u2028') < 0 && text.indexOf('\u2029') < 0 && new String(bytes, StandardCharsets.UTF_8).equals(text);
        assertThat(shown).isEqualTo(plain ? text : ByteText.HEX_PREFIX + java.util.HexFormat.of().formatHex(bytes));
    }

    @Property(tries = 200)
    void hexFormatReadsBackWithThePrefix(@ForAll byte[] key) {
        assertThat(ByteText.parseKey(ByteText.HEX_PREFIX + ByteText.format(key, ByteText.Format.HEX))).isEqualTo(key);
    }
}
