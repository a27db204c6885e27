package io.github.mmapstore.examples;

import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * The rocksdb-swap example's input, derived from a seed, and the results it must produce, computed here
 * by plain loops: customers in regions, and orders whose timestamps ascend (a gap of up to two seconds
 * each, so no order is late for its window), starting a day before the run.
 */
final class OrdersData {
    static final List<String> REGIONS = List.of("north", "south", "east", "west", "centre", "islands", "coast", "mountains");

    final String[] customerRegion;
    final int[] orderCustomer;
    final long[] orderAmount;
    final long[] orderTimestamp;
    final long customersTimestamp;

    private OrdersData(int customers, int orders) {
        customerRegion = new String[customers];
        orderCustomer = new int[orders];
        orderAmount = new long[orders];
        orderTimestamp = new long[orders];
        long hour = OrdersTopology.WINDOW.toMillis();
        long start = (System.currentTimeMillis() / hour) * hour - 24 * hour;
        customersTimestamp = start - hour; // the table is older than every order: Streams joins in timestamp order
    }

    static OrdersData generate(int customers, int orders, long seed) {
        Random rnd = new Random(seed);
        OrdersData d = new OrdersData(customers, orders);
        for (int c = 0; c < customers; c++) {
            d.customerRegion[c] = REGIONS.get(rnd.nextInt(REGIONS.size()));
        }
        long t = d.customersTimestamp + OrdersTopology.WINDOW.toMillis();
        for (int o = 0; o < orders; o++) {
            double r = rnd.nextDouble();
            d.orderCustomer[o] = (int) (customers * r * r); // a few frequent customers, a long tail
            d.orderAmount[o] = 100 + rnd.nextInt(50_000);
            t += rnd.nextInt(2_000);
            d.orderTimestamp[o] = t;
        }
        return d;
    }

    static String customerId(int c) {
        return String.format(Locale.ROOT, "c-%06d", c);
    }

    /** The final value of every key of every result topic after the first {@code orders} orders, by result name. */
    Map<String, Map<String, Long>> expected(int orders) {
        Map<String, Long> counts = new HashMap<>();
        Map<String, Long> hourly = new HashMap<>();
        Map<String, Long> regions = new HashMap<>();
        long window = OrdersTopology.WINDOW.toMillis();
        for (int o = 0; o < orders; o++) {
            String c = customerId(orderCustomer[o]);
            counts.merge(c, 1L, Long::sum);
            hourly.merge(OrdersTopology.hourKey(c, orderTimestamp[o] - orderTimestamp[o] % window), orderAmount[o], Long::sum);
            regions.merge(customerRegion[orderCustomer[o]], orderAmount[o], Long::sum);
        }
        return Map.of(OrdersTopology.COUNTS, counts, OrdersTopology.HOURLY, hourly, OrdersTopology.REGIONS, regions);
    }
}
