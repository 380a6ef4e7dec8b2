#!/usr/bin/env bash
# Installs what building and testing need on a fresh Debian machine; safe to run repeatedly.
#   scripts/setup.sh           system packages for the build (libclang for RocksDB's bindgen)
#   scripts/setup.sh --tansu   also the tansu broker used by multi-process tests
# Source it (`. scripts/env.sh`) for the shared cargo target directory.
set -euo pipefail

TANSU_VERSION=0.6.0
want_tansu=false
for arg in "$@"; do
  case "$arg" in
    --tansu) want_tansu=true ;;
    *) echo "usage: $0 [--tansu]" >&2; exit 2 ;;
  esac
done

say() { printf '[setup] %s\n' "$*"; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages: libclang for rocksdb's bindgen, a C/C++ toolchain and make for librdkafka and RocksDB.
missing=()
for pkg in libclang-dev g++ make; do
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

if $want_tansu; then
  tansu_bin="${TANSU_BIN:-$(command -v tansu || echo "${CARGO_HOME:-$HOME/.cargo}/bin/tansu")}"
  if [ -x "$tansu_bin" ] && "$tansu_bin" --version 2>/dev/null | grep -q "$TANSU_VERSION"; then
    :
  else
    say "installing tansu $TANSU_VERSION (about 10 minutes the first time)"
    cargo install tansu --version "$TANSU_VERSION" --features dynostore --locked --quiet
  fi
fi
say "ready"
