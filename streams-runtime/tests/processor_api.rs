//! The Processor API on the broker-free test driver: hand-written processors with connected
//! stores, forwarding, and punctuations on stream time and wall-clock time, with Kafka Streams'
//! documented semantics as the oracle (first stream-time punctuation with the first record,
//! missed intervals skipped, wall-clock punctuations one interval after init).

use std::time::Duration;

use kafka_streams::config::StreamsConfig;
use kafka_streams::processor::{
    InitContext, Processor, ProcessorContext, Punctuation, PunctuationType, Record, ScheduleId,
};
use kafka_streams::state::{KeyValueStore, QueryableStores};
use kafka_streams::testing::TestDriver;
use kafka_streams::topology::{Stores, StreamsBuilder, Topology};
use kafka_streams::{Error, ErrorKind, Result};

/// Counts clicks per user in a store; every `interval` (of `kind`) emits every user's count,
/// stamped with the punctuation time. A user named `poison` makes `process` fail.
struct PeriodicCounts {
    kind: PunctuationType,
    interval: Duration,
    counts: Option<KeyValueStore<String, u64>>,
    schedule: Option<ScheduleId>,
}

impl PeriodicCounts {
    fn new(kind: PunctuationType, interval: Duration) -> Self {
        Self {
            kind,
            interval,
            counts: None,
            schedule: None,
        }
    }

    fn counts(&self) -> Result<&KeyValueStore<String, u64>> {
        self.counts
            .as_ref()
            .ok_or_else(|| Error::processing("init did not run"))
    }
}

impl Processor<String, String> for PeriodicCounts {
    type KeyOut = String;
    type ValueOut = u64;

    fn init(&mut self, ctx: &mut InitContext<'_>) -> Result<()> {
        self.counts = Some(ctx.key_value_store("counts")?);
        self.schedule = Some(ctx.schedule(self.interval, self.kind));
        Ok(())
    }

    fn process(&mut self, _: &mut ProcessorContext<'_, String, u64>, record: Record<String, String>) -> Result<()> {
        if record.key == "poison" {
            return Err(Error::processing("poison click"));
        }
        let counts = self.counts()?;
        let count = counts.get(&record.key)?.unwrap_or(0) + 1;
        counts.put(&record.key, &count)
    }

    fn punctuate(&mut self, ctx: &mut ProcessorContext<'_, String, u64>, p: Punctuation) -> Result<()> {
        assert_eq!(Some(p.schedule), self.schedule);
        assert_eq!(p.kind, self.kind);
        assert!(ctx.headers().is_empty(), "a punctuation has no input record");
        for (user, count) in self.counts()?.all()? {
            ctx.forward(Record::new(user, count, p.timestamp))?;
        }
        Ok(())
    }
}

fn topology(kind: PunctuationType, interval: Duration) -> Topology {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .process(
            move || PeriodicCounts::new(kind, interval),
            [Stores::key_value::<String, u64>("counts")],
        )
        .to("periodic-counts");
    builder.build().expect("topology")
}

fn driver(topology: Topology) -> TestDriver {
    TestDriver::builder(
        topology,
        StreamsConfig::builder("processor-api").build().expect("config"),
    )
    .partitions(1)
    .start_time_ms(1_000_000)
    .build()
    .expect("driver")
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn stream_time_punctuation_fires_with_the_first_record_then_each_interval_once() {
    let driver = driver(topology(PunctuationType::StreamTime, Duration::from_millis(10)));
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic::<String, u64>("periodic-counts");

    // Stream time 0: aligned to 0, the first record punctuates at once (after being processed).
    clicks.pipe_at(s("a"), s("/"), 0).expect("pipe");
    assert_eq!(read(&out), [(s("a"), 1, 0)]);
    // 5 < 10: nothing.
    clicks.pipe_at(s("b"), s("/"), 5).expect("pipe");
    assert_eq!(read(&out), []);
    // 12 ≥ 10: once, with the current stream time; next due 20.
    clicks.pipe_at(s("a"), s("/"), 12).expect("pipe");
    assert_eq!(read(&out), [(s("a"), 2, 12), (s("b"), 1, 12)]);
    // Out-of-order record: stream time stays 12, no punctuation.
    clicks.pipe_at(s("c"), s("/"), 3).expect("pipe");
    assert_eq!(read(&out), []);
    // 45 jumps over 20, 30, 40: one punctuation, not three; next due 55.
    clicks.pipe_at(s("c"), s("/"), 45).expect("pipe");
    assert_eq!(read(&out), [(s("a"), 2, 45), (s("b"), 1, 45), (s("c"), 2, 45)]);
    clicks.pipe_at(s("d"), s("/"), 54).expect("pipe");
    assert_eq!(read(&out), []);
    clicks.pipe_at(s("d"), s("/"), 55).expect("pipe");
    assert_eq!(read(&out).len(), 4);

    // Wall-clock time does not drive a stream-time schedule.
    driver.advance_wall_clock(Duration::from_secs(60)).expect("advance");
    assert_eq!(read(&out), []);

    let m = driver.metrics();
    assert_eq!(m.punctuations, 4);
    assert!(m.punctuation_latency_max >= m.punctuation_latency_avg);
    // The store is the processor's, queryable like any other.
    let all: Vec<(String, u64)> = driver.key_value_entries("counts").expect("store").into_iter().collect();
    assert_eq!(all, [(s("a"), 2), (s("b"), 1), (s("c"), 2), (s("d"), 2)]);
}

/// (key, value, timestamp) of what the sink received since the last read.
fn read(out: &kafka_streams::testing::OutputTopic<String, u64>) -> Vec<(String, u64, i64)> {
    out.read_records()
        .expect("read")
        .into_iter()
        .map(|r| (r.key, r.value.expect("value"), r.timestamp.expect("timestamp")))
        .collect()
}

#[test]
fn wall_clock_punctuation_fires_an_interval_after_init_without_records() {
    let driver = driver(topology(PunctuationType::WallClockTime, Duration::from_secs(1)));
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    let out = driver.output_topic::<String, u64>("periodic-counts");
    clicks.pipe_at(s("a"), s("/"), 0).expect("pipe");
    assert_eq!(read(&out), [], "records alone do not drive wall-clock punctuation");

    driver.advance_wall_clock(Duration::from_millis(999)).expect("advance");
    assert_eq!(read(&out), []);
    driver.advance_wall_clock(Duration::from_millis(1)).expect("advance");
    // Stamped with the wall-clock time: the driver started at 1 000 000 ms.
    assert_eq!(read(&out), [(s("a"), 1, 1_001_000)]);
    // A jump of 3.5 intervals: one punctuation.
    driver
        .advance_wall_clock(Duration::from_millis(3_500))
        .expect("advance");
    assert_eq!(read(&out), [(s("a"), 1, 1_004_500)]);
    // Next due at 1 005 500.
    driver.advance_wall_clock(Duration::from_millis(999)).expect("advance");
    assert_eq!(read(&out), []);
    driver.advance_wall_clock(Duration::from_millis(1)).expect("advance");
    assert_eq!(read(&out).len(), 1);
    assert_eq!(driver.metrics().punctuations, 3);
}

#[test]
fn a_failing_record_is_skipped_and_counted_and_the_task_goes_on() {
    let driver = driver(topology(PunctuationType::StreamTime, Duration::from_secs(3600)));
    let clicks = driver.input_topic::<String, String>("clicks").expect("input");
    clicks.pipe_at(s("a"), s("/"), 0).expect("pipe");
    clicks
        .pipe_at(s("poison"), s("/"), 1)
        .expect("a failing record is not an error of the driver");
    clicks.pipe_at(s("a"), s("/"), 2).expect("pipe");
    let m = driver.metrics();
    assert_eq!((m.records_processed, m.records_skipped), (2, 1));
    let stores = driver.key_value_store::<String, u64>("counts").expect("store");
    assert_eq!(stores[0].1.get(&s("a")).expect("get"), Some(2));
    assert_eq!(stores[0].1.get(&s("poison")).expect("get"), None);
}

/// Asks for a store it was not connected to.
struct Unconnected;

impl Processor<String, String> for Unconnected {
    type KeyOut = String;
    type ValueOut = String;

    fn init(&mut self, ctx: &mut InitContext<'_>) -> Result<()> {
        ctx.key_value_store::<String, u64>("other").map(drop)
    }

    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, String, String>,
        record: Record<String, String>,
    ) -> Result<()> {
        ctx.forward(record)
    }
}

#[test]
fn a_store_not_connected_to_the_processor_is_a_clear_error() {
    let builder = StreamsBuilder::new();
    builder
        .stream::<String, String>("clicks")
        .process(|| Unconnected, [Stores::key_value::<String, u64>("mine")])
        .to("out");
    let result = TestDriver::builder(
        builder.build().expect("topology"),
        StreamsConfig::builder("unconnected").build().expect("config"),
    )
    .build();
    let err = result.err().expect("opening the task fails");
    assert_eq!(err.kind(), ErrorKind::State);
    let message = err.report().to_string();
    assert!(message.contains("no access to store `other`"), "{message}");
    assert!(message.contains("\"mine\""), "{message}");
}

#[test]
fn describe_shows_the_processor_and_its_stores() {
    let topology = topology(PunctuationType::StreamTime, Duration::from_secs(1));
    let text = topology.describe();
    assert!(text.contains("stores: [counts]"), "{text}");
    assert!(topology.stores().any(|(spec, _)| spec.name == "counts"));
}
