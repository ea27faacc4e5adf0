#!/usr/bin/env bash
# Installs what building and testing Wirewatch needs, when it is missing. Safe to run again.
# Usage: scripts/setup.sh [--test]   (--test also installs the tools the test suite uses)
set -euo pipefail

want_test=0
[ "${1:-}" = "--test" ] && want_test=1

need=()
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in libpcap-dev pkg-config gcc; do have_pkg "$p" || need+=("$p"); done
# Node.js and npm build the dashboard (web/) that is embedded in the binary.
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ "$want_test" = 1 ]; then
  # tshark is the independent reference some tests compare against; the live-capture tests
  # build network namespaces (iproute2) and send real traffic (ping, curl, python3).
  for p in tshark iproute2 iputils-ping curl python3; do have_pkg "$p" || need+=("$p"); done
  # The dashboard's browser tests drive Debian's Chromium through playwright-core.
  [ -x /usr/bin/chromium ] || need+=(chromium)
  # A real Prometheus server scrapes /metrics in tests/prometheus.rs.
  have_pkg prometheus || need+=(prometheus)
  # systemd-analyze verifies the shipped unit (tests/deploy.rs).
  command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
fi

if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "missing packages: ${need[*]}; run as root or: sudo apt-get install ${need[*]}" >&2
    exit 1
  fi
  echo "installing: ${need[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust 1.95 or newer (https://rustup.rs) and run this again" >&2
  exit 1
fi
rust_minor=$(rustc --version | sed -E 's/^rustc 1\.([0-9]+).*/\1/')
if [ "${rust_minor:-0}" -lt 95 ]; then
  echo "Rust $(rustc --version) is too old: Wirewatch needs 1.95 or newer (rustup update)" >&2
  exit 1
fi
