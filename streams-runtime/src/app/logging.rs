//! The app's log output: a `tracing` subscriber on stderr, filtered by `RUST_LOG`, as text or
//! as one JSON object per line (for log collectors). librdkafka's own logs arrive through
//! rdkafka's `tracing` integration under the target `librdkafka`.

use tracing_subscriber::EnvFilter;

/// The filter when `RUST_LOG` is not set.
const DEFAULT_FILTER: &str = "info";

/// Installs the subscriber for `format` (`text` or `json`), unless the program installed one
/// already (then this does nothing: the program's choice wins).
pub(super) fn install(format: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // `try_init` fails only when a global subscriber exists: nothing to do then.
    let _ = match format {
        "json" => builder.json().try_init(),
        _ => builder.try_init(),
    };
}
