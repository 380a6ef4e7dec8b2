#!/usr/bin/env bash
# Runs the benchmarks in release mode and writes benches/results/*.md:
#   pipelines.md — the framework against hand-written rdkafka / RocksDB baselines;
#   queries.md   — interactive-query latency, local and proxied;
#   failover.md  — failover time with and without a standby, restoration throughput;
#   vs-kafka-streams.md — side by side with Java Kafka Streams (the twins in
#                  benches/kafka-streams-java) on one Apache Kafka broker: throughput, CPU per
#                  record, peak RSS, start-up, end-to-end latency under exactly-once;
#   micro.md     — criterion micro-benchmarks (codecs, partitioner, windows, store through the cache).
# Benchmarks use their own target directory so they never invalidate the test build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
scripts/setup.sh
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR}-bench"

cargo bench -p streams-benches --bench pipelines
cargo bench -p streams-benches --bench queries
cargo bench -p streams-benches --bench failover
cargo bench -p streams-benches --bench vs_kafka_streams

out=benches/results/micro.md
{
  echo "# Micro-benchmarks (criterion)"
  echo
  echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB RAM"
  echo
  echo "Per operation, release build (\`cargo bench -p streams-benches --bench micro\`)."
  echo
  echo '| Benchmark | Time (low / estimate / high) |'
  echo '|:--|:--|'
  cargo bench -p streams-benches --bench micro -- --noplot 2>/dev/null \
    | awk '/time:/ { name = ($1 == "time:") ? prev : $1; line = $0; sub(/.*time: +\[/, "", line); sub(/\].*/, "", line); print "| " name " | " line " |" }
           NF { prev = $1 }'
} > "$out"
echo "written to $out"
