//! Compile-fail and compile-pass tests of the macros live in `tests/`; this crate has no code.
