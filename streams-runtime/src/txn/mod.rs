//! The commit protocol: what a stream thread owns (its tasks and a [`Transport`]) and how their
//! work becomes durable together, or is rolled back together.
//!
//! - [`transport`]: the seam to the broker — what the protocol produces through and commits
//!   with. Production implements it over rdkafka (`kafka::KafkaTransport`), the test driver over
//!   an in-memory log; both run this very code.
//! - [`commit_error`]: a failed produce or commit, classified once by the transport
//!   (abortable, fenced, fatal, a rejected record).
//! - [`thread_state`]: the tasks of one stream thread, records through them, assignment changes.
//! - `commit`: commit, rollback and recovery over them.
//!
//! This module never names rdkafka; it sits above `task`/`state`/`topology` and below `kafka`
//! (which implements [`Transport`]) and `runtime` (which runs threads).

mod commit;
pub(crate) mod commit_error;
pub(crate) mod thread_state;
pub(crate) mod transport;

pub(crate) use commit_error::CommitError;
pub(crate) use thread_state::ThreadState;
pub(crate) use transport::{OutgoingRecord, Positions, Transport};
