# Sourced by the other scripts: one cargo target directory outside the clone, so fresh clones
# (and CI) reuse the ~12-minute RocksDB build instead of starting over, and the Apache Kafka
# broker the tests run (its version is pinned here and only here).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streams-rs/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export STREAMS_KAFKA_VERSION="${STREAMS_KAFKA_VERSION:-4.1.1}"
export STREAMS_KAFKA_HOME="${STREAMS_KAFKA_HOME:-$HOME/.cache/streams-rs/kafka-$STREAMS_KAFKA_VERSION}"
# C and C++ (RocksDB, librdkafka, zstd, lz4) compiled by clang when it is installed
# (scripts/setup.sh installs it): RocksDB's ~340 C++ files build in about half of g++'s time
# here, the largest part of a cold build. Set CC/CXX to choose another compiler.
if command -v clang >/dev/null 2>&1 && command -v clang++ >/dev/null 2>&1; then
  export CC="${CC:-clang}" CXX="${CXX:-clang++}"
fi
# The cargo-deny the release gates run (scripts/setup.sh installs it).
export CARGO_DENY_VERSION="0.20.2"
