//! Wiring of the whole demo app: broker, topics, demo input, pipeline and query server.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use rdkafka::producer::{FutureProducer, FutureRecord};
use streams_runtime::kafka::{KafkaCluster, TopicSpec};
use streams_runtime::{Error, ErrorKind, Result};
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::{APPLICATION_ID, ClickCounts, DemoClicks, INPUT_TOPIC, OUTPUT_TOPIC, PARTITIONS, PipelineStats};

/// What to run.
#[derive(Clone, Debug)]
pub struct AppOptions {
    /// Kafka to use; `None` starts the embedded broker.
    pub bootstrap_servers: Option<String>,
    /// Where the query server listens (port 0 picks a free one).
    pub http_addr: SocketAddr,
    /// Demo clicks produced per second; 0 produces none.
    pub demo_clicks_per_second: u32,
    /// Stop producing demo clicks after this many.
    pub demo_clicks_max: Option<u64>,
    /// Number of distinct demo users.
    pub demo_users: u64,
}

/// A running app: its state, counters and query address.
pub struct RunningApp {
    /// Counted clicks.
    pub counts: Arc<ClickCounts>,
    /// Progress counters.
    pub stats: Arc<PipelineStats>,
    /// Demo clicks produced so far.
    pub produced: Arc<std::sync::atomic::AtomicU64>,
    /// The bound query-server address.
    pub http_addr: SocketAddr,
    /// The cluster in use.
    pub cluster: KafkaCluster,
    shutdown: watch::Sender<bool>,
    pipeline: tokio::task::JoinHandle<Result<()>>,
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
        let counts = Arc::new(ClickCounts::default());
        let stats = Arc::new(PipelineStats::default());
        let produced = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (shutdown, shutdown_rx) = watch::channel(false);

        let listener = TcpListener::bind(options.http_addr).await.map_err(|e| {
            Error::new(ErrorKind::Io, format!("failed to listen on {}", options.http_addr)).with_source(e)
        })?;
        let http_addr = listener
            .local_addr()
            .map_err(|e| Error::new(ErrorKind::Io, "failed to read the bound address").with_source(e))?;
        let router = super::router(Arc::clone(&counts));
        let mut http_shutdown = shutdown_rx.clone();
        tokio::spawn(async move {
            let serve = axum::serve(listener, router).with_graceful_shutdown(async move {
                let _ = http_shutdown.changed().await;
            });
            if let Err(e) = serve.await {
                tracing::error!(error = %e, "query server failed");
            }
        });

        if options.demo_clicks_per_second > 0 {
            tokio::spawn(produce_demo_clicks(
                cluster.clone(),
                options.clone(),
                Arc::clone(&produced),
                shutdown_rx.clone(),
            ));
        }
        let pipeline = tokio::spawn({
            let (cluster, counts, stats) = (cluster.clone(), Arc::clone(&counts), Arc::clone(&stats));
            async move { super::run_pipeline(&cluster, counts, stats, shutdown_rx).await }
        });
        Ok(Self {
            counts,
            stats,
            produced,
            http_addr,
            cluster,
            shutdown,
            pipeline,
        })
    }

    /// Commits, stops every task and returns the pipeline's outcome.
    pub async fn shutdown(self) -> Result<()> {
        let _ = self.shutdown.send(true);
        self.pipeline
            .await
            .map_err(|e| Error::new(ErrorKind::Io, "the pipeline task panicked").with_source(e))?
    }

    /// A one-line progress report.
    pub fn progress(&self) -> String {
        format!(
            "produced {} demo clicks, counted {} clicks in {} user-windows, emitted {} updates to `{OUTPUT_TOPIC}`, skipped {} malformed",
            self.produced.load(Ordering::Relaxed),
            self.stats.processed.load(Ordering::Relaxed),
            self.counts.len(),
            self.stats.emitted.load(Ordering::Relaxed),
            self.stats.malformed.load(Ordering::Relaxed),
        )
    }
}

/// Produces deterministic demo clicks at a steady rate, keyed by user id.
async fn produce_demo_clicks(
    cluster: KafkaCluster,
    options: AppOptions,
    produced: Arc<std::sync::atomic::AtomicU64>,
    mut shutdown: watch::Receiver<bool>,
) {
    let producer: FutureProducer = match cluster
        .client_config()
        .set("partitioner", streams_runtime::partitioner::RDKAFKA_PARTITIONER)
        .set("client.id", format!("{APPLICATION_ID}-demo-input"))
        .create()
    {
        Ok(p) => p,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the demo input producer");
            return;
        }
    };
    let batch = u64::from(options.demo_clicks_per_second.div_ceil(10));
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    let mut clicks = DemoClicks::new(options.demo_users);
    let limit = options.demo_clicks_max.unwrap_or(u64::MAX);
    let mut sent = 0u64;
    while sent < limit {
        tokio::select! {
            _ = shutdown.changed() => return,
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
