#!/usr/bin/env bash
# Runs the whole test suite: unit, integration (Apache Kafka broker processes and the mock
# cluster), examples, ui-tests, doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
cargo test --workspace --all-targets
cargo test --workspace --doc
