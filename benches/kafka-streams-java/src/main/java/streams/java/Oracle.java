package streams.java;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeSet;

import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.TestInputTopic;
import org.apache.kafka.streams.TestOutputTopic;
import org.apache.kafka.streams.TopologyTestDriver;
import org.apache.kafka.streams.kstream.Windowed;
import org.apache.kafka.streams.state.BuiltInDslStoreSuppliers;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.test.TestRecord;

/**
 * The differential oracle: runs one of {@link OracleTopologies} in Kafka Streams'
 * TopologyTestDriver over every case of an input file and writes what came out.
 *
 * <pre>
 * java -cp 'target/classes:target/lib/*' streams.java.Oracle TOPOLOGY CASES OUTPUT
 * </pre>
 *
 * Both files are tab-separated lines; {@code ~} is a null value (a tombstone).
 * Input: {@code case SEED}, then {@code in TOPIC KEY VALUE TIMESTAMP} per record, in pipe order.
 * Output per case: {@code case SEED}, {@code out TOPIC KEY VALUE TIMESTAMP} per output record
 * (per topic, in the order produced), then {@code store NAME ENTRY VALUE} per store entry (sorted;
 * a window store's entry is {@code key@start/end}, a session store's likewise, fetched for every
 * key the case used). A fresh driver per case; the record cache off, so every update is seen.
 */
public final class Oracle {
    private Oracle() {}

    private static final String NULL = "~";

    record In(String topic, String key, String value, long timestamp) {}

    public static void main(String[] args) throws IOException {
        if (args.length != 3) {
            System.err.println("usage: Oracle TOPOLOGY CASES OUTPUT");
            System.exit(2);
        }
        String topology = args[0];
        Map<String, List<In>> cases = new java.util.LinkedHashMap<>();
        List<In> current = null;
        try (BufferedReader reader = Files.newBufferedReader(Path.of(args[1]), StandardCharsets.UTF_8)) {
            String line;
            while ((line = reader.readLine()) != null) {
                String[] f = line.split("\t", -1);
                if (f[0].equals("case")) {
                    current = new ArrayList<>();
                    cases.put(f[1], current);
                } else if (f[0].equals("in") && current != null) {
                    current.add(new In(f[1], f[2], nullable(f[3]), Long.parseLong(f[4])));
                } else {
                    throw new IllegalArgumentException("bad input line: " + line);
                }
            }
        }
        try (BufferedWriter writer = Files.newBufferedWriter(Path.of(args[2]), StandardCharsets.UTF_8)) {
            for (Map.Entry<String, List<In>> c : cases.entrySet()) {
                writer.write("case\t" + c.getKey() + "\n");
                run(topology, c.getValue(), writer);
            }
        }
    }

    private static void run(String name, List<In> records, BufferedWriter writer) throws IOException {
        OracleTopologies.Spec spec = OracleTopologies.build(name);
        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, "oracle-" + name.replace('_', '-'));
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, "unused:9092");
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, 0);
        props.put(StreamsConfig.DSL_STORE_SUPPLIERS_CLASS_CONFIG, BuiltInDslStoreSuppliers.InMemoryDslStoreSuppliers.class);
        // Kafka Streams throttles left/outer join and emit-on-close results by wall-clock time
        // (a performance measure; the driver's clock stands still): off, so results follow
        // event time alone.
        props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_OUTER_JOIN_SPURIOUS_RESULTS_FIX, 0L);
        props.put(StreamsConfig.InternalConfig.EMIT_INTERVAL_MS_KSTREAMS_WINDOWED_AGGREGATION, 0L);
        StringSerializer serializer = new StringSerializer();
        StringDeserializer deserializer = new StringDeserializer();
        TreeSet<String> keys = new TreeSet<>();
        try (TopologyTestDriver driver = new TopologyTestDriver(spec.topology(), props, Instant.EPOCH)) {
            Map<String, TestInputTopic<String, String>> inputs = new HashMap<>();
            for (In in : records) {
                keys.add(in.key());
                inputs.computeIfAbsent(in.topic(), t -> driver.createInputTopic(t, serializer, serializer))
                    .pipeInput(new TestRecord<>(in.key(), in.value(), null, in.timestamp()));
            }
            for (String topic : spec.outputs()) {
                TestOutputTopic<String, String> output = driver.createOutputTopic(topic, deserializer, deserializer);
                for (TestRecord<String, String> r : output.readRecordsToList()) {
                    writer.write(String.join("\t", "out", topic, r.key(), orNull(r.value()),
                        Long.toString(r.timestamp())) + "\n");
                }
            }
            for (Map.Entry<String, OracleTopologies.StoreKind> store : new java.util.TreeMap<>(spec.stores()).entrySet()) {
                TreeSet<String> entries = new TreeSet<>();
                switch (store.getValue()) {
                    case KEY_VALUE -> {
                        try (KeyValueIterator<String, Object> all = driver.<String, Object>getKeyValueStore(store.getKey()).all()) {
                            all.forEachRemaining(kv -> entries.add(kv.key + "\t" + kv.value));
                        }
                    }
                    case WINDOW -> {
                        try (KeyValueIterator<Windowed<String>, Object> all = driver.<String, Object>getWindowStore(store.getKey()).all()) {
                            all.forEachRemaining(kv -> entries.add(OracleTopologies.window(kv.key) + "\t" + kv.value));
                        }
                    }
                    case SESSION -> {
                        for (String key : keys) {
                            try (KeyValueIterator<Windowed<String>, Object> sessions = driver.<String, Object>getSessionStore(store.getKey()).fetch(key)) {
                                sessions.forEachRemaining((KeyValue<Windowed<String>, Object> kv) ->
                                    entries.add(OracleTopologies.window(kv.key) + "\t" + kv.value));
                            }
                        }
                    }
                }
                for (String entry : entries) {
                    writer.write("store\t" + store.getKey() + "\t" + entry + "\n");
                }
            }
        }
    }

    private static String nullable(String field) {
        return field.equals(NULL) ? null : field;
    }

    private static String orNull(String value) {
        return value == null ? NULL : value;
    }
}
