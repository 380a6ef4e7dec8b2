package streams.java;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.Bytes;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.StreamsBuilder;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.kstream.Consumed;
import org.apache.kafka.streams.kstream.Grouped;
import org.apache.kafka.streams.kstream.KStream;
import org.apache.kafka.streams.kstream.KTable;
import org.apache.kafka.streams.kstream.Materialized;
import org.apache.kafka.streams.kstream.Produced;
import org.apache.kafka.streams.kstream.TimeWindows;
import org.apache.kafka.streams.processor.StateRestoreListener;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.WindowStore;

/**
 * The benchmark twins of benches/benches/vs_kafka_streams.rs: the same pipelines written as a
 * Kafka Streams user would, run on the same broker and pre-loaded input by that benchmark,
 * which starts this as a child process and reads the one result line it prints.
 *
 * <pre>
 * java -cp 'target/classes:target/lib/*' streams.java.Bench PIPELINE GUARANTEE BOOTSTRAP APP_ID
 *      INPUT OUTPUT STATE_DIR RECORDS COMMIT_MS CACHE_BYTES [TABLE_TOPIC]
 * </pre>
 *
 * Pipelines over JSON clicks {@code {"user_id","url","timestamp_ms"}} keyed by user:
 * {@code stateless} (drop /home, keep the url), {@code windowed-count} (5-minute tumbling count
 * per user, RocksDB), {@code stream-table-join} (each click with its user's row of a table),
 * {@code rekeyed-count} (count per url: re-keyed, through a repartition topic); over string
 * blobs, {@code latest-blob} (the latest value per key in a RocksDB store: what a restore
 * measurement restores, RECORDS given as {@code restore=N}, see {@link Restoration}). Guarantee:
 * {@code at_least_once} or {@code exactly_once_v2}. One stream thread.
 *
 * Prints {@code ready} once running with its partitions, then
 * {@code first_ms=.. done_ms=.. cpu_ms=.. rss_kb=..}: milliseconds since the process
 * started until the first and the RECORDS-th input record was processed, the process's CPU
 * time and peak resident set (from /proc/self, as the Rust side reads them), then exits.
 */
public final class Bench {
    private Bench() {}

    /** One click; unknown fields ignored. */
    public record Click(String user_id, String url, long timestamp_ms) {}

    private static final ObjectMapper JSON = new ObjectMapper()
        .configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final long WINDOW_MS = 300_000;

    private static long processed = 0;
    private static long firstMs = -1;

    public static void main(String[] args) throws Exception {
        if (args.length < 10) {
            System.err.println("usage: Bench PIPELINE GUARANTEE BOOTSTRAP APP_ID INPUT OUTPUT STATE_DIR RECORDS COMMIT_MS CACHE_BYTES [TABLE_TOPIC]");
            System.exit(2);
        }
        String pipeline = args[0];
        // "restore=N": this run starts on an empty state directory of an application that already
        // processed its input; it reports once its N changelog records are restored and it runs.
        boolean restoring = args[7].startsWith("restore=");
        long records = Long.parseLong(args[7].replace("restore=", ""));
        long started = System.nanoTime();
        CountDownLatch done = new CountDownLatch(1);
        long[] doneMs = {0};

        Properties props = new Properties();
        props.put(StreamsConfig.APPLICATION_ID_CONFIG, args[3]);
        props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, args[2]);
        props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, args[1]);
        props.put(StreamsConfig.STATE_DIR_CONFIG, args[6]);
        props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, 1);
        props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, Long.parseLong(args[8]));
        props.put(StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG, Long.parseLong(args[9]));
        props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
        // Leave the group on close, as the Rust side does: a restart (the restore runs) then
        // rebalances at once instead of waiting for the closed member's session timeout.
        props.put(StreamsConfig.consumerPrefix("internal.leave.group.on.close"), true);

        StreamsBuilder b = new StreamsBuilder();
        Serde<String> strings = Serdes.String();
        Produced<String, String> toStrings = Produced.with(strings, strings);
        KStream<String, String> input = b.stream(args[4], Consumed.with(strings, strings))
            .peek((k, v) -> {
                processed++;
                if (processed == 1) {
                    firstMs = (System.nanoTime() - started) / 1_000_000;
                }
                if (processed == records) {
                    doneMs[0] = (System.nanoTime() - started) / 1_000_000;
                    done.countDown();
                }
            });
        KStream<String, Click> clicks = pipeline.equals("latest-blob") ? null : input.mapValues(Bench::click);
        switch (pipeline) {
            case "stateless" -> clicks
                .filter((user, c) -> !c.url().equals("/home"))
                .mapValues(Click::url)
                .to(args[5], toStrings);
            case "windowed-count" -> clicks
                .groupByKey(Grouped.with(strings, new JsonSerde()))
                .windowedBy(TimeWindows.ofSizeWithNoGrace(Duration.ofMillis(WINDOW_MS)))
                .count(Materialized.<String, Long, WindowStore<Bytes, byte[]>>as("counts")
                    .withKeySerde(strings).withValueSerde(Serdes.Long()))
                .toStream()
                .map((w, n) -> KeyValue.pair(w.key() + "@" + w.window().start(), Long.toString(n)))
                .to(args[5], toStrings);
            case "stream-table-join" -> {
                KTable<String, String> users = b.table(args[10], Consumed.with(strings, strings),
                    Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("users")
                        .withKeySerde(strings).withValueSerde(strings));
                clicks.join(users, (c, user) -> c.url() + " by " + user,
                        org.apache.kafka.streams.kstream.Joined.with(strings, new JsonSerde(), strings))
                    .to(args[5], toStrings);
            }
            case "rekeyed-count" -> clicks
                .selectKey((user, c) -> c.url())
                .groupByKey(Grouped.with("by-url", strings, new JsonSerde()))
                .count(Materialized.<String, Long, KeyValueStore<Bytes, byte[]>>as("url-counts")
                    .withKeySerde(strings).withValueSerde(Serdes.Long()))
                .toStream()
                .mapValues(n -> Long.toString(n))
                .to(args[5], toStrings);
            case "latest-blob" -> input
                .groupByKey(Grouped.with(strings, strings))
                .reduce((older, latest) -> latest,
                    Materialized.<String, String, KeyValueStore<Bytes, byte[]>>as("latest-blobs")
                        .withKeySerde(strings).withValueSerde(strings));
            default -> throw new IllegalArgumentException("unknown pipeline " + pipeline);
        }

        try (KafkaStreams streams = new KafkaStreams(b.build(), props)) {
            // "ready" once it runs with its partitions: a live benchmark starts producing then.
            boolean[] announced = {false};
            streams.setStateListener((now, before) -> {
                if (now == KafkaStreams.State.RUNNING && !announced[0]) {
                    announced[0] = true;
                    System.out.println("ready");
                    System.out.flush();
                }
            });
            Restoration restoration = new Restoration(records);
            streams.setGlobalStateRestoreListener(restoration);
            streams.start();
            if (restoring) {
                restoration.report(streams, started);
                streams.close(Duration.ofSeconds(30));
                return;
            }
            if (!done.await(30, TimeUnit.MINUTES)) {
                System.err.println("timed out after " + processed + " records");
                System.exit(1);
            }
            System.out.println("first_ms=" + firstMs + " done_ms=" + doneMs[0] + " cpu_ms=" + cpuMs()
                + " rss_kb=" + peakRssKb());
            System.out.flush();
            streams.close(Duration.ofSeconds(30));
        }
    }

    /**
     * Restoration as the restore listener sees it: records restored, and the time from the first
     * partition's restore start to the last one's end (the state updater restores them together).
     */
    static final class Restoration implements StateRestoreListener {
        private final long expected;
        private final AtomicLong restored = new AtomicLong();
        private final AtomicLong firstStart = new AtomicLong(Long.MAX_VALUE);
        private final AtomicLong lastEnd = new AtomicLong();
        private final CountDownLatch complete = new CountDownLatch(1);

        Restoration(long expected) {
            this.expected = expected;
        }

        @Override
        public void onRestoreStart(TopicPartition partition, String store, long from, long to) {
            firstStart.accumulateAndGet(System.nanoTime(), Math::min);
        }

        @Override
        public void onBatchRestored(TopicPartition partition, String store, long batchEnd, long records) {}

        @Override
        public void onRestoreEnd(TopicPartition partition, String store, long total) {
            lastEnd.accumulateAndGet(System.nanoTime(), Math::max);
            if (restored.addAndGet(total) >= expected) {
                complete.countDown();
            }
        }

        /**
         * Waits for the whole changelog and the RUNNING state, then prints
         * {@code first_ms=.. done_ms=.. cpu_ms=.. rss_kb=.. restored=.. restore_ms=..}: first and
         * done both the time from process start until it runs again with its state.
         */
        void report(KafkaStreams streams, long started) throws Exception {
            if (!complete.await(30, TimeUnit.MINUTES)) {
                System.err.println("restored only " + restored.get() + " of " + expected);
                System.exit(1);
            }
            while (streams.state() != KafkaStreams.State.RUNNING) {
                Thread.sleep(1);
            }
            long runningMs = (System.nanoTime() - started) / 1_000_000;
            System.out.println("first_ms=" + runningMs + " done_ms=" + runningMs + " cpu_ms=" + cpuMs()
                + " rss_kb=" + peakRssKb() + " restored=" + restored.get()
                + " restore_ms=" + (lastEnd.get() - firstStart.get()) / 1_000_000);
            System.out.flush();
        }
    }

    private static Click click(String json) {
        try {
            return JSON.readValue(json, Click.class);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("not a click: " + json, e);
        }
    }

    /** Clicks through the repartition topic and stores, as JSON (as the Rust side's codec). */
    public static final class JsonSerde implements Serde<Click> {
        @Override
        public org.apache.kafka.common.serialization.Serializer<Click> serializer() {
            return (topic, c) -> {
                try {
                    return c == null ? null : JSON.writeValueAsBytes(c);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    throw new IllegalStateException(e);
                }
            };
        }

        @Override
        public org.apache.kafka.common.serialization.Deserializer<Click> deserializer() {
            return (topic, bytes) -> bytes == null ? null : click(new String(bytes, StandardCharsets.UTF_8));
        }
    }

    /** utime + stime of this process, from /proc/self/stat (clock ticks of 10 ms). */
    static long cpuMs() throws java.io.IOException {
        String stat = Files.readString(Path.of("/proc/self/stat"));
        String[] fields = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        return (Long.parseLong(fields[11]) + Long.parseLong(fields[12])) * 10;
    }

    /** VmHWM of this process, from /proc/self/status. */
    static long peakRssKb() throws java.io.IOException {
        List<String> lines = Files.readAllLines(Path.of("/proc/self/status"));
        for (String line : lines) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }
}
