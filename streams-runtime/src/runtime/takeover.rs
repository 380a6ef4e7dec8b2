//! Who takes a task over when the instance running it dies: where its standby should be.
//!
//! Kafka Streams' own assignor hands a dead instance's tasks to the instances keeping their
//! standbys. librdkafka's assignors cannot be replaced, so here it is the other way round: the
//! standby goes where the group's assignor will put the task. With librdkafka's default
//! strategy (`range`, first of `range,roundrobin`) that is computable: for each topic, the
//! members sorted by member id take consecutive ranges of partitions, the first
//! `partitions % members` of them one more than the others. When an instance dies its stream
//! threads' consumers leave the group, and the range assignment of the remaining members says
//! which consumer — so which instance — gets each of its tasks.
//!
//! The members come from the group coordinator (DescribeGroups: member and client ids); a
//! stream thread's client id names its instance's process id, as Kafka Streams' does
//! (`<application.id>-<process id>-StreamThread-<n>-consumer`). Where the prediction does not
//! hold (another assignment strategy, the broker-side `group.protocol=consumer`, a
//! `client.rack`, static membership, which sorts by `group.instance.id`, or no answer from the
//! coordinator) the caller falls back to rendezvous placement.

use std::time::{Duration, Instant};

use crate::config::StreamsConfig;
use crate::error::Result;
use crate::kafka::{InstanceClients, group_members};

/// A stream thread consumer's client id: `<application.id>-<process id>-StreamThread-<n>-consumer`
/// (`index` from 0).
pub(crate) fn stream_thread_client_id(application_id: &str, process_id: &str, index: usize) -> String {
    format!("{application_id}-{process_id}-StreamThread-{}-consumer", index + 1)
}

/// The process id in a stream thread consumer's client id of application `application_id`;
/// `None` for any other client.
pub(crate) fn process_of_client_id<'a>(application_id: &str, client_id: &'a str) -> Option<&'a str> {
    let rest = client_id.strip_prefix(application_id)?.strip_prefix('-')?;
    let (process, thread) = rest.strip_suffix("-consumer")?.rsplit_once("-StreamThread-")?;
    (!process.is_empty() && thread.parse::<u32>().is_ok()).then_some(process)
}

/// A consumer of the application's group: its member id (the range assignor's sort key) and
/// the process id of its instance.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct GroupConsumer {
    pub(crate) member_id: String,
    pub(crate) process_id: String,
}

/// The process that the range assignor gives `partition` (of `partitions`) to once the
/// consumers of process `dead` left the group; `None` if no consumer remains.
pub(crate) fn range_taker<'a>(
    consumers: &'a [GroupConsumer],
    dead: &str,
    partition: i32,
    partitions: i32,
) -> Option<&'a str> {
    let mut survivors: Vec<&GroupConsumer> = consumers.iter().filter(|c| c.process_id != dead).collect();
    survivors.sort_by(|a, b| a.member_id.cmp(&b.member_id));
    let index = range_owner(survivors.len(), partition, partitions)?;
    Some(survivors[index].process_id.as_str())
}

/// The index (in member-id order) of the consumer the range assignor gives `partition` to,
/// among `members` consumers of a topic with `partitions` partitions.
fn range_owner(members: usize, partition: i32, partitions: i32) -> Option<usize> {
    let (members, partition, partitions) = (
        i64::try_from(members).ok()?,
        i64::from(partition),
        i64::from(partitions),
    );
    if members == 0 || !(0..partitions).contains(&partition) {
        return None;
    }
    let (per, extra) = (partitions / members, partitions % members);
    // The first `extra` members hold `per + 1` partitions each, the rest `per`.
    let index = if partition < extra * (per + 1) {
        partition / (per + 1)
    } else {
        extra + (partition - extra * (per + 1)) / per
    };
    usize::try_from(index).ok()
}

/// Describes the application's group: (member id, client id) per member.
pub(crate) type DescribeGroup = Box<dyn FnMut() -> Result<Vec<(String, String)>> + Send>;

/// How long a description of the group is used: members change only when the group
/// rebalances, and standbys follow within this.
const REFRESH: Duration = Duration::from_secs(2);
/// How long to wait after the coordinator did not answer (or cannot: librdkafka's mock cluster
/// has no DescribeGroups), placing by rendezvous meanwhile.
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(30);

/// The application group's stream thread consumers, described at most every [`REFRESH`].
pub(crate) struct GroupWatch {
    application_id: String,
    describe: DescribeGroup,
    /// The last description, and when to describe again.
    last: Option<(Vec<GroupConsumer>, Instant)>,
}

/// How long one description of the group may take (the standby thread waits for it).
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(2);

/// A watch of the instance's group, if the group's assignment can be predicted: the range
/// strategy (librdkafka's default, `range,roundrobin`) and dynamic membership.
pub(crate) fn watch_for_instance(
    clients: &InstanceClients,
    application_id: &str,
    config: &StreamsConfig,
) -> Result<Option<GroupWatch>> {
    let consumer_settings = clients.consumer();
    let strategy = consumer_settings
        .get("partition.assignment.strategy")
        .unwrap_or("range");
    // The broker assigns under the next-generation protocol (KIP-848); a client rack makes
    // librdkafka's range assignor rack-aware; static members sort by their instance ids.
    let broker_assigns = consumer_settings
        .get("group.protocol")
        .is_some_and(|p| p.eq_ignore_ascii_case("consumer"));
    let rack_aware = consumer_settings.get("client.rack").is_some_and(|r| !r.is_empty());
    let static_membership = config.group_instance_id().is_some();
    if !strategy.trim_start().starts_with("range") || broker_assigns || rack_aware || static_membership {
        tracing::info!(
            strategy,
            broker_assigns,
            rack_aware,
            static_membership,
            "standbys are placed by rendezvous: who takes a task over is predicted only for librdkafka's range assignor without racks and dynamic membership"
        );
        return Ok(None);
    }
    let settings = clients.common.clone();
    let group = application_id.to_owned();
    // A client that failed is replaced by a new one (with a fresh OAUTHBEARER token: nothing
    // polls this client for token refreshes).
    let mut client = None;
    let describe: DescribeGroup = Box::new(move || {
        let consumer = match client.take() {
            Some(consumer) => consumer,
            None => settings.consumer("the client that describes the application's group")?,
        };
        let members = group_members(&consumer, &group, DESCRIBE_TIMEOUT)?;
        client = Some(consumer);
        Ok(members)
    });
    Ok(Some(GroupWatch::new(application_id, describe)))
}

impl GroupWatch {
    pub(crate) fn new(application_id: &str, describe: DescribeGroup) -> Self {
        Self {
            application_id: application_id.to_owned(),
            describe,
            last: None,
        }
    }

    /// The group's stream thread consumers; `None` if the coordinator's last answer failed.
    pub(crate) fn consumers(&mut self) -> Option<&[GroupConsumer]> {
        let now = Instant::now();
        if self.last.as_ref().is_none_or(|(_, next)| now >= *next) {
            self.last = Some(match (self.describe)() {
                Ok(members) => (self.stream_threads(members), now + REFRESH),
                Err(e) => {
                    tracing::debug!(error = %crate::error::report(&e), "the group is not described; standbys placed by rendezvous");
                    (Vec::new(), now + RETRY_AFTER_FAILURE)
                }
            });
        }
        self.last
            .as_ref()
            .map(|(consumers, _)| consumers.as_slice())
            .filter(|c| !c.is_empty())
    }

    fn stream_threads(&self, members: Vec<(String, String)>) -> Vec<GroupConsumer> {
        members
            .into_iter()
            .filter_map(|(member_id, client_id)| {
                let process_id = process_of_client_id(&self.application_id, &client_id)?.to_owned();
                Some(GroupConsumer { member_id, process_id })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_ids_name_the_process_and_are_read_back() {
        let id = stream_thread_client_id("clicks-app", "7f3c-a1", 1);
        assert_eq!(id, "clicks-app-7f3c-a1-StreamThread-2-consumer");
        assert_eq!(process_of_client_id("clicks-app", &id), Some("7f3c-a1"));
        // Another application's threads, and other clients, are not ours.
        assert_eq!(process_of_client_id("clicks-app2", &id), None);
        assert_eq!(process_of_client_id("clicks-app", "clicks-app-restore-consumer"), None);
        assert_eq!(
            process_of_client_id("clicks-app", "clicks-app--StreamThread-1-consumer"),
            None
        );
        assert_eq!(process_of_client_id("clicks-app", "rdkafka"), None);
    }

    /// The range assignment written out: member `i` (in member-id order) gets these partitions.
    fn ranges(members: usize, partitions: i32) -> Vec<Vec<i32>> {
        let mut owned = vec![Vec::new(); members];
        for p in 0..partitions {
            owned[range_owner(members, p, partitions).expect("an owner")].push(p);
        }
        owned
    }

    #[test]
    fn the_range_assignor_gives_consecutive_ranges_the_first_members_one_more() {
        assert_eq!(ranges(2, 6), [vec![0, 1, 2], vec![3, 4, 5]]);
        assert_eq!(ranges(3, 6), [vec![0, 1], vec![2, 3], vec![4, 5]]);
        assert_eq!(ranges(4, 6), [vec![0, 1], vec![2, 3], vec![4], vec![5]]);
        assert_eq!(ranges(4, 7), [vec![0, 1], vec![2, 3], vec![4, 5], vec![6]]);
        assert_eq!(ranges(5, 3), [vec![0], vec![1], vec![2], vec![], vec![]]);
        assert_eq!(ranges(1, 3), [vec![0, 1, 2]]);
        assert_eq!(range_owner(0, 0, 3), None);
        assert_eq!(range_owner(2, 3, 3), None);
    }

    #[test]
    fn the_taker_is_found_among_the_survivors_in_member_id_order() {
        let consumer = |member: &str, process: &str| GroupConsumer {
            member_id: member.to_owned(),
            process_id: process.to_owned(),
        };
        // Three instances (listed out of order); c runs two stream threads.
        let group = [
            consumer("m-5", "c"),
            consumer("m-1", "a"),
            consumer("m-3", "b"),
            consumer("m-4", "c"),
        ];
        // Without a: b (m-3) takes 0-1, c (m-4) 2-3, c (m-5) 4-5.
        let takers: Vec<_> = (0..6).map(|p| range_taker(&group, "a", p, 6)).collect();
        assert_eq!(
            takers,
            [Some("b"), Some("b"), Some("c"), Some("c"), Some("c"), Some("c")]
        );
        // Without c: a (m-1) takes 0-2, b (m-3) 3-5.
        assert_eq!(range_taker(&group, "c", 2, 6), Some("a"));
        assert_eq!(range_taker(&group, "c", 3, 6), Some("b"));
        assert_eq!(range_taker(&[consumer("m-1", "a")], "a", 0, 6), None);
    }

    #[test]
    fn the_watch_keeps_the_stream_threads_and_falls_back_when_the_group_is_not_described() {
        let mut watch = GroupWatch::new(
            "app",
            Box::new(|| {
                Ok(vec![
                    ("m-2".to_owned(), stream_thread_client_id("app", "p2", 0)),
                    ("m-9".to_owned(), "app-restore-reader".to_owned()),
                ])
            }),
        );
        let expected = [GroupConsumer {
            member_id: "m-2".to_owned(),
            process_id: "p2".to_owned(),
        }];
        assert_eq!(watch.consumers(), Some(&expected[..]));
        let mut failing = GroupWatch::new(
            "app",
            Box::new(|| Err(crate::error::Error::new(crate::error::ErrorKind::Kafka, "unsupported"))),
        );
        assert_eq!(failing.consumers(), None);
    }
}
