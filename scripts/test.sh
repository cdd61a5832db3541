#!/usr/bin/env bash
# The one test command (README, .ci/run): formatting, lints, then every test of the workspace.
# Safe to run on a fresh machine; it installs only what the tests need (PostgreSQL, MariaDB).
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/testmesh-target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

if [ ! -d ../shared/fixtures ]; then
  echo "error: ../shared/fixtures is missing; the compatibility tests read the shared fixtures beside the clone" >&2
  exit 2
fi

echo "== cargo fmt --check"
cargo fmt --all --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --locked -- -D warnings

echo "== services"
# Throwaway PostgreSQL and MariaDB for the database tests; stopped when this script exits.
source scripts/services.sh
# xmllint (Debian libxml2-utils) validates the JUnit reports against their schema (testmesh-report).
command -v xmllint >/dev/null || testmesh_apt_install libxml2-utils || echo "services: xmllint could not be installed" >&2

echo "== tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --locked --no-fail-fast
  # nextest does not run doctests.
  cargo test --workspace --locked --doc
else
  cargo test --workspace --locked --no-fail-fast
fi
echo "== all checks passed"
