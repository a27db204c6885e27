package io.github.mmapstore.examples.shared;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import org.junit.jupiter.api.Test;

class ArgsTest {
    private static final Set<String> KNOWN = Set.of("memories", "bootstrap-servers", "spread");

    @Test
    void readsBothFormsAndSeparators() {
        Args a = Args.parse(new String[] {"--memories", "20_000", "--bootstrap-servers=host:9092", " "}, KNOWN);
        assertThat(a.integer("memories", 1, 1)).isEqualTo(20_000);
        assertThat(a.string("bootstrap-servers", null)).isEqualTo("host:9092");
        assertThat(a.decimal("spread", 1.5, 0)).isEqualTo(1.5);
        assertThat(a.help()).isFalse();
    }

    @Test
    void refusesWhatItCannotUse() {
        assertThatThrownBy(() -> Args.parse(new String[] {"--memorys", "1"}, KNOWN)).hasMessageContaining("unknown option --memorys");
        assertThatThrownBy(() -> Args.parse(new String[] {"--memories"}, KNOWN)).hasMessageContaining("needs a value");
        assertThatThrownBy(() -> Args.parse(new String[] {"memories"}, KNOWN)).hasMessageContaining("unexpected argument");
        assertThatThrownBy(() -> Args.parse(new String[] {"--memories", "1", "--memories", "2"}, KNOWN)).hasMessageContaining("twice");
        assertThatThrownBy(() -> Args.parse(new String[] {"--memories", "lots"}, KNOWN).integer("memories", 1, 1))
                .hasMessageContaining("whole number");
        assertThatThrownBy(() -> Args.parse(new String[] {"--memories", "0"}, KNOWN).integer("memories", 1, 1))
                .hasMessageContaining("between 1");
        assertThatThrownBy(() -> Args.parse(new String[] {"--spread", "NaN"}, KNOWN).decimal("spread", 1, 0))
                .hasMessageContaining("finite number above 0");
    }

    @Test
    void helpWins() {
        assertThat(Args.parse(new String[] {"--memories", "1", "--help"}, KNOWN).help()).isTrue();
    }
}
