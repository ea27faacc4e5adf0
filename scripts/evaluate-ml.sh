#!/usr/bin/env bash
# End-to-end evaluation of the flow classifier on the project's own labelled captures (made
# with real tools by scripts/make-scenarios.sh; see crates/wirewatch/tests/fixtures/scenarios):
# record their flows with features, export them labelled from each capture's truth file, train
# on one set of captures and classify a separate set, then print per-class precision, recall
# and F1. Usage: scripts/evaluate-ml.sh [--full]   (needs a built wirewatch; builds it if not)
set -euo pipefail
cd "$(dirname "$0")/.."
mode="--quick"
[ "${1:-}" = "--full" ] && mode="--full"
[ -x target/release/wirewatch ] || cargo build --release --locked -q -p wirewatch
ww=target/release/wirewatch
fx=crates/wirewatch/tests/fixtures/scenarios
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
printf '[flows]\nflow_features = true\n' > "$work/features.toml"

# export CAPTURE SET LABEL FILTER...: the capture's flows matching FILTER, labelled LABEL.
export_flows() {
  local capture=$1 set=$2 label=$3; shift 3
  local db="$work/$capture.db"
  [ -f "$db" ] || "$ww" analyze --config "$work/features.toml" --db "$db" "$fx/$capture.pcap" >/dev/null
  mkdir -p "$work/$set"
  "$ww" export --db "$db" --what flows --format cicflowmeter --label "$label" "$@" \
    -o "$work/$set/$capture-$label.csv" 2>/dev/null || true
}

# Attacks: the attacker's flows (floods with spoofed sources: the flows to the target port in
# the attack window, which may include a few of the benign client's). Benign: the client
# 10.210.0.3, which keeps browsing, resolving, pinging and logging in through every capture.
for set_captures in "train:nmap_syn_scan ssh_brute_force hping3_syn_flood clean_background nmap_udp_scan" \
                    "test:nmap_connect_scan nmap_fin_xmas_null ftp_brute_force udp_flood horizontal_scan"; do
  set=${set_captures%%:*}
  for c in ${set_captures#*:}; do
    case $c in
      nmap_*|horizontal_scan) export_flows "$c" "$set" PortScan --ip 10.210.0.1 ;;
      ssh_brute_force) export_flows "$c" "$set" SSH-Patator --ip 10.210.0.1 ;;
      ftp_brute_force) export_flows "$c" "$set" FTP-Patator --ip 10.210.0.1 ;;
      hping3_syn_flood) export_flows "$c" "$set" "DoS Hulk" --ip 10.210.0.2 --port 80 --from 1795248694.9 --to 1795248700.1 ;;
      udp_flood) export_flows "$c" "$set" "DoS Hulk" --ip 10.210.0.2 --port 53 --from 1795248740.3 --to 1795248743.7 ;;
    esac
    export_flows "$c" "$set" BENIGN --ip 10.210.0.3
  done
done

echo "== training on: $(ls "$work/train" | tr '\n' ' ')"
# The captures are small: classes need 10 distinct flows (not 50) to be trained.
"$ww" train --dataset "$work/train" $mode --min-class-rows 10 --out "$work/flows.model" 2>/dev/null
echo
echo "== classifying captures the model never saw: $(ls "$work/test" | tr '\n' ' ')"
"$ww" train --dataset "$work/test" --evaluate "$work/flows.model" 2>/dev/null
