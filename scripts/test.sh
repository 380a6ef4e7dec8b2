#!/usr/bin/env bash
# Runs the whole test suite: the release gates (formatting, lints, docs, dependency policy, the
# minimum supported Rust version), then unit, integration (Apache Kafka broker processes and the
# mock cluster), examples, ui-tests and doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
# Release gates first (seconds when the target dir is warm), warnings denied.
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
# A build of one package, or without dev-dependencies, resolves the build tools' features
# (bindgen's syn, itertools...) apart from the one above, which builds librocksdb-sys again and
# would compile RocksDB's C++ once more (8 minutes each): such builds link the archive the
# workspace build made (ROCKSDB_LIB_DIR), as ui-tests do.
rocksdb_lib="$(dirname "$(ls -t "$CARGO_TARGET_DIR"/debug/build/librocksdb-sys-*/out/librocksdb.a | head -1)")"
with_built_rocksdb() { ROCKSDB_LIB_DIR="$rocksdb_lib" ROCKSDB_STATIC=1 "$@"; }
# The runtime as a production binary gets it: without the `test-util` test support (with `ssl`,
# as the examples build it, so librdkafka's build is the workspace's, not one more).
with_built_rocksdb cargo clippy -p kafka-streams --lib --features ssl -- -D warnings
# Without its default features (RocksDB, HTTP server and client, clap, embedded broker) the
# runtime builds warning-free, and a #[topology] app on it compiles: cargo enables only what
# the selected package asks for (`ssl` and `zstd`, as everywhere here: one librdkafka build).
cargo clippy -p kafka-streams --no-default-features --features ssl,zstd --lib -- -D warnings
cargo clippy -p without-default-features -- -D warnings
# Its persistent stores live in memory without RocksDB: a crash must find them again through
# their changelogs (the test driver, with only `test-util` added to those features).
cargo test -p without-default-features
with_built_rocksdb env RUSTDOCFLAGS=-Dwarnings cargo doc --workspace --no-deps
# Licenses, duplicate crates and sources (deny.toml). Advisories need the RustSec database from
# GitHub, which these machines cannot reach: run `cargo deny check advisories` where it can.
cargo deny check licenses bans sources
# The tests' build first (the lanes below then only run binaries)...
cargo test --workspace --exclude without-default-features --all-targets --no-run
# ...while the published crates build on their declared rust-version (RocksDB's archive linked,
# as above), in a target directory of their own: beside the tests, which mostly wait.
msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
msrv_log="$(mktemp)"
with_built_rocksdb env CARGO_TARGET_DIR="$CARGO_TARGET_DIR/msrv" \
  cargo "+$msrv" check --locked --quiet -p kafka-streams-naming -p kafka-streams -p kafka-streams-macros \
    --features kafka-streams/ssl,kafka-streams/schema-registry > "$msrv_log" 2>&1 &
msrv_check=$!
# (without-default-features ran above, with its own features.)
scripts/test-lanes.sh
if ! wait "$msrv_check"; then
  cat "$msrv_log"
  echo "the MSRV check (Rust $msrv) failed" >&2
  exit 1
fi
cargo test --workspace --doc
# `cargo run --example click_aggregator` (README): built as a binary (the test run built it
# with the test harness), with the workspace's features so nothing else is rebuilt, and run:
# it answers --help with the app's flags.
cargo build --workspace --examples --exclude without-default-features --quiet
"$CARGO_TARGET_DIR/debug/examples/click_aggregator" --help | grep -- '--bootstrap-servers' > /dev/null
