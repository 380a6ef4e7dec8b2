use crate::naming::TaskId;
use crate::processor::clock::Clock;

/// A record a processor wants produced; the stream thread sends it after the processor returns.
#[derive(Debug)]
pub(crate) struct OutputRecord {
    /// Shared with the sink that produced it (no allocation per record).
    pub(crate) topic: std::sync::Arc<str>,
    pub(crate) key: Vec<u8>,
    pub(crate) value: Option<Vec<u8>>,
    pub(crate) timestamp: i64,
    /// The headers of the input record it derives from, as Kafka Streams forwards them.
    pub(crate) headers: Vec<super::Header>,
}

/// What a processor may know and do while handling one record of one task.
#[derive(Debug)]
pub struct TaskContext {
    task: TaskId,
    /// The stream thread's wall clock (the test driver's manual clock under test).
    clock: std::sync::Arc<dyn Clock>,
    stream_time: i64,
    dropped_late: u64,
    /// Headers of the record being processed.
    headers: Vec<super::Header>,
    pub(crate) outputs: Vec<OutputRecord>,
}

impl TaskContext {
    pub(crate) fn new(task: TaskId, clock: std::sync::Arc<dyn Clock>) -> Self {
        Self {
            task,
            clock,
            stream_time: i64::MIN,
            dropped_late: 0,
            headers: Vec::new(),
            outputs: Vec::new(),
        }
    }

    /// The task being processed.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// Stream time: the largest event time this task has seen (`i64::MIN` before the first record).
    pub fn stream_time(&self) -> i64 {
        self.stream_time
    }

    /// Wall-clock time, epoch milliseconds.
    pub(crate) fn wall_clock_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Records dropped because they arrived after their window closed.
    pub fn dropped_late_records(&self) -> u64 {
        self.dropped_late
    }

    pub(crate) fn advance_stream_time(&mut self, timestamp: i64) {
        self.stream_time = self.stream_time.max(timestamp);
    }

    pub(crate) fn set_stream_time(&mut self, stream_time: i64) {
        self.stream_time = stream_time;
    }

    /// Headers of the record being processed (name, value).
    pub fn headers(&self) -> &[super::Header] {
        &self.headers
    }

    pub(crate) fn set_headers(&mut self, headers: &[super::Header]) {
        // Most records have none: nothing to clear or copy (this runs for every record).
        if headers.is_empty() && self.headers.is_empty() {
            return;
        }
        self.headers.clear();
        self.headers.extend_from_slice(headers);
    }

    pub(crate) fn record_late_drop(&mut self) {
        self.dropped_late += 1;
    }

    pub(crate) fn send(&mut self, topic: &std::sync::Arc<str>, key: Vec<u8>, value: Option<Vec<u8>>, timestamp: i64) {
        self.outputs.push(OutputRecord {
            topic: std::sync::Arc::clone(topic),
            key,
            value,
            timestamp,
            // An empty `Vec` without the generic clone's work (once per output record).
            headers: if self.headers.is_empty() {
                Vec::new()
            } else {
                self.headers.clone()
            },
        });
    }
}
