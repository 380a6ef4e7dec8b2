#!/usr/bin/env bash
# Runs the click-aggregation demo. Extra arguments go to the app (see `--help`), e.g.
#   scripts/demo.sh --bootstrap-servers kafka:9092
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --no-kafka
. scripts/env.sh
exec cargo run --quiet -p kafka-streams-examples --bin click-aggregator -- "$@"
