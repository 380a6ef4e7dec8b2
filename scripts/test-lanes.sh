#!/usr/bin/env bash
# Runs every test target of the workspace (`cargo test --workspace --all-targets`, without
# without-default-features, which scripts/test.sh runs on its own features) in three lanes at
# once. Most of the suite's time is spent waiting on Apache Kafka brokers, on app processes it
# kills and restarts, and on timers, not on the two cores: the longest binaries (the chaos tests
# of examples/tests/event_counter_on_kafka.rs; the differential oracle against Java Kafka
# Streams, the benchmarks' smoke runs and the longest broker tests) run beside all the others.
# Every test target runs in exactly one lane: the last lane takes whatever
# the others do not name (the list comes from `cargo metadata`, so a new test file needs no edit here). All lanes
# select the same packages, so their features, and the one build they share, are the same.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh

# Integration-test targets by name; `benches` stands for every bench target (run as tests).
lanes=(
  "event_counter_on_kafka"
  "kafka_streams_oracle runtime_kafka secured_kafka benches"
)
packages=(--workspace --exclude without-default-features)

mapfile -t all_tests < <(cargo metadata --no-deps --format-version 1 | python3 -c '
import json, sys
for package in json.load(sys.stdin)["packages"]:
    if package["name"] == "without-default-features":
        continue
    for target in package["targets"]:
        if "test" in target["kind"]:
            print(target["name"])' | sort -u)

named=" ${lanes[*]} "
lane_args=()
for lane in "${lanes[@]}"; do
  args=""
  for name in $lane; do
    if [ "$name" = benches ]; then
      args+=" --benches"
    elif printf '%s\n' "${all_tests[@]}" | grep -qx -- "$name"; then
      args+=" --test $name"
    else
      echo "test-lanes: no test target is named $name" >&2
      exit 1
    fi
  done
  lane_args+=("$args")
done
rest=" --lib --bins --examples"
for name in "${all_tests[@]}"; do
  case "$named" in *" $name "*) ;; *) rest+=" --test $name" ;; esac
done
case "$named" in *" benches "*) ;; *) rest+=" --benches" ;; esac

# One build for every lane (each lane's cargo then only runs binaries).
cargo test "${packages[@]}" --all-targets --no-run

logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
pids=()
for i in "${!lane_args[@]}"; do
  # shellcheck disable=SC2086 # the arguments are words
  cargo test --no-fail-fast "${packages[@]}" ${lane_args[$i]} > "$logs/$i" 2>&1 &
  pids+=($!)
done
failed=0
# shellcheck disable=SC2086
cargo test --no-fail-fast "${packages[@]}" $rest || failed=1
for i in "${!pids[@]}"; do
  status=0
  wait "${pids[$i]}" || status=$?
  echo "---- lane: ${lanes[$i]} (exit $status) ----"
  cat "$logs/$i"
  [ "$status" -eq 0 ] || failed=1
done
if [ "$failed" -ne 0 ]; then
  echo "test-lanes: a lane failed (see its output above)" >&2
  exit 1
fi
