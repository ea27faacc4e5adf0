#!/usr/bin/env bash
# Live-capture benchmark: the packet rate `wirewatch run` sustains on a veth without drops,
# next to `tcpdump -w /dev/null` on the same veth. Needs root. Sends traffic only on a veth
# pair it creates (10.201.0.0/24) and removes it at exit.
#
# Usage: scripts/bench-live.sh [PACKETS]     (default 1,000,000 per sender and run)
# RATES="100000 top top2" picks the sending rates (top2: two tcpreplay --topspeed at once).
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1000000}
need=()
for p in tcpreplay tcpdump iproute2; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || need+=("$p")
done
if [ "${#need[@]}" -gt 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
scripts/setup.sh
cargo build --release --locked -q -p wirewatch
bin=$PWD/target/release/wirewatch
work=$(mktemp -d)
ns=wwbench-$$
host=wwbh$$
peer=wwbn$$
cleanup() { ip netns del "$ns" 2>/dev/null || true; ip link del "$host" 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT
ip netns add "$ns"
ip link add "$host" type veth peer name "$peer" netns "$ns"
echo 1 > "/proc/sys/net/ipv6/conf/$host/disable_ipv6"
ip netns exec "$ns" sh -c "echo 1 > /proc/sys/net/ipv6/conf/$peer/disable_ipv6"
ip link set "$host" up
ip -n "$ns" link set "$peer" up

# Small frames (snaplen 128 keeps the file small; tcpreplay sends what is captured).
"$bin" generate -o "$work/traffic.pcap" --packets "$packets" --flows 20000 --seed 3 2>/dev/null
tcprewrite --infile="$work/traffic.pcap" --outfile="$work/small.pcap" --mtu=128 --mtu-trunc 2>/dev/null \
  || cp "$work/traffic.pcap" "$work/small.pcap"

send() { # rate (pps, "top", or "top2": two senders at full speed)
  if [ "$1" = top2 ]; then
    ip netns exec "$ns" tcpreplay -q --topspeed -i "$peer" "$work/small.pcap" >/dev/null 2>&1 &
    local other=$!
    ip netns exec "$ns" tcpreplay -q --topspeed -i "$peer" "$work/small.pcap" 2>&1 | grep -E "Rated" | head -1
    wait "$other"
  elif [ "$1" = top ]; then
    ip netns exec "$ns" tcpreplay -q --topspeed -i "$peer" "$work/small.pcap" 2>&1 | grep -E "Rated|Actual" | head -2
  else
    ip netns exec "$ns" tcpreplay -q --pps="$1" -i "$peer" "$work/small.pcap" 2>&1 | grep -E "Rated|Actual" | head -2
  fi
}

printf '%-10s %-28s %s\n' rate "wirewatch received/drops" "tcpdump received/drops"
for rate in ${RATES:-100000 200000 400000 top top2}; do
  "$bin" run -i "$host" --json > "$work/ww.json" 2>"$work/ww.err" &
  pid=$!
  until grep -q "Ctrl-C to stop" "$work/ww.err" 2>/dev/null; do sleep 0.1; done
  sent=$(send "$rate" | tr '\n' ' ')
  sleep 1
  kill -TERM "$pid"; wait "$pid" || true
  ww=$(python3 -c "import json;r=json.load(open('$work/ww.json'));d=r['drops'];print(f\"{r['packets']} / kernel {d['kernel']} queue {d['queue']}\")")
  tcpdump -q -i "$host" -w /dev/null 2>"$work/td.err" &
  tpid=$!
  sleep 1
  send "$rate" >/dev/null
  sleep 1
  kill -INT "$tpid"; wait "$tpid" || true
  td=$(grep -E "captured|dropped by kernel" "$work/td.err" | awk '{print $1}' | paste -sd' ' | awk '{print $1" / kernel "$2}')
  printf '%-10s %-28s %s   (%s)\n' "$rate" "$ww" "$td" "$sent"
done
