//! The app in one process for tests and benchmarks (broker, topics, demo input, the streams
//! runtime and the standard query server with the app's routes), and the demo input producer
//! the `click-aggregator` binary (the generated `pipeline::app()`) runs too.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use kafka_streams::config::{ProcessingGuarantee, StreamsConfig};
use kafka_streams::kafka::{KafkaCluster, TopicSpec};
use kafka_streams::{KafkaStreams, Result};
use rdkafka::producer::{FutureProducer, FutureRecord};
use tokio::sync::watch;

use super::{APPLICATION_ID, DemoClicks, INPUT_TOPIC, OUTPUT_TOPIC, PARTITIONS};

/// What to run.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Kafka to use; `None` starts the embedded broker.
    pub bootstrap_servers: Option<String>,
    /// Where the query server listens (port 0 picks a free one).
    pub http_addr: SocketAddr,
    /// `state.dir`; `None` uses the default.
    pub state_dir: Option<PathBuf>,
    /// `processing.guarantee`.
    pub processing_guarantee: ProcessingGuarantee,
    /// Further Kafka Streams / librdkafka properties, `key=value`.
    pub properties: Vec<(String, String)>,
    /// Demo clicks produced per second; 0 produces none.
    pub demo_clicks_per_second: u32,
    /// Stop producing demo clicks after this many.
    pub demo_clicks_max: Option<u64>,
    /// Number of distinct demo users.
    pub demo_users: u64,
}

/// A running app.
pub struct RunningApp {
    /// The streams runtime (state, metrics).
    pub streams: Arc<KafkaStreams>,
    /// Demo clicks produced so far.
    pub produced: Arc<AtomicU64>,
    /// The bound query-server address.
    pub http_addr: SocketAddr,
    stop: watch::Sender<bool>,
}

impl RunningApp {
    /// Starts everything and returns once the query server is listening.
    pub async fn start(options: AppOptions) -> Result<Self> {
        let cluster = KafkaCluster::connect(options.bootstrap_servers.as_deref())?;
        cluster
            .create_topics(&[
                TopicSpec::new(INPUT_TOPIC, PARTITIONS),
                TopicSpec::new(OUTPUT_TOPIC, PARTITIONS),
            ])
            .await?;
        // The seed walkthrough commits every second; explicit settings override it.
        let mut config = StreamsConfig::builder(APPLICATION_ID)
            .processing_guarantee(options.processing_guarantee)
            .commit_interval(Duration::from_secs(1));
        // The embedded broker's data dies with the process, so local state must not outlive it
        // either: a later run would find checkpoints for topics that no longer exist.
        let state_dir = options.state_dir.clone().or_else(|| {
            options
                .bootstrap_servers
                .is_none()
                .then(|| std::env::temp_dir().join(format!("kafka-streams-embedded-{}", std::process::id())))
        });
        if let Some(dir) = &state_dir {
            config = config.state_dir(dir);
        }
        for (key, value) in &options.properties {
            config = config.set(key, value);
        }
        let streams = Arc::new(KafkaStreams::start_on(super::topology(), config.build()?, cluster.clone()).await?);

        let (stop, stopped) = watch::channel(false);
        let mut http_stop = stopped.clone();
        let http_addr =
            kafka_streams::server::serve_with(Arc::clone(&streams), options.http_addr, super::routes, async move {
                let _ = http_stop.changed().await;
            })
            .await?;
        let produced = Arc::new(AtomicU64::new(0));
        if options.demo_clicks_per_second > 0 {
            let input = DemoInput {
                per_second: options.demo_clicks_per_second,
                max: options.demo_clicks_max,
                users: options.demo_users,
            };
            tokio::spawn(produce_demo_clicks(cluster, input, Arc::clone(&produced), stopped));
        }
        Ok(Self {
            streams,
            produced,
            http_addr,
            stop,
        })
    }

    /// Stops the demo input and query server, then commits and closes the runtime.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.stop.send(true);
        self.streams.close().await
    }

    /// A one-line progress report.
    pub fn progress(&self) -> String {
        let m = self.streams.metrics();
        format!(
            "produced {} demo clicks; processed {} (skipped {}, late {}), {} commits (avg {:?}), restored {} changelog records, tasks {:?}",
            self.produced.load(Ordering::Relaxed),
            m.records_processed,
            m.records_skipped,
            m.dropped_late_records,
            m.commits,
            m.commit_latency_avg,
            m.records_restored,
            self.streams
                .active_tasks()
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>(),
        )
    }
}

/// How many demo clicks to produce.
#[derive(Clone, Copy, Debug)]
pub struct DemoInput {
    /// Clicks per second.
    pub per_second: u32,
    /// Stop after this many.
    pub max: Option<u64>,
    /// Distinct users.
    pub users: u64,
}

/// Produces deterministic demo clicks at a steady rate, keyed by user id, until `max` or `stop`.
pub async fn produce_demo_clicks(
    cluster: KafkaCluster,
    options: DemoInput,
    produced: Arc<AtomicU64>,
    mut stop: watch::Receiver<bool>,
) {
    let producer: FutureProducer = match cluster
        .client_config()
        .set("partitioner", kafka_streams::partitioner::RDKAFKA_PARTITIONER)
        .set("client.id", format!("{APPLICATION_ID}-demo-input"))
        .create()
    {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the demo input producer");
            return;
        }
    };
    let batch = u64::from(options.per_second.div_ceil(10));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut clicks = DemoClicks::new(options.users);
    let limit = options.max.unwrap_or(u64::MAX);
    let mut sent = 0u64;
    while sent < limit {
        tokio::select! {
            _ = stop.changed() => return,
            _ = tick.tick() => {}
        }
        let mut deliveries = Vec::new();
        for click in clicks.by_ref().take(batch.min(limit - sent) as usize) {
            let payload = serde_json::to_vec(&click).unwrap_or_default();
            let record = FutureRecord::to(INPUT_TOPIC)
                .key(&click.user_id)
                .payload(&payload)
                .timestamp(click.event_time_ms());
            match producer.send_result(record) {
                Ok(delivery) => deliveries.push(delivery),
                Err((e, _)) => tracing::warn!(error = %e, "demo click not queued"),
            }
            sent += 1;
        }
        for delivery in deliveries {
            match delivery.await {
                Ok(Ok(_)) => {
                    produced.fetch_add(1, Ordering::Relaxed);
                }
                Ok(Err((e, _))) => tracing::warn!(error = %e, "demo click not delivered"),
                Err(_) => tracing::warn!("demo click producer closed"),
            }
        }
    }
}
