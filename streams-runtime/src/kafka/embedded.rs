//! The embedded default broker: librdkafka's in-process mock cluster.
//!
//! Used when no `bootstrap.servers` is configured (demos) and by in-process tests, where it is also
//! the place for fault injection. Facts about it that shape this module (DESIGN.md §4):
//! - admin `CreateTopics` times out against it, so topics are created through its own API;
//! - `read_committed` still returns aborted records, and `TxnOffsetCommit` stores no offsets, so
//!   exactly-once behaviour cannot be observed end to end on it;
//! - `ListGroups` is unsupported.
//!
//! `rdkafka::mocking::MockCluster` is not `Send`, so it lives on a dedicated thread that owns it
//! and executes commands sent through [`EmbeddedCluster`], which can be shared freely.

use std::sync::mpsc;
use std::thread::JoinHandle;

use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::mocking::{MockCluster, MockCoordinator};
use rdkafka::types::{RDKafkaApiKey, RDKafkaErrorCode, RDKafkaRespErr};

use crate::error::{Error, ErrorKind, Result};

type Reply = mpsc::Sender<KafkaResult<()>>;

enum Command {
    BrokerUp {
        broker: i32,
        up: bool,
        reply: Reply,
    },
    CreateTopic {
        name: String,
        partitions: i32,
        reply: Reply,
    },
    RequestErrors {
        api: RDKafkaApiKey,
        errors: Vec<RDKafkaRespErr>,
        reply: Reply,
    },
    ClearRequestErrors {
        api: RDKafkaApiKey,
        reply: Reply,
    },
    PartitionLeader {
        topic: String,
        partition: i32,
        broker: i32,
        reply: Reply,
    },
    GroupCoordinator {
        group: String,
        broker: i32,
        reply: Reply,
    },
    RoundTripTime {
        broker: i32,
        delay: std::time::Duration,
        reply: Reply,
    },
}

/// An in-process Kafka-protocol cluster. Dropping it shuts the brokers down.
pub struct EmbeddedCluster {
    bootstrap_servers: String,
    commands: Option<mpsc::Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl EmbeddedCluster {
    /// Starts a mock cluster of `brokers` brokers listening on loopback ports.
    pub fn start(brokers: i32) -> Result<Self> {
        let (commands, inbox) = mpsc::channel::<Command>();
        let (ready_tx, ready_rx) = mpsc::channel::<KafkaResult<String>>();
        let thread = std::thread::Builder::new()
            .name("embedded-kafka".to_owned())
            .spawn(move || {
                let cluster = match MockCluster::new(brokers) {
                    Ok(cluster) => cluster,
                    Err(err) => {
                        let _ = ready_tx.send(Err(err));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(cluster.bootstrap_servers()));
                // Runs until every sender is dropped.
                for command in inbox {
                    match command {
                        Command::CreateTopic {
                            name,
                            partitions,
                            reply,
                        } => {
                            let _ = reply.send(cluster.create_topic(&name, partitions, 1));
                        }
                        Command::RequestErrors { api, errors, reply } => {
                            cluster.request_errors(api, &errors);
                            let _ = reply.send(Ok(()));
                        }
                        Command::ClearRequestErrors { api, reply } => {
                            cluster.clear_request_errors(api);
                            let _ = reply.send(Ok(()));
                        }
                        Command::PartitionLeader {
                            topic,
                            partition,
                            broker,
                            reply,
                        } => {
                            let _ = reply.send(cluster.partition_leader(&topic, partition, Some(broker)));
                        }
                        Command::GroupCoordinator { group, broker, reply } => {
                            let _ = reply.send(cluster.coordinator(MockCoordinator::Group(group), broker));
                        }
                        Command::RoundTripTime { broker, delay, reply } => {
                            let _ = reply.send(cluster.broker_round_trip_time(broker, delay));
                        }
                        Command::BrokerUp { broker, up, reply } => {
                            let _ = reply.send(if up {
                                cluster.broker_up(broker)
                            } else {
                                cluster.broker_down(broker)
                            });
                        }
                    }
                }
            })
            .map_err(|e| Error::io("failed to spawn the embedded Kafka broker thread", e))?;
        let bootstrap_servers = ready_rx
            .recv()
            .map_err(|_| {
                Error::new(
                    ErrorKind::Kafka,
                    "the embedded Kafka broker thread exited during start-up",
                )
            })?
            .map_err(|e| Error::kafka("failed to start the embedded Kafka broker", e))?;
        Ok(Self {
            bootstrap_servers,
            commands: Some(commands),
            thread: Some(thread),
        })
    }

    /// The `bootstrap.servers` string clients use to reach this cluster.
    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap_servers
    }

    /// Creates `name` with `partitions` partitions through the mock's own API (admin requests
    /// time out against the mock cluster). Creating an existing topic is not an error.
    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        self.call(|reply| Command::CreateTopic {
            name: name.to_owned(),
            partitions,
            reply,
        })
        .or_else(|e| match e {
            KafkaError::MockCluster(RDKafkaErrorCode::TopicAlreadyExists) => Ok(()),
            other => Err(other),
        })
        .map_err(|e| Error::kafka(format!("failed to create topic `{name}` on the embedded broker"), e))
    }

    /// Makes the next requests of kind `api` fail with `errors`, one error per request, in order.
    pub fn inject_request_errors(&self, api: RDKafkaApiKey, errors: &[RDKafkaRespErr]) -> Result<()> {
        self.call(|reply| Command::RequestErrors {
            api,
            errors: errors.to_vec(),
            reply,
        })
        .map_err(|e| Error::kafka(format!("failed to inject errors for {api:?}"), e))
    }

    /// Removes errors injected with [`inject_request_errors`](Self::inject_request_errors).
    pub fn clear_request_errors(&self, api: RDKafkaApiKey) -> Result<()> {
        self.call(|reply| Command::ClearRequestErrors { api, reply })
            .map_err(|e| Error::kafka(format!("failed to clear injected errors for {api:?}"), e))
    }

    /// Takes broker `broker` (1-based) down or brings it back: clients see Kafka unavailable.
    pub fn set_broker_up(&self, broker: i32, up: bool) -> Result<()> {
        self.call(|reply| Command::BrokerUp { broker, up, reply })
            .map_err(|e| Error::kafka(format!("failed to set broker {broker} up={up}"), e))
    }

    /// Makes broker `broker` (1-based) the leader of `topic`/`partition`.
    pub fn set_partition_leader(&self, topic: &str, partition: i32, broker: i32) -> Result<()> {
        self.call(|reply| Command::PartitionLeader {
            topic: topic.to_owned(),
            partition,
            broker,
            reply,
        })
        .map_err(|e| {
            Error::kafka(
                format!("failed to move `{topic}` partition {partition} to broker {broker}"),
                e,
            )
        })
    }

    /// Makes broker `broker` (1-based) the coordinator of consumer group `group`.
    pub fn set_group_coordinator(&self, group: &str, broker: i32) -> Result<()> {
        self.call(|reply| Command::GroupCoordinator {
            group: group.to_owned(),
            broker,
            reply,
        })
        .map_err(|e| {
            Error::kafka(
                format!("failed to make broker {broker} the coordinator of `{group}`"),
                e,
            )
        })
    }

    /// Delays every answer of broker `broker` (1-based) by `delay`: a slow or distant broker.
    pub fn set_round_trip_time(&self, broker: i32, delay: std::time::Duration) -> Result<()> {
        self.call(|reply| Command::RoundTripTime { broker, delay, reply })
            .map_err(|e| Error::kafka(format!("failed to delay broker {broker}'s answers"), e))
    }

    fn call(&self, command: impl FnOnce(Reply) -> Command) -> KafkaResult<()> {
        let (reply, response) = mpsc::channel();
        let gone = || KafkaError::MockCluster(RDKafkaErrorCode::State);
        self.commands
            .as_ref()
            .ok_or_else(gone)?
            .send(command(reply))
            .map_err(|_| gone())?;
        response.recv().map_err(|_| gone())?
    }
}

impl Drop for EmbeddedCluster {
    fn drop(&mut self) {
        // Closing the channel ends the owner thread, which drops (and stops) the mock cluster.
        self.commands.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl std::fmt::Debug for EmbeddedCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddedCluster")
            .field("bootstrap_servers", &self.bootstrap_servers)
            .finish()
    }
}
