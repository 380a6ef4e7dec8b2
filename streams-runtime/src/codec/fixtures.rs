//! A value the codecs' unit tests encode and decode.

/// A click with a string, a negative-capable number and bytes.
#[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub(super) struct Click {
    pub(super) user: String,
    pub(super) at: i64,
    pub(super) tags: Vec<u8>,
}
