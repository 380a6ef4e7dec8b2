use std::fmt;
use std::str::FromStr;

use super::ConfigError;

/// `processing.guarantee`: what happens to records around a failure.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum ProcessingGuarantee {
    /// `at_least_once`: no record is lost; after a crash some may be processed twice.
    #[default]
    AtLeastOnce,
    /// `exactly_once_v2`: outputs, state and input offsets commit atomically in one Kafka
    /// transaction per stream thread (KIP-447).
    ExactlyOnceV2,
}

impl FromStr for ProcessingGuarantee {
    type Err = ConfigError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "at_least_once" => Ok(Self::AtLeastOnce),
            "exactly_once_v2" => Ok(Self::ExactlyOnceV2),
            "exactly_once" | "exactly_once_beta" => Err(ConfigError::Invalid {
                key: "processing.guarantee",
                reason: format!("`{s}` was removed in Kafka 4.0; use `exactly_once_v2`"),
            }),
            other => Err(ConfigError::Invalid {
                key: "processing.guarantee",
                reason: format!("`{other}` is not one of `at_least_once`, `exactly_once_v2`"),
            }),
        }
    }
}

impl fmt::Display for ProcessingGuarantee {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::AtLeastOnce => "at_least_once",
            Self::ExactlyOnceV2 => "exactly_once_v2",
        })
    }
}
