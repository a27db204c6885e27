package io.github.mmapstore.examples;

import java.time.Duration;
import java.time.Instant;
import java.util.Properties;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.TopologyConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;

/**
 * An ordinary DSL application with no word of MmapStore in it: orders (customer id to amount in cents)
 * and a table of customers (id to region), and three results:
 * <ul>
 *   <li>{@value #COUNTS}: orders per customer, a {@code count()};</li>
 *   <li>{@value #HOURLY}: spend per customer per hour, a windowed {@code reduce()} over tumbling one-hour windows;</li>
 *   <li>{@value #REGIONS}: revenue per region, a stream-table join of the orders with the customers,
 *       re-keyed by region and summed.</li>
 * </ul>
 * The stores are named but not chosen: the {@code dsl.store.suppliers.class} of the configuration decides
 * (RocksDB by default). That configuration has to reach the {@link StreamsBuilder} through its
 * {@link TopologyConfig}, as here.
 */
final class OrdersTopology {
    static final String COUNTS = "orders-per-customer";
    static final String HOURLY = "spend-per-customer-hour";
    static final String REGIONS = "revenue-per-region";
    static final String CUSTOMERS = "customers";
    static final Duration WINDOW = Duration.ofHours(1);

    private OrdersTopology() {
    }

    /** Output topic of {@code result} for the application run {@code run}. */
    static String outputTopic(String run, String result) {
        return run + "-" + result;
    }

    /** The key of an hourly total in the output: customer and window start. */
    static String hourKey(String customer, long windowStart) {
        return customer + "@" + Instant.ofEpochMilli(windowStart);
    }

    static Topology build(String ordersTopic, String customersTopic, String run, Properties config) {
        StreamsBuilder b = new StreamsBuilder(new TopologyConfig(new StreamsConfig(config)));
        KStream<String, Long> orders = b.stream(ordersTopic, Consumed.with(Serdes.String(), Serdes.Long()));
        KTable<String, String> customers = b.table(customersTopic, Consumed.with(Serdes.String(), Serdes.String()),
                Materialized.as(CUSTOMERS));

        orders.groupByKey()
                .count(Materialized.as(COUNTS))
                .toStream()
                .to(outputTopic(run, COUNTS), Produced.with(Serdes.String(), Serdes.Long()));

        orders.groupByKey()
                .windowedBy(TimeWindows.ofSizeWithNoGrace(WINDOW))
                .reduce(Long::sum, Materialized.as(HOURLY))
                .toStream()
                .map((w, sum) -> KeyValue.pair(hourKey(w.key(), w.window().start()), sum))
                .to(outputTopic(run, HOURLY), Produced.with(Serdes.String(), Serdes.Long()));

        orders.join(customers, (amount, region) -> KeyValue.pair(region, amount))
                .map((customer, regionAmount) -> regionAmount)
                .groupByKey(Grouped.with("by-region", Serdes.String(), Serdes.Long()))
                .reduce(Long::sum, Materialized.as(REGIONS))
                .toStream()
                .to(outputTopic(run, REGIONS), Produced.with(Serdes.String(), Serdes.Long()));
        return b.build(config);
    }
}
