#!/usr/bin/env bash
# Runs the whole test suite: formatting and lint gates, unit, integration (Apache Kafka broker
# processes and the mock cluster), examples, ui-tests, doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
# Release gates first (seconds when the target dir is warm): formatting and lints, warnings denied.
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo test --workspace --all-targets
cargo test --workspace --doc
