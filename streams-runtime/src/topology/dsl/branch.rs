//! `split`/`branch`: one stream into several by predicates, each record to the first branch
//! whose predicate holds (Kafka Streams' `split().branch(..).defaultBranch()`).

use std::sync::Arc;

use crate::error::Result;
use crate::processor::{Data, Record, TaskContext};
use crate::topology::dsl::kstream::KStream;
use crate::topology::graph;
use crate::topology::graph::node::{Children, Forward, Node, NodeFactory, TaskBuild};

type Predicate<K, V> = Arc<dyn Fn(&K, &V) -> bool + Send + Sync>;

/// A stream being split: add branches, then finish with [`default_branch`](Self::default_branch)
/// or [`no_default_branch`](Self::no_default_branch).
pub struct BranchedKStream<K, V> {
    stream: KStream<K, V>,
    predicates: Vec<Predicate<K, V>>,
}

impl<K: Data, V: Data> KStream<K, V> {
    /// Splits the stream by predicates (see [`BranchedKStream`]).
    ///
    /// ```
    /// # use kafka_streams::topology::StreamsBuilder;
    /// let builder = StreamsBuilder::new();
    /// let [large, small, rest] = builder
    ///     .stream::<String, i64>("amounts")
    ///     .split()
    ///     .branch(|_, amount| *amount >= 1_000)
    ///     .branch(|_, amount| *amount > 0)
    ///     .default_branch()
    ///     .try_into()
    ///     .unwrap_or_else(|_| unreachable!("two branches and the default"));
    /// large.to("large-amounts");
    /// small.to("small-amounts");
    /// rest.to("other-amounts");
    /// ```
    pub fn split(&self) -> BranchedKStream<K, V> {
        BranchedKStream {
            stream: self.clone_handle(),
            predicates: Vec::new(),
        }
    }
}

impl<K: Data, V: Data> BranchedKStream<K, V> {
    /// A branch for the records `predicate` accepts (and no earlier branch took).
    #[must_use]
    pub fn branch(mut self, predicate: impl Fn(&K, &V) -> bool + Send + Sync + 'static) -> Self {
        self.predicates.push(Arc::new(predicate));
        self
    }

    /// The branches in declaration order, then one for every record no branch took.
    pub fn default_branch(mut self) -> Vec<KStream<K, V>> {
        self.predicates.push(Arc::new(|_, _| true));
        self.finish()
    }

    /// The branches in declaration order; records no branch takes are dropped.
    pub fn no_default_branch(self) -> Vec<KStream<K, V>> {
        self.finish()
    }

    fn finish(self) -> Vec<KStream<K, V>> {
        let outputs: Vec<Children<K, V>> = self.predicates.iter().map(|_| Children::default()).collect();
        self.stream.children.add(Arc::new(Branch {
            predicates: self.predicates.clone(),
            outputs: outputs.clone(),
        }));
        let mut g = graph::lock(&self.stream.graph);
        let split = g.add_node(
            "BRANCH",
            None,
            self.stream.sub,
            Some(self.stream.node),
            format!("branches: {}", outputs.len()),
        );
        outputs
            .into_iter()
            .map(|children| {
                let node = g.add_node("BRANCH-CHILD", None, self.stream.sub, Some(split), String::new());
                KStream {
                    graph: Arc::clone(&self.stream.graph),
                    node,
                    sub: self.stream.sub,
                    children,
                    key_changed: self.stream.key_changed,
                    partition_codec: self.stream.partition_codec.clone(),
                }
            })
            .collect()
    }
}

struct Branch<K, V> {
    predicates: Vec<Predicate<K, V>>,
    outputs: Vec<Children<K, V>>,
}

struct BranchProcessor<K, V> {
    predicates: Vec<Predicate<K, V>>,
    outputs: Vec<Forward<K, V>>,
}

impl<K: Data, V: Data> NodeFactory<K, V> for Branch<K, V> {
    fn instantiate(&self, build: &TaskBuild<'_>) -> Result<Box<dyn Node<K, V>>> {
        Ok(Box::new(BranchProcessor {
            predicates: self.predicates.clone(),
            outputs: self
                .outputs
                .iter()
                .map(|c| c.instantiate(build))
                .collect::<Result<_>>()?,
        }))
    }
}

impl<K: Data, V: Data> Node<K, V> for BranchProcessor<K, V> {
    fn process(&mut self, ctx: &mut TaskContext, record: Record<K, V>) -> Result<()> {
        let taken = self.predicates.iter().position(|p| p(&record.key, &record.value));
        match taken.and_then(|i| self.outputs.get_mut(i)) {
            Some(output) => output.forward(ctx, record),
            None => Ok(()),
        }
    }
}
