# Sourced by the other scripts: one cargo target directory outside the clone, so fresh clones
# (and CI) reuse the ~12-minute RocksDB build instead of starting over, and the Apache Kafka
# broker the tests run (its version is pinned here and only here).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streams-rs/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export STREAMS_KAFKA_VERSION="${STREAMS_KAFKA_VERSION:-4.1.1}"
export STREAMS_KAFKA_HOME="${STREAMS_KAFKA_HOME:-$HOME/.cache/streams-rs/kafka-$STREAMS_KAFKA_VERSION}"
# The cargo-deny the release gates run (scripts/setup.sh installs it).
export CARGO_DENY_VERSION="0.20.2"
