#!/usr/bin/env bash
# Quick start, part 1: build Wirewatch and start monitoring.
# Installs what is missing, builds the dashboard and Wirewatch in release mode, then monitors
# the default interface (the first that is up, not loopback and has an address) until Ctrl-C,
# with the dashboard at http://127.0.0.1:8080; on a machine with no usable interface it plays
# the demo traffic instead. Extra arguments go to `wirewatch run`
# (e.g. ./run.sh -f 'tcp port 443', ./run.sh --demo).
set -euo pipefail
cd "$(dirname "$0")"
scripts/setup.sh
scripts/build-web.sh
cargo build --release --locked -q -p wirewatch
bin=target/release/wirewatch
if [ "$#" -eq 0 ] && ! "$bin" interfaces --default >/dev/null 2>&1; then
  echo "no usable network interface: playing demo traffic instead" >&2
  exec "$bin" run --demo
fi
exec "$bin" run "$@"
