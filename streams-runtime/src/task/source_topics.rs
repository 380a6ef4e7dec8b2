//! Which sub-topology reads a source topic: looked up for every consumed record.

use std::cell::Cell;

use rustc_hash::FxHashMap;

/// The resolved source topics of a topology and the sub-topology reading each.
///
/// A stream thread receives records in runs from one partition (librdkafka hands a fetched batch
/// out record by record), so the entry found last is compared first: one string comparison per
/// record instead of a hash and a probe.
pub(crate) struct SourceTopics {
    /// (topic, sub-topology), in topology order; a topic once (Kafka Streams lets one topic feed
    /// one source only).
    topics: Vec<(String, u32)>,
    /// Topic → its entry in `topics`.
    index: FxHashMap<String, usize>,
    /// The entry the last successful look-up found.
    last: Cell<usize>,
}

impl SourceTopics {
    pub(crate) fn new(topics: impl IntoIterator<Item = (String, u32)>) -> Self {
        let mut this = Self {
            topics: Vec::new(),
            index: FxHashMap::default(),
            last: Cell::new(0),
        };
        for (topic, sub) in topics {
            if !this.index.contains_key(&topic) {
                this.index.insert(topic.clone(), this.topics.len());
                this.topics.push((topic, sub));
            }
        }
        this
    }

    /// The sub-topology reading `topic`; `None` if no source reads it.
    #[inline]
    pub(crate) fn get(&self, topic: &str) -> Option<u32> {
        match self.topics.get(self.last.get()) {
            Some((last, sub)) if last == topic => Some(*sub),
            _ => self.find(topic),
        }
    }

    fn find(&self, topic: &str) -> Option<u32> {
        let entry = *self.index.get(topic)?;
        self.last.set(entry);
        Some(self.topics[entry].1)
    }

    /// Every source topic and its sub-topology, in topology order.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&str, u32)> {
        self.topics.iter().map(|(topic, sub)| (topic.as_str(), *sub))
    }
}

#[cfg(test)]
mod tests {
    use super::SourceTopics;

    /// The shortcut for the last topic never answers for another one: alternating topics, a
    /// topic no source reads, and a topic listed twice all find their own sub-topology.
    #[test]
    fn every_look_up_finds_its_own_topic_whatever_was_looked_up_before() {
        let topics = SourceTopics::new([
            ("clicks".to_owned(), 0),
            ("users".to_owned(), 1),
            ("clicks".to_owned(), 2),
            ("click".to_owned(), 3),
        ]);
        for _ in 0..2 {
            assert_eq!(topics.get("clicks"), Some(0));
            assert_eq!(topics.get("clicks"), Some(0));
            assert_eq!(topics.get("users"), Some(1));
            assert_eq!(topics.get("click"), Some(3));
            assert_eq!(topics.get("clicksx"), None);
            assert_eq!(topics.get(""), None);
        }
        assert_eq!(
            topics.iter().collect::<Vec<_>>(),
            [("clicks", 0), ("users", 1), ("click", 3)]
        );
        assert_eq!(SourceTopics::new([]).get("clicks"), None);
    }
}
