//! Typed processor nodes and the edges between them.
//!
//! A topology is built as factories; each task instantiates its own processors from them, so
//! processors hold per-task state (store handles) without sharing. Children lists are filled in
//! after a node is created (`stream.filter(..)` adds to `stream`'s list), hence the shared list.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::error::{Error, ErrorKind, Result, report};
use crate::naming::TaskId;
use crate::processor::{Data, PunctuationType, Record, TaskContext};
use crate::state::SharedStore;
use crate::topology::graph::topic::TopicName;

/// A processor instance of one task, receiving typed records.
pub(crate) trait Node<K, V>: Send {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()>;

    /// A table's row `key` was deleted (a tombstone). Table operations (joins, group-by,
    /// sinks) act on it, key-keeping stream operations (`map_values`, `merge`) pass it on; the
    /// other stream operations have no value to give their function and skip it.
    fn delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        let _ = (ctx, key, timestamp);
        Ok(())
    }
}

/// Creates a processor (and, recursively, its children) for one task.
pub(crate) trait NodeFactory<K, V>: Send + Sync {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>>;
}

/// A node factory from a closure, the shape of most operators: for each task, `make(build,
/// next)` builds the task's processor from the operator's settings (cloned into it), the
/// task's stores (`build`) and what it forwards to (`next`). An operator is then its processor
/// type plus one function returning `operator(children, |build, next| ..)`, without a factory
/// type of its own (timely's `unary` beside its `filter`).
pub(crate) fn operator<K, V, K2, V2, P, F>(children: Children<K2, V2>, make: F) -> Arc<dyn NodeFactory<K, V>>
where
    K: 'static,
    V: 'static,
    K2: Data,
    V2: Data,
    P: Node<K, V> + 'static,
    F: Fn(&TaskBuild<'_>, Forward<K2, V2>) -> Result<P> + Send + Sync + 'static,
{
    Arc::new(Operator {
        children,
        make,
        types: std::marker::PhantomData,
    })
}

/// The factory [`operator`] returns.
struct Operator<K, V, K2, V2, F> {
    children: Children<K2, V2>,
    make: F,
    types: std::marker::PhantomData<fn(K, V)>,
}

impl<K, V, K2, V2, P, F> NodeFactory<K, V> for Operator<K, V, K2, V2, F>
where
    K2: Data,
    V2: Data,
    P: Node<K, V> + 'static,
    F: Fn(&TaskBuild<'_>, Forward<K2, V2>) -> Result<P> + Send + Sync,
{
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>> {
        let next = self.children.instantiate(build)?;
        Ok(Box::new((self.make)(build, next)?))
    }
}

/// A source processor receiving raw bytes from a topic partition.
pub(crate) trait RawProcessor: Send {
    fn process(
        &mut self,
        ctx: &mut TaskContext,
        key: Option<&[u8]>,
        value: Option<&[u8]>,
        timestamp: i64,
    ) -> Result<()>;
}

/// Creates a source processor for one task.
pub(crate) trait RawNodeFactory: Send + Sync {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn RawProcessor>>;
}

/// What a task offers its processors while they are being created.
pub(crate) struct TaskBuild<'a> {
    pub(crate) task: TaskId,
    pub(crate) application_id: &'a str,
    pub(crate) stores: &'a HashMap<String, SharedStore>,
    /// Wall-clock time when the task is opened (wall-clock punctuations count from it).
    pub(crate) wall_clock_ms: i64,
    /// The instance's global stores (global tables), readable by every task.
    pub(crate) globals: &'a HashMap<String, SharedStore>,
    /// Processors with punctuation schedules register here; the task drives them.
    pub(crate) punctuators: &'a RefCell<Vec<SharedPunctuator>>,
}

/// A processor instance with punctuation schedules, shared between its place in the processor
/// tree (records) and its task (punctuations).
pub(crate) type SharedPunctuator = Arc<Mutex<dyn Punctuate>>;

/// Runs the due punctuations of one processor instance.
pub(crate) trait Punctuate: Send {
    /// Fires every schedule of `kind` due at `now_ms`; returns how long each punctuation took.
    fn punctuate(&mut self, ctx: &mut TaskContext, kind: PunctuationType, now_ms: i64) -> Result<Vec<Duration>>;
}

impl TaskBuild<'_> {
    pub(crate) fn store(&self, name: &str) -> Result<SharedStore> {
        self.stores
            .get(name)
            .or_else(|| self.globals.get(name))
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::State,
                    format!("store `{name}` is not available to task {}", self.task),
                )
            })
    }

    pub(crate) fn topic(&self, topic: &TopicName) -> String {
        topic.resolve(self.application_id)
    }
}

/// The children of a node, appended to while the topology is being built.
pub(crate) struct Children<K, V>(Arc<Mutex<Vec<SharedFactory<K, V>>>>);

pub(crate) type SharedFactory<K, V> = Arc<dyn NodeFactory<K, V>>;

impl<K, V> Clone for Children<K, V> {
    fn clone(&self) -> Self {
        Self(Arc::clone(&self.0))
    }
}

impl<K, V> Default for Children<K, V> {
    fn default() -> Self {
        Self(Arc::default())
    }
}

impl<K: Data, V: Data> Children<K, V> {
    pub(crate) fn add(&self, child: Arc<dyn NodeFactory<K, V>>) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).push(child);
    }

    pub(crate) fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Forward<K, V>> {
        let factories = self.0.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let mut children = factories
            .iter()
            .map(|f| f.instantiate(build))
            .collect::<Result<Vec<_>>>()?;
        let targets = match children.len() {
            0 => Targets::None,
            1 => Targets::One(children.remove(0)),
            _ => Targets::Many(children),
        };
        Ok(Forward { targets })
    }
}

/// Sends a record to every child of a node; the last child gets it without a clone.
pub(crate) struct Forward<K, V> {
    targets: Targets<K, V>,
}

/// Most nodes feed exactly one other (a chain of operators): that case is one virtual call,
/// inlined into the node that forwards, without a loop or a clone check.
enum Targets<K, V> {
    None,
    One(Box<dyn Node<K, V>>),
    /// Two or more: all but the last get a clone.
    Many(Vec<Box<dyn Node<K, V>>>),
}

impl<K: Data, V: Data> crate::processor::Downstream<K, V> for Forward<K, V> {
    fn forward(&mut self, task: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        Forward::forward(self, task, record)
    }
}

impl<K: Data, V: Data> Forward<K, V> {
    #[inline]
    pub(crate) fn forward(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        match &mut self.targets {
            Targets::One(child) => child.process(ctx, record),
            Targets::None => Ok(()),
            Targets::Many(children) => Self::to_each(children, record, |child, record| child.process(ctx, record)),
        }
    }

    /// Hands `item` (a record, a deleted key) to each of `children` through `give`: all but the
    /// last get a clone.
    fn to_each<T: Clone>(
        children: &mut [Box<dyn Node<K, V>>],
        item: T,
        mut give: impl FnMut(&mut Box<dyn Node<K, V>>, T) -> Result<()>,
    ) -> Result<()> {
        if let Some((last, rest)) = children.split_last_mut() {
            for child in rest {
                give(child, item.clone())?;
            }
            give(last, item)?;
        }
        Ok(())
    }

    /// Forwards one of several records a node emits in one step (the windows that closed), so
    /// that a record-level failure downstream (a codec or processing error, which the error
    /// policy handles) does not stop the others: the first such failure is kept in `failed` for
    /// the caller to return after the last record; any other error is returned at once.
    pub(crate) fn forward_each(
        &mut self,
        ctx: &mut TaskContext,
        record: Record<K, V>,
        failed: &mut Option<Error>,
    ) -> Result<()> {
        match self.forward(ctx, record) {
            Err(e) if matches!(e.kind(), ErrorKind::Codec | ErrorKind::Processing) => {
                tracing::warn!(error = %report(&e), "a record emitted downstream failed; emitting the others");
                failed.get_or_insert(e);
                Ok(())
            }
            other => other,
        }
    }

    /// Announces the deletion of a table row to every child.
    pub(crate) fn forward_delete(&mut self, ctx: &mut TaskContext, key: K, timestamp: i64) -> Result<()> {
        match &mut self.targets {
            Targets::One(child) => child.delete(ctx, key, timestamp),
            Targets::None => Ok(()),
            Targets::Many(children) => Self::to_each(children, key, |child, key| child.delete(ctx, key, timestamp)),
        }
    }
}
