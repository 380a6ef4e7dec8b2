#!/usr/bin/env bash
# Runs the click-aggregation demo. Extra arguments go to the app (see `--help`), e.g.
#   scripts/demo.sh --bootstrap-servers kafka:9092
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-kafka
. scripts/env.sh
# Built as `cargo run --example click_aggregator` would, but with the workspace's features, as
# scripts/test.sh builds the examples: `cargo run -p kafka-streams-examples` resolves the build
# tools' features for one package and would compile RocksDB once more (8 minutes) on a machine
# that already ran the tests.
cargo build --quiet --workspace --exclude without-default-features --examples
exec "$CARGO_TARGET_DIR/debug/examples/click_aggregator" "$@"
