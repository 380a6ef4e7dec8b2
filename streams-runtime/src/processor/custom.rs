//! The Processor API: a hand-written processor with stores, forwarding and punctuators, for what
//! the DSL does not express. Added to a stream with [`KStream::process`](crate::topology::KStream::process).

use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::punctuation::{Punctuation, PunctuationType, Schedule, ScheduleId};
use super::{Data, Record, TaskContext};
use crate::error::{Error, ErrorKind, Result};
use crate::naming::TaskId;
use crate::state::{KeyValueStore, SharedStore, WindowStore};

/// A processor written by hand. One instance runs per task (created by the supplier given to
/// `KStream::process`), so fields are per-partition state; durable state belongs in stores.
///
/// ```
/// use std::time::Duration;
/// use kafka_streams::processor::{InitContext, Processor, ProcessorContext, Punctuation, PunctuationType, Record};
/// use kafka_streams::state::KeyValueStore;
///
/// /// Emits each user's latest page once a minute of stream time, instead of on every click.
/// #[derive(Default)]
/// struct LatestPage {
///     latest: Option<KeyValueStore<String, String>>,
/// }
///
/// impl Processor<String, String> for LatestPage {
///     type KeyOut = String;
///     type ValueOut = String;
///
///     fn init(&mut self, ctx: &mut InitContext<'_>) -> kafka_streams::Result<()> {
///         self.latest = Some(ctx.key_value_store("latest-page")?);
///         ctx.schedule(Duration::from_secs(60), PunctuationType::StreamTime);
///         Ok(())
///     }
///
///     fn process(&mut self, _: &mut ProcessorContext<'_, String, String>, r: Record<String, String>) -> kafka_streams::Result<()> {
///         let Some(latest) = &self.latest else { return Ok(()) };
///         latest.put(&r.key, &r.value)
///     }
///
///     fn punctuate(&mut self, ctx: &mut ProcessorContext<'_, String, String>, p: Punctuation) -> kafka_streams::Result<()> {
///         let Some(latest) = &self.latest else { return Ok(()) };
///         for (user, page) in latest.all()? {
///             ctx.forward(Record::new(user.clone(), page, p.timestamp))?;
///             latest.delete(&user)?;
///         }
///         Ok(())
///     }
/// }
/// ```
pub trait Processor<K, V>: Send + 'static {
    /// Key type of the records it forwards.
    type KeyOut: Data;
    /// Value type of the records it forwards.
    type ValueOut: Data;

    /// Called once per task before the first record: fetch store handles, register punctuators.
    fn init(&mut self, ctx: &mut InitContext<'_>) -> Result<()> {
        let _ = ctx;
        Ok(())
    }

    /// Handles one record; forwards any number of records downstream.
    fn process(
        &mut self,
        ctx: &mut ProcessorContext<'_, Self::KeyOut, Self::ValueOut>,
        record: Record<K, V>,
    ) -> Result<()>;

    /// Called when a schedule registered in `init` is due.
    fn punctuate(
        &mut self,
        ctx: &mut ProcessorContext<'_, Self::KeyOut, Self::ValueOut>,
        punctuation: Punctuation,
    ) -> Result<()> {
        let _ = (ctx, punctuation);
        Ok(())
    }
}

/// What a processor can reach while it is initialized for a task.
pub struct InitContext<'a> {
    pub(crate) task: TaskId,
    /// The stores this processor was connected to (by `KStream::process`).
    pub(crate) stores: Vec<(&'a str, SharedStore, Option<i64>)>,
    pub(crate) schedules: &'a mut Vec<Schedule>,
    pub(crate) wall_clock_ms: i64,
}

impl InitContext<'_> {
    /// The task this instance runs for.
    pub fn task(&self) -> TaskId {
        self.task
    }

    /// The key-value store `name`, which must be among the stores given to `KStream::process`.
    pub fn key_value_store<K, V>(&self, name: &str) -> Result<KeyValueStore<K, V>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        match self.connected(name)? {
            (store, None) => Ok(KeyValueStore::new(store)),
            (_, Some(_)) => Err(wrong_kind(name, "a window store", "key_value_store", "window_store")),
        }
    }

    /// The window store `name`, which must be among the stores given to `KStream::process`.
    pub fn window_store<K, V>(&self, name: &str) -> Result<WindowStore<K, V>>
    where
        K: Serialize + DeserializeOwned,
        V: Serialize + DeserializeOwned,
    {
        match self.connected(name)? {
            (store, Some(size_ms)) => Ok(WindowStore::new(store, size_ms)),
            (_, None) => Err(wrong_kind(name, "a key-value store", "window_store", "key_value_store")),
        }
    }

    /// Calls the processor's `punctuate` every `interval` of stream time or wall-clock time
    /// (see [`PunctuationType`]); returns the id `Punctuation::schedule` will carry.
    pub fn schedule(&mut self, interval: Duration, kind: PunctuationType) -> ScheduleId {
        let id = ScheduleId(self.schedules.len());
        self.schedules
            .push(Schedule::new(id, kind, interval, self.wall_clock_ms));
        id
    }

    fn connected(&self, name: &str) -> Result<(SharedStore, Option<i64>)> {
        self.stores
            .iter()
            .find(|(n, _, _)| *n == name)
            .map(|(_, store, size)| (SharedStore::clone(store), *size))
            .ok_or_else(|| {
                let connected: Vec<&str> = self.stores.iter().map(|(n, _, _)| *n).collect();
                Error::new(
                    ErrorKind::State,
                    format!(
                        "processor of task {} has no access to store `{name}`; connected stores: {connected:?} \
                         (pass the store to `KStream::process`)",
                        self.task
                    ),
                )
            })
    }
}

fn wrong_kind(name: &str, kind: &str, asked: &str, instead: &str) -> Error {
    Error::new(
        ErrorKind::State,
        format!("store `{name}` is {kind}; use `{instead}` instead of `{asked}`"),
    )
}

/// Where a processor's forwarded records go: the node's children in the topology.
pub(crate) trait Downstream<K, V> {
    /// Runs `record` through every child.
    fn forward(&mut self, task: &mut TaskContext, record: Record<K, V>) -> Result<()>;
}

/// What a processor can do while handling a record or a punctuation.
pub struct ProcessorContext<'a, K, V> {
    pub(crate) task: &'a mut TaskContext,
    pub(crate) next: &'a mut dyn Downstream<K, V>,
    pub(crate) wall_clock_ms: i64,
}

impl<K: Data, V: Data> ProcessorContext<'_, K, V> {
    /// Sends `record` to the processor's children (downstream nodes and sinks).
    pub fn forward(&mut self, record: Record<K, V>) -> Result<()> {
        self.next.forward(self.task, record)
    }

    /// The task being processed.
    pub fn task(&self) -> TaskId {
        self.task.task()
    }

    /// The task's stream time (`i64::MIN` before its first record).
    pub fn stream_time(&self) -> i64 {
        self.task.stream_time()
    }

    /// The stream thread's wall-clock time, epoch milliseconds (the test driver's manual clock
    /// under test).
    pub fn wall_clock_ms(&self) -> i64 {
        self.wall_clock_ms
    }

    /// Headers of the record being processed (empty during a punctuation).
    pub fn headers(&self) -> &[super::Header] {
        self.task.headers()
    }
}
