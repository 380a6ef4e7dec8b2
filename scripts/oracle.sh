#!/usr/bin/env bash
# The differential oracle with more seeds than scripts/test.sh runs (200 per topology): every
# topology of examples/tests/kafka_streams_oracle.rs on our TestDriver and on Kafka Streams'
# TopologyTestDriver, compared record for record.
#   scripts/oracle.sh [SEEDS [FIRST_SEED]]    default 2000 seeds from 1
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
. scripts/env.sh
ORACLE_SEEDS="${1:-2000}" ORACLE_FIRST_SEED="${2:-1}" \
  cargo test -p kafka-streams-examples --test kafka_streams_oracle -- --test-threads 2
