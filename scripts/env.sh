# Sourced by the other scripts: one cargo target directory outside the clone, so fresh clones
# (and CI) reuse the ~12-minute RocksDB build instead of starting over.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/streams-rs/target}"
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
