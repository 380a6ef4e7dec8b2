#!/usr/bin/env bash
# Runs the whole test suite: unit, integration (mock cluster and tansu), examples, ui-tests, doc tests.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --tansu
. scripts/env.sh
cargo test --workspace --all-targets
cargo test --workspace --doc
