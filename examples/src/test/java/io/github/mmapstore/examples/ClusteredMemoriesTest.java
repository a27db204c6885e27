package io.github.mmapstore.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Comparator;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ClusteredMemoriesTest {
    private final ClusteredMemories data = ClusteredMemories.generate(500, 20, 5, 16, 1.0, 3);

    @Test
    void bruteForceEqualsSortingEveryCosine() {
        for (int q = 0; q < 20; q++) {
            float[] query = data.queries[q];
            List<Integer> sorted = IntStream.range(0, 500).boxed()
                    .sorted(Comparator.comparingDouble((Integer m) -> -data.cosine(query, m)).thenComparing(m -> m))
                    .limit(7).toList();
            assertThat(data.bruteForce(query, 7).stream().map(ClusteredMemories.Scored::memory).toList()).isEqualTo(sorted);
        }
    }

    @Test
    void isDeterministicAndLabelled() {
        ClusteredMemories again = ClusteredMemories.generate(500, 20, 5, 16, 1.0, 3);
        assertThat(again.memories).isDeepEqualTo(data.memories);
        assertThat(again.memoryCluster).containsExactly(data.memoryCluster);
        assertThat(IntStream.of(data.memoryCluster).allMatch(c -> c >= 0 && c < 5)).isTrue();
        assertThat(ClusteredMemories.memoryIndex(ClusteredMemories.memoryKey(123))).isEqualTo(123);
    }
}
