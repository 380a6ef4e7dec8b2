//! Glue for macro-generated code. Not public API: names here may change in any release.

pub use serde;
pub use serde_json;
