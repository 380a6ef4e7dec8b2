use std::time::Duration;

use super::*;

#[test]
fn defaults_match_kafka_streams() {
    let config = StreamsConfig::builder("app").build().unwrap();
    assert_eq!(config.application_id(), "app");
    assert_eq!(config.bootstrap_servers(), None);
    assert_eq!(config.processing_guarantee(), ProcessingGuarantee::AtLeastOnce);
    assert_eq!(config.commit_interval(), Duration::from_secs(30));
    assert_eq!(config.num_stream_threads(), 1);
    assert_eq!(config.cache_max_bytes_buffering(), 10 * 1024 * 1024);
    assert_eq!(config.num_standby_replicas(), 0);
    assert_eq!(config.repartition_purge_interval(), Duration::from_secs(30));
    assert_eq!(config.max_task_idle(), Some(Duration::ZERO));
    assert_eq!(config.task_timeout(), Duration::from_secs(300));
    assert!(config.state_dir().ends_with("kafka-streams"));
}

#[test]
fn exactly_once_shortens_default_commit_interval() {
    let config = StreamsConfig::builder("app")
        .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
        .build()
        .unwrap();
    assert_eq!(config.commit_interval(), Duration::from_millis(100));
}

#[test]
fn string_properties_parse_and_pass_through() {
    let config = StreamsConfig::builder("")
        .set("application.id", "clicks")
        .set("bootstrap.servers", "k1:9092,k2:9092")
        .set("processing.guarantee", "exactly_once_v2")
        .set("commit.interval.ms", "250")
        .set("repartition.purge.interval.ms", "1000")
        .set("num.standby.replicas", "1")
        .set("max.task.idle.ms", "-1")
        .set("security.protocol", "ssl")
        .build()
        .unwrap();
    assert_eq!(config.max_task_idle(), None);
    assert_eq!(config.application_id(), "clicks");
    assert_eq!(config.bootstrap_servers(), Some("k1:9092,k2:9092"));
    assert_eq!(config.commit_interval(), Duration::from_millis(250));
    assert_eq!(config.repartition_purge_interval(), Duration::from_secs(1));
    assert_eq!(config.num_standby_replicas(), 1);
    assert_eq!(
        config.kafka_properties().get("security.protocol").map(String::as_str),
        Some("ssl")
    );
}

#[test]
fn bad_values_are_rejected_with_the_setting_named() {
    let cases: Vec<(StreamsConfigBuilder, &str)> = vec![
        (StreamsConfig::builder(""), "`application.id` is required"),
        (StreamsConfig::builder("my app"), "invalid `application.id`"),
        (
            StreamsConfig::builder("a").set("num.stream.threads", "two"),
            "`num.stream.threads` must be",
        ),
        (
            StreamsConfig::builder("a").num_stream_threads(0),
            "`num.stream.threads`: it must be at least 1",
        ),
        (
            StreamsConfig::builder("a").set("commit.interval.ms", "0"),
            "`commit.interval.ms`",
        ),
        (
            StreamsConfig::builder("a").set("processing.guarantee", "exactly_once"),
            "use `exactly_once_v2`",
        ),
        (
            StreamsConfig::builder("a").set("max.task.idle.ms", "-2"),
            "invalid `max.task.idle.ms`: it must be -1",
        ),
        (
            StreamsConfig::builder("a").set("processing.guarantee", "yolo"),
            "`yolo` is not one of",
        ),
        (
            StreamsConfig::builder("a").bootstrap_servers(" "),
            "invalid `bootstrap.servers`",
        ),
        (
            StreamsConfig::builder("a").application_server("nohost"),
            "is not `host:port`",
        ),
        (
            StreamsConfig::builder("a").kafka_property("group.id", "x"),
            "use `application.id`",
        ),
        (
            StreamsConfig::builder("a").kafka_property("enable.auto.commit", "true"),
            "use `processing.guarantee`",
        ),
        (
            StreamsConfig::builder("a")
                .processing_guarantee(ProcessingGuarantee::ExactlyOnceV2)
                .kafka_property("enable.idempotence", "false"),
            "require an idempotent producer",
        ),
    ];
    for (builder, expected) in cases {
        let err = builder
            .clone()
            .build()
            .expect_err("configuration should be rejected")
            .to_string();
        assert!(
            err.contains(expected),
            "{builder:?}: `{err}` should contain `{expected}`"
        );
    }
}

#[test]
fn schema_registry_settings_are_read_checked_and_kept_from_librdkafka() {
    let config = StreamsConfig::builder("a")
        .set("schema.registry.url", "http://sr-1:8081/, http://sr-2:8081")
        .set("schema.registry.basic.auth.user.info", "user:s3cret")
        .set("basic.auth.credentials.source", "USER_INFO")
        .build()
        .unwrap();
    let registry = config.schema_registry();
    assert_eq!(registry.urls(), ["http://sr-1:8081", "http://sr-2:8081"]);
    assert_eq!(registry.basic_auth_user_info(), Some("user:s3cret"));
    // librdkafka would reject them as unknown properties.
    assert!(
        config
            .kafka_properties()
            .keys()
            .all(|k| !k.contains("schema") && !k.contains("auth"))
    );
    assert!(!format!("{config:?}").contains("s3cret"));

    // Credentials in a URL move out of it, so it can be logged.
    let config = StreamsConfig::builder("a")
        .set("schema.registry.url", "http://me:pw@sr:8081/api")
        .set("basic.auth.credentials.source", "URL")
        .build()
        .unwrap();
    assert_eq!(config.schema_registry().urls(), ["http://sr:8081/api"]);
    assert_eq!(config.schema_registry().basic_auth_user_info(), Some("me:pw"));

    for (builder, expected) in [
        (
            StreamsConfig::builder("a").set("basic.auth.credentials.source", "SASL_INHERIT"),
            "`SASL_INHERIT` is not supported",
        ),
        (
            StreamsConfig::builder("a").set("schema.registry.url", "sr:8081"),
            "not an `http://`",
        ),
        (
            StreamsConfig::builder("a").set("basic.auth.user.info", "no-colon"),
            "`user:password`",
        ),
        (
            StreamsConfig::builder("a")
                .set("basic.auth.user.info", "u:p")
                .set("bearer.auth.token", "t"),
            "one kind of credentials",
        ),
    ] {
        let err = builder.build().expect_err("rejected").to_string();
        assert!(err.contains(expected), "`{err}` should contain `{expected}`");
    }
}
