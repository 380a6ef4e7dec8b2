package streams.java;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.kstream.Branched;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.JoinWindows;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.SessionWindows;
import org.apache.kafka.streams.kstream.SlidingWindows;
import org.apache.kafka.streams.kstream.StreamJoined;
import org.apache.kafka.streams.kstream.Suppressed;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.kstream.ValueJoiner;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.SessionStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The topologies of the differential test (examples/tests/kafka_streams_oracle.rs), written as a
 * Kafka Streams user would. Every key and value is a string; windowed keys are written
 * {@code key@start/end}, numbers in decimal, so both sides' outputs compare as text. Each one
 * names its output topics and its stores, which the oracle dumps after each case.
 */
final class OracleTopologies {
    private OracleTopologies() {}

    enum StoreKind { KEY_VALUE, WINDOW, SESSION }

    record Spec(Topology topology, List<String> outputs, Map<String, StoreKind> stores) {}

    private static final Duration SECOND = Duration.ofSeconds(1);
    /** Window stores keep an hour, longer than any case's time span, so nothing expires. */
    private static final Duration RETENTION = Duration.ofHours(1);

    static Spec build(String name) {
        StreamsBuilder b = new StreamsBuilder();
        Consumed<String, String> strings = Consumed.with(Serdes.String(), Serdes.String());
        Produced<String, String> out = Produced.with(Serdes.String(), Serdes.String());
        switch (name) {
            case "tumbling" -> {
                b.stream("in", strings).groupByKey()
                    .windowedBy(TimeWindows.ofSizeAndGrace(SECOND.multipliedBy(10), SECOND.multipliedBy(5)))
                    .count(windowStore("counts"))
                    .toStream().map((w, n) -> KeyValue.pair(window(w), text(n))).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("counts", StoreKind.WINDOW));
            }
            case "hopping" -> {
                b.stream("in", strings).groupByKey()
                    .windowedBy(TimeWindows.ofSizeAndGrace(SECOND.multipliedBy(10), SECOND.multipliedBy(2))
                        .advanceBy(SECOND.multipliedBy(4)))
                    .count(windowStore("counts"))
                    .toStream().map((w, n) -> KeyValue.pair(window(w), text(n))).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("counts", StoreKind.WINDOW));
            }
            case "tumbling_final" -> {
                b.stream("in", strings).groupByKey()
                    .windowedBy(TimeWindows.ofSizeAndGrace(SECOND.multipliedBy(10), SECOND.multipliedBy(3)))
                    .count(windowStore("counts"))
                    .suppress(Suppressed.untilWindowCloses(Suppressed.BufferConfig.unbounded()))
                    .toStream().map((w, n) -> KeyValue.pair(window(w), text(n))).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("counts", StoreKind.WINDOW));
            }
            case "session" -> {
                b.stream("in", strings).groupByKey()
                    .windowedBy(SessionWindows.ofInactivityGapAndGrace(SECOND.multipliedBy(5), SECOND.multipliedBy(2)))
                    .aggregate(() -> "", (k, v, agg) -> agg + v, (k, a, c) -> a + c,
                        Materialized.<String, String, SessionStore<Bytes, byte[]>>as("sessions")
                            .withKeySerde(Serdes.String()).withValueSerde(Serdes.String()).withRetention(RETENTION))
                    .toStream().map((w, v) -> KeyValue.pair(window(w), v)).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("sessions", StoreKind.SESSION));
            }
            case "sliding" -> {
                b.stream("in", strings).groupByKey()
                    .windowedBy(SlidingWindows.ofTimeDifferenceAndGrace(SECOND.multipliedBy(10), SECOND.multipliedBy(2)))
                    .count(windowStore("counts"))
                    .toStream().map((w, n) -> KeyValue.pair(window(w), text(n))).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("counts", StoreKind.WINDOW));
            }
            case "inner_join", "left_join", "outer_join" -> {
                KStream<String, String> left = b.stream("left", strings);
                KStream<String, String> right = b.stream("right", strings);
                JoinWindows within = JoinWindows.ofTimeDifferenceAndGrace(SECOND.multipliedBy(5), SECOND.multipliedBy(2));
                StreamJoined<String, String, String> joined = StreamJoined.with(Serdes.String(), Serdes.String(), Serdes.String());
                ValueJoiner<String, String, String> joiner = OracleTopologies::pair;
                KStream<String, String> result = switch (name) {
                    case "inner_join" -> left.join(right, joiner, within, joined);
                    case "left_join" -> left.leftJoin(right, joiner, within, joined);
                    default -> left.outerJoin(right, joiner, within, joined);
                };
                result.to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of());
            }
            case "stream_table_inner", "stream_table_left" -> {
                KStream<String, String> orders = b.stream("orders", strings);
                KTable<String, String> users = b.table("users", strings, keyValueStore("users"));
                (name.equals("stream_table_inner")
                    ? orders.join(users, OracleTopologies::pair)
                    : orders.leftJoin(users, OracleTopologies::pair)).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("users", StoreKind.KEY_VALUE));
            }
            case "table_inner", "table_left", "table_outer" -> {
                KTable<String, String> left = b.table("left", strings, keyValueStore("left"));
                KTable<String, String> right = b.table("right", strings, keyValueStore("right"));
                Materialized<String, String, KeyValueStore<Bytes, byte[]>> joined = keyValueStore("joined");
                KTable<String, String> result = switch (name) {
                    case "table_inner" -> left.join(right, OracleTopologies::pair, joined);
                    case "table_left" -> left.leftJoin(right, OracleTopologies::pair, joined);
                    default -> left.outerJoin(right, OracleTopologies::pair, joined);
                };
                result.toStream().to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("joined", StoreKind.KEY_VALUE));
            }
            case "fk_inner", "fk_left" -> {
                // Orders are "product:quantity"; the foreign key is the product.
                KTable<String, String> orders = b.table("orders", strings, keyValueStore("orders"));
                KTable<String, String> products = b.table("products", strings, keyValueStore("products"));
                Materialized<String, String, KeyValueStore<Bytes, byte[]>> lines = keyValueStore("lines");
                KTable<String, String> result = name.equals("fk_inner")
                    ? orders.join(products, OracleTopologies::productOf, OracleTopologies::pair, lines)
                    : orders.leftJoin(products, OracleTopologies::productOf, OracleTopologies::pair, lines);
                result.toStream().to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("lines", StoreKind.KEY_VALUE));
            }
            case "table_aggregate" -> {
                // Users per region, from a table user -> region: a user moving leaves the old region.
                b.table("regions", strings, keyValueStore("regions"))
                    .groupBy((user, region) -> KeyValue.pair(region, user), Grouped.with(Serdes.String(), Serdes.String()))
                    .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("per-region")
                        .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()))
                    .toStream().mapValues(OracleTopologies::text).to("out", out);
                return new Spec(b.build(), List.of("out"), Map.of("per-region", StoreKind.KEY_VALUE));
            }
            case "split" -> {
                // Payments by size: the first branch that accepts a record takes it.
                b.stream("payments", strings)
                    .split()
                    .branch((id, amount) -> amount != null && Long.parseLong(amount) >= 1000,
                        Branched.withConsumer(s -> s.to("large", out)))
                    .branch((id, amount) -> amount != null && Long.parseLong(amount) > 0,
                        Branched.withConsumer(s -> s.to("small", out)));
                return new Spec(b.build(), List.of("large", "small"), Map.of());
            }
            default -> throw new IllegalArgumentException("unknown topology `" + name + "`");
        }
    }

    private static Materialized<String, Long, WindowStore<Bytes, byte[]>> windowStore(String name) {
        return Materialized.<String, Long, WindowStore<Bytes, byte[]>>as(name)
            .withKeySerde(Serdes.String()).withValueSerde(Serdes.Long()).withRetention(RETENTION);
    }

    private static Materialized<String, String, KeyValueStore<Bytes, byte[]>> keyValueStore(String name) {
        return Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as(name)
            .withKeySerde(Serdes.String()).withValueSerde(Serdes.String());
    }

    static String window(Windowed<String> w) {
        return w.key() + "@" + w.window().start() + "/" + w.window().end();
    }

    private static String text(Long n) {
        return n == null ? null : n.toString();
    }

    private static String pair(String left, String right) {
        return (left == null ? "-" : left) + "+" + (right == null ? "-" : right);
    }

    private static String productOf(String order) {
        return order.substring(0, order.indexOf(':'));
    }
}
