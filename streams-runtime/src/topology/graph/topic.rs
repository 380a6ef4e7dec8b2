use crate::naming;

/// A topic a topology reads or writes: a user topic, or an internal one named at run time from
/// the `application.id`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum TopicName {
    External(String),
    Repartition(String),
}

impl TopicName {
    pub(crate) fn resolve(&self, application_id: &str) -> String {
        match self {
            Self::External(name) => name.clone(),
            Self::Repartition(name) => naming::repartition_topic(application_id, name),
        }
    }
}

impl std::fmt::Display for TopicName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::External(name) => f.write_str(name),
            Self::Repartition(name) => f.write_str(&crate::naming::repartition_topic("<application.id>", name)),
        }
    }
}
