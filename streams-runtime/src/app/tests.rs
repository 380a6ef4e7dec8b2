//! The entry point's own behaviour: where settings come from, redaction, runtimes.

use std::time::Duration;

use super::*;
use crate::topology::StreamsBuilder;

fn topology() -> std::result::Result<Topology, TopologyError> {
    let builder = StreamsBuilder::new();
    builder.stream::<String, String>("in").to("out");
    builder.build()
}

fn app() -> App {
    App::new("precedence-app", topology)
        .source_topics(&["in"])
        .sink_topics(&["out"])
}

fn flags(args: &[&str]) -> AppFlags {
    parse_flags(std::iter::once("app").chain(args.iter().copied())).expect("flags")
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
}

/// File < environment < flags, setting by setting; unrelated variables are ignored.
#[test]
fn settings_come_from_the_file_then_the_environment_then_the_flags() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("app.properties");
    std::fs::write(
        &file,
        "bootstrap.servers=file:9092\ncommit.interval.ms=111\nnum.standby.replicas=1\nnum.stream.threads=4\n",
    )
    .expect("write");
    let file_arg = file.display().to_string();
    let flags = flags(&["--config-file", &file_arg, "--config", "num.stream.threads=3"]);
    let config = app()
        .config(
            &flags,
            env(&[
                ("STREAMS_COMMIT_INTERVAL_MS", "222"),
                ("STREAMS_NUM_STREAM_THREADS", "2"),
                ("STREAMS_KAFKA_HOME", "/opt/kafka"),
                ("HOME", "/root"),
            ]),
        )
        .expect("config");
    assert_eq!(config.bootstrap_servers(), Some("file:9092"), "from the file");
    assert_eq!(config.num_standby_replicas(), 1, "from the file");
    assert_eq!(
        config.commit_interval(),
        Duration::from_millis(222),
        "the environment over the file"
    );
    assert_eq!(config.num_stream_threads(), 3, "the flag over both");
    assert!(config.kafka_properties().is_empty(), "{:?}", config.kafka_properties());
    assert!(
        config.state_dir().ends_with("kafka-streams"),
        "a real cluster keeps the default state dir"
    );
}

#[test]
fn a_bad_config_file_is_named_with_its_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("bad.properties");
    std::fs::write(&file, "# settings\ncommit.interval.ms=soon\n").expect("write");
    let file_arg = file.display().to_string();
    let error = app()
        .config(&flags(&["--config-file", &file_arg]), env(&[]))
        .unwrap_err();
    assert!(
        error.report().to_string().contains("`commit.interval.ms` must be"),
        "{error}"
    );
    let missing = app()
        .config(&flags(&["--config-file", "/nonexistent/app.properties"]), env(&[]))
        .unwrap_err();
    assert!(
        missing.report().to_string().contains("/nonexistent/app.properties"),
        "{missing}"
    );
    std::fs::write(&file, "a=1\nb=\\u00\n").expect("write");
    let unparsable = app()
        .config(&flags(&["--config-file", &file_arg]), env(&[]))
        .unwrap_err();
    assert!(unparsable.report().to_string().contains("line 2"), "{unparsable}");
}

/// A password given any way never shows in `Debug` output (what logs and panics print).
#[test]
fn secrets_are_redacted_in_debug_output() {
    let flags = flags(&["--config", "sasl.password=hunter2", "--config", "sasl.username=alice"]);
    let config = app()
        .config(&flags, env(&[("STREAMS_SSL_KEY_PASSWORD", "hunter3")]))
        .expect("config");
    for shown in [format!("{flags:?}"), format!("{config:?}")] {
        assert!(!shown.contains("hunter2") && !shown.contains("hunter3"), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains("alice"), "{shown}");
    }
    let builder = StreamsConfig::builder("a").set("sasl.jaas.config", "password=\"hunter4\"");
    assert!(!format!("{builder:?}").contains("hunter4"));
}

/// `run` inside a runtime says what to use instead of panicking in `block_on`.
#[tokio::test]
async fn run_inside_a_runtime_is_an_error_not_a_panic() {
    let error = app().run_with_flags(flags(&[])).unwrap_err();
    assert!(error.report().to_string().contains("run_async"), "{error}");
}

/// `run_with_flags_async` runs the app inside the caller's runtime (on the embedded broker:
/// this is about the entry point, not Kafka) and returns when `--run-for-secs` is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_app_runs_inside_an_existing_runtime() {
    let started = std::time::Instant::now();
    app()
        .run_with_flags_async(flags(&["--run-for-secs", "1", "--partitions", "1"]))
        .await
        .expect("ran");
    assert!(started.elapsed() >= Duration::from_secs(1));
}

/// `--yes` alone is refused by the parser; `--reset` on the embedded broker says why not.
#[tokio::test]
async fn reset_needs_a_real_cluster_and_yes_needs_reset() {
    assert!(parse_flags(["app", "--yes"]).is_err(), "--yes confirms --reset only");
    let error = app().run_with_flags_async(flags(&["--reset"])).await.unwrap_err();
    assert!(
        error
            .report()
            .to_string()
            .contains("`--reset` needs `bootstrap.servers`"),
        "{error}"
    );
}

/// Without the `cli` feature an app runs with `AppFlags::from_env`: the environment's flag
/// variables, the command line's defaults otherwise (the same defaults clap gives), and a bad
/// value is a configuration error naming the variable.
#[test]
fn flags_from_the_environment_default_like_the_command_line() {
    let defaults = AppFlags::from_vars(env(&[("PATH", "/bin")])).expect("defaults");
    let parsed = flags(&[]);
    assert_eq!(format!("{defaults:?}"), format!("{parsed:?}"));
    let set = AppFlags::from_vars(env(&[
        ("STREAMS_HTTP_ADDR", "127.0.0.1:8081"),
        ("STREAMS_LOG_FORMAT", "json"),
        ("STREAMS_CONFIG_FILE", "/etc/app.properties"),
    ]))
    .expect("flags");
    assert_eq!(set.http_addr, Some(([127, 0, 0, 1], 8081).into()));
    assert_eq!(set.log_format, "json");
    assert_eq!(
        set.config_file.as_deref(),
        Some(std::path::Path::new("/etc/app.properties"))
    );
    let bad = AppFlags::from_vars(env(&[("STREAMS_HTTP_ADDR", "localhost")])).unwrap_err();
    assert_eq!(bad.kind(), ErrorKind::Config);
    assert!(bad.to_string().contains("STREAMS_HTTP_ADDR"), "{bad}");
}
