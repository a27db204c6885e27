package io.github.mmapstore.streams;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsMetadata;
import org.apache.kafka.streams.query.FailureReason;
import org.apache.kafka.streams.query.QueryResult;
import org.apache.kafka.streams.query.StateQueryRequest;
import org.apache.kafka.streams.query.StateQueryResult;
import org.apache.kafka.streams.state.HostInfo;
import org.junit.jupiter.api.Test;
import org.mockito.ArgumentCaptor;

/** The fan-out merges local partitions (active only) and every other active instance, and fails loudly. */
class KnnFanOutTest {
    static final HostInfo SELF = new HostInfo("a", 1);
    static final HostInfo B = new HostInfo("b", 2);
    static final HostInfo C = new HostInfo("c", 3);
    static final HostInfo STANDBY_ONLY = new HostInfo("d", 4);

    static KnnResult result(String... keyScore) {
        List<KnnResult.Match> m = new ArrayList<>();
        for (String ks : keyScore) {
            String[] p = ks.split("=");
            m.add(new KnnResult.Match(Bytes.wrap(p[0].getBytes()), Float.parseFloat(p[1]), null));
        }
        return new KnnResult(Similarity.DOT_PRODUCT, m);
    }

    static StreamsMetadata md(HostInfo h, boolean active) {
        StreamsMetadata md = mock(StreamsMetadata.class);
        when(md.hostInfo()).thenReturn(h);
        when(md.stateStoreNames()).thenReturn(active ? Set.of("docs") : Set.of());
        when(md.standbyStateStoreNames()).thenReturn(active ? Set.of() : Set.of("docs"));
        return md;
    }

    @SuppressWarnings("unchecked")
    private static KafkaStreams streams() {
        KafkaStreams streams = mock(KafkaStreams.class);
        StateQueryResult<KnnResult> local = new StateQueryResult<>();
        local.addResult(0, QueryResult.forResult(result("p0a=9", "p0b=1")));
        local.addResult(3, QueryResult.forResult(result("p3a=5")));
        local.addResult(4, QueryResult.forFailure(FailureReason.NOT_ACTIVE, "standby"));
        when(streams.query(any(StateQueryRequest.class))).thenReturn((StateQueryResult) local);
        List<StreamsMetadata> all = List.of(md(SELF, true), md(B, true), md(C, true), md(STANDBY_ONLY, false));
        when(streams.streamsMetadataForStore("docs")).thenReturn(all);
        return streams;
    }

    @Test
    @SuppressWarnings("unchecked")
    void mergesLocalActivePartitionsAndRemoteInstances() {
        KafkaStreams streams = streams();
        Map<HostInfo, String> asked = new ConcurrentHashMap<>();
        KnnFanOut fanOut = new KnnFanOut(streams, SELF, (host, store, q) -> {
            asked.put(host, store);
            return host.equals(B) ? result("b1=7", "b2=0.5") : result("c1=8", "c2=6");
        });
        KnnQuery q = KnnQuery.nearest(new float[] {1, 2}, 4);
        KnnResult r = fanOut.query("docs", q);
        assertThat(r.matches()).extracting(m -> new String(m.key().get())).containsExactly("p0a", "c1", "b1", "c2");
        assertThat(asked).containsOnlyKeys(B, C);
        ArgumentCaptor<StateQueryRequest<KnnResult>> req = ArgumentCaptor.forClass(StateQueryRequest.class);
        org.mockito.Mockito.verify(streams).query(req.capture());
        assertThat(req.getValue().isRequireActive()).isTrue();
        assertThat(req.getValue().getQuery()).isEqualTo(q);
        assertThat(req.getValue().getStoreName()).isEqualTo("docs");

        assertThat(fanOut.queryLocal("docs", q).matches()).extracting(m -> new String(m.key().get())).containsExactly("p0a", "p3a", "p0b");
        assertThat(KnnFanOut.localOnly(streams).query("docs", KnnQuery.nearest(new float[] {1, 2}, 1)).matches())
                .extracting(m -> new String(m.key().get())).containsExactly("p0a");
    }

    @Test
    void aFailingInstanceOrPartitionFailsTheQuery() {
        KafkaStreams streams = streams();
        KnnFanOut fanOut = new KnnFanOut(streams, SELF, (host, store, q) -> {
            if (host.equals(C)) {
                throw new RuntimeException("connection refused");
            }
            return result("b1=7");
        });
        assertThatThrownBy(() -> fanOut.query("docs", KnnQuery.nearest(new float[] {1, 2}, 2)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("c:3").hasMessageContaining("connection refused");

        KafkaStreams broken = mock(KafkaStreams.class);
        StateQueryResult<KnnResult> local = new StateQueryResult<>();
        local.addResult(1, QueryResult.forFailure(FailureReason.STORE_EXCEPTION, "bad KnnQuery: dimension"));
        when(broken.query(any())).thenReturn((StateQueryResult) local);
        when(broken.streamsMetadataForStore("docs")).thenReturn(Collections.emptyList());
        assertThatThrownBy(() -> KnnFanOut.localOnly(broken).query("docs", KnnQuery.nearest(new float[] {1}, 1)))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("partition 1").hasMessageContaining("dimension");
    }
}
