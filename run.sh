#!/usr/bin/env bash
# Quick start, part 1: build Wirewatch and show what it does.
# Installs what is missing, builds in release mode, generates a demo capture once and analyses it.
# Extra arguments go to `wirewatch analyze` (e.g. ./run.sh --json).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
cargo build --release --locked -q -p wirewatch
bin=target/release/wirewatch
demo=bench-data/demo.pcap
if [ ! -f "$demo" ]; then
  mkdir -p bench-data
  "$bin" generate -o "$demo" --packets 200000 --flows 5000
fi
exec "$bin" analyze "$demo" "$@"
