#!/usr/bin/env bash
# Quick start, part 2: the whole test suite (what CI runs). Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh --test
echo "== dashboard build"
scripts/build-web.sh
echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy"
cargo clippy --locked --workspace --all-targets -q -- -D warnings
echo "== cargo test"
cargo test --locked --workspace
echo "== dashboard unit tests"
npm --prefix web run --silent test:unit
echo "== dashboard browser tests"
npm --prefix web run --silent test:browser
