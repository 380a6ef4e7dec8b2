//! A map keyed by (topic, partition) that is read with a borrowed topic name: the stream thread
//! asks for a partition's end and lag for every record it merges, and a `(String, i32)` key
//! cost two allocations per record there.

use rustc_hash::FxHashMap;

#[derive(Debug)]
pub(crate) struct PartitionMap<T>(FxHashMap<String, FxHashMap<i32, T>>);

impl<T> Default for PartitionMap<T> {
    fn default() -> Self {
        Self(FxHashMap::default())
    }
}

impl<T> PartitionMap<T> {
    pub(crate) fn get(&self, topic: &str, partition: i32) -> Option<&T> {
        self.0.get(topic)?.get(&partition)
    }

    /// Allocates only for a topic not seen before.
    pub(crate) fn insert(&mut self, topic: &str, partition: i32, value: T) {
        match self.0.get_mut(topic) {
            Some(partitions) => {
                partitions.insert(partition, value);
            }
            None => {
                self.0
                    .insert(topic.to_owned(), FxHashMap::from_iter([(partition, value)]));
            }
        }
    }

    pub(crate) fn clear(&mut self) {
        self.0.clear();
    }
}

impl<T> FromIterator<((String, i32), T)> for PartitionMap<T> {
    fn from_iter<I: IntoIterator<Item = ((String, i32), T)>>(entries: I) -> Self {
        let mut map = Self::default();
        for ((topic, partition), value) in entries {
            map.0.entry(topic).or_default().insert(partition, value);
        }
        map
    }
}

#[cfg(test)]
mod tests {
    use super::PartitionMap;

    #[test]
    fn entries_are_found_by_topic_and_partition_and_replaced() {
        let mut map: PartitionMap<i64> = [(("a".to_owned(), 0), 10), (("a".to_owned(), 1), 11)]
            .into_iter()
            .collect();
        map.insert("b", 0, 20);
        map.insert("a", 1, 12);
        assert_eq!(
            (
                map.get("a", 0),
                map.get("a", 1),
                map.get("b", 0),
                map.get("b", 1),
                map.get("c", 0)
            ),
            (Some(&10), Some(&12), Some(&20), None, None)
        );
        map.clear();
        assert_eq!(map.get("a", 0), None);
    }
}
