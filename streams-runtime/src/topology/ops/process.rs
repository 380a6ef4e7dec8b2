//! Hand-written processors (the Processor API) as nodes of a topology: one instance per task,
//! initialised with its connected stores, punctuated by its task. The DSL (`KStream::process`,
//! `Stores`) is in `dsl/process.rs`.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::error::Result;
use crate::processor::{
    Data, InitContext, Processor, ProcessorContext, Punctuation, PunctuationType, Record, Schedule, TaskContext,
};
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, Punctuate, SharedPunctuator, operator};

/// A node running a hand-written processor: `supplier` makes one per task, initialised with
/// its `stores` (name, window size for window stores); its schedules are registered with the
/// task for punctuation.
pub(crate) fn hand_written<P: Processor<K, V>, K: Data, V: Data>(
    supplier: impl Fn() -> P + Send + Sync + 'static,
    stores: Vec<(String, Option<i64>)>,
    children: Children<P::KeyOut, P::ValueOut>,
) -> Arc<dyn NodeFactory<K, V>> {
    operator(children, move |build, next| {
        let mut processor = supplier();
        let mut schedules = Vec::new();
        let connected = stores
            .iter()
            .map(|(name, size)| Ok((name.as_str(), build.store(name)?, *size)))
            .collect::<Result<Vec<_>>>()?;
        processor.init(&mut InitContext {
            task: build.task,
            stores: connected,
            schedules: &mut schedules,
            wall_clock_ms: build.wall_clock_ms,
        })?;
        let has_schedules = !schedules.is_empty();
        let running = Arc::new(Mutex::new(Running {
            processor,
            next,
            schedules,
            _input: std::marker::PhantomData,
        }));
        if has_schedules {
            let punctuator: SharedPunctuator = running.clone();
            build.punctuators.borrow_mut().push(punctuator);
        }
        Ok(Handle(running))
    })
}

/// One task's instance of a hand-written processor with its children and schedules.
struct Running<P: Processor<K, V>, K, V> {
    processor: P,
    next: Forward<P::KeyOut, P::ValueOut>,
    schedules: Vec<Schedule>,
    _input: std::marker::PhantomData<fn(K, V)>,
}

/// The instance's place in the processor tree; shared with the task when it punctuates.
struct Handle<P: Processor<K, V>, K, V>(Arc<Mutex<Running<P, K, V>>>);

fn lock<T: ?Sized>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl<P: Processor<K, V>, K: Data, V: Data> Node<K, V> for Handle<P, K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let mut running = lock(&self.0);
        let Running { processor, next, .. } = &mut *running;
        let wall_clock_ms = ctx.wall_clock_ms();
        processor.process(
            &mut ProcessorContext {
                task: ctx,
                next,
                wall_clock_ms,
            },
            record,
        )
    }
}

impl<P: Processor<K, V>, K: Data, V: Data> Punctuate for Running<P, K, V> {
    fn punctuate(&mut self, ctx: &mut TaskContext, kind: PunctuationType, now_ms: i64) -> Result<Vec<Duration>> {
        let mut took = Vec::new();
        let Self {
            processor,
            next,
            schedules,
            ..
        } = self;
        let wall_clock_ms = ctx.wall_clock_ms();
        for schedule in schedules.iter_mut().filter(|s| s.kind == kind) {
            if !schedule.fire(now_ms) {
                continue;
            }
            let started = Instant::now();
            processor.punctuate(
                &mut ProcessorContext {
                    task: ctx,
                    next,
                    wall_clock_ms,
                },
                Punctuation {
                    schedule: schedule.id,
                    kind,
                    timestamp: now_ms,
                },
            )?;
            took.push(started.elapsed());
        }
        Ok(took)
    }
}
