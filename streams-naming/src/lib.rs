//! The one place that names internal topics and knows Kafka's rules for topic names: the
//! `#[topology]` macros call it while expanding (the topic constants they generate, the errors
//! they report) and the runtime when it runs, so both always agree.
//!
//! It also owns [`TaskId`], whose `<subtopology>_<partition>` form names tasks, their state
//! directories and their entries in the membership topic.
//!
//! Names derive from the application id and a user-given store or operation name, never from a
//! node's position in the topology, so editing a topology never orphans state.

#![warn(missing_docs)]

mod task_id;

pub use task_id::TaskId;

/// The compacted changelog topic backing `store`: `<application.id>-<store>-changelog`.
pub fn changelog_topic(application_id: &str, store: &str) -> String {
    format!("{application_id}-{store}-changelog")
}

/// `<application.id>-membership`: the compacted topic where instances publish which tasks they
/// run and where they answer queries.
pub fn membership_topic(application_id: &str) -> String {
    format!("{application_id}-membership")
}

/// The repartition topic for the operation `name`: `<application.id>-<name>-repartition`.
pub fn repartition_topic(application_id: &str, name: &str) -> String {
    format!("{application_id}-{name}-repartition")
}

/// Whether `topic` is named like an internal topic of `application_id`: its membership topic,
/// or `<application.id>-<name>-changelog` / `-repartition` for any name (also one a topology no
/// longer has, or another application's whose id extends this one).
pub fn is_internal_topic(application_id: &str, topic: &str) -> bool {
    topic == membership_topic(application_id)
        || topic
            .strip_prefix(application_id)
            .and_then(|rest| rest.strip_prefix('-'))
            .is_some_and(|rest| rest.ends_with("-changelog") || rest.ends_with("-repartition"))
}

/// Why a string is not a legal Kafka topic name, or `None` if it is.
///
/// Kafka allows 1..=249 characters from `[a-zA-Z0-9._-]` and forbids `.` and `..`.
pub fn topic_name_problem(name: &str) -> Option<String> {
    if name.is_empty() {
        return Some("it is empty; topic names need at least one character".to_owned());
    }
    if name == "." || name == ".." {
        return Some(format!("`{name}` is reserved and cannot be a topic name"));
    }
    if name.len() > MAX_TOPIC_NAME_LEN {
        return Some(format!(
            "`{name}` is {} characters long; topic names may have at most {MAX_TOPIC_NAME_LEN}",
            name.len()
        ));
    }
    name.chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
        .map(|c| format!("`{name}` contains `{c}`; topic names may only use ASCII letters, digits, `.`, `_` and `-`"))
}

/// Kafka's limit on topic name length.
pub const MAX_TOPIC_NAME_LEN: usize = 249;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_topics_follow_kafka_streams_convention() {
        assert_eq!(
            changelog_topic("click-aggregator", "click-counts"),
            "click-aggregator-click-counts-changelog"
        );
        assert_eq!(repartition_topic("app", "by-region"), "app-by-region-repartition");
        assert_eq!(membership_topic("app"), "app-membership");
    }

    #[test]
    fn internal_topics_are_recognised_by_name() {
        assert!(is_internal_topic("app", "app-membership"));
        assert!(is_internal_topic("app", &changelog_topic("app", "counts")));
        assert!(is_internal_topic("app", &repartition_topic("app", "by-region")));
        assert!(!is_internal_topic("app", "app-counts"));
        assert!(!is_internal_topic("app", "other-counts-changelog"));
    }

    #[test]
    fn topic_name_rules() {
        assert_eq!(topic_name_problem("user-clicks"), None);
        assert_eq!(topic_name_problem("a.b_c-1"), None);
        assert!(topic_name_problem("").is_some());
        assert!(topic_name_problem("..").is_some());
        assert!(topic_name_problem("has space").unwrap().contains("` `"));
        assert!(topic_name_problem(&"x".repeat(250)).is_some());
    }
}
