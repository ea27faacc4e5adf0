#!/usr/bin/env bash
# Records the labelled attack captures of crates/wirewatch/tests/fixtures/scenarios/ (used by
# crates/wirewatch/tests/detect_scenarios.rs): real attack tools against real services, each
# scenario a separate capture with clean background traffic before, during and after the attack,
# and next to it a ground-truth file <name>.truth.json saying who attacked whom, when.
#
# Run as root on Debian/Ubuntu (installs what is missing):
#     scripts/make-scenarios.sh [OUTPUT_DIR]
#     ONLY="icmp_flood udp_flood" scripts/make-scenarios.sh    # remake only these
# Re-runnable: it overwrites the fixtures. Takes about five minutes.
#
# Safety: every packet stays inside two network namespaces this script creates ("attacker" and
# "victim", joined by one veth pair, addresses in 10.210.0.0/16 only); the namespaces, the
# processes started in them and the test user are removed on exit, also on failure.
#
# Layout:
#   attacker ns  wwscen-a  10.210.0.1 (attacker)  10.210.0.3 (benign client: background traffic)
#   victim ns    wwscen-v  10.210.0.2 (sshd :22, vsftpd :21, HTTP :80, dnsmasq :53)
#                          10.210.1.10-60 (extra hosts for the horizontal scan; sshd on .10-.12)
# IPv6 is off and neighbours are static, so the only frames are the ones the tools send.
# Captures are taken on the victim's end of the veth with snaplen 128.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

OUT=${1:-crates/wirewatch/tests/fixtures/scenarios}
SNAPLEN=128
ATT_NS=wwscen-att
VIC_NS=wwscen-vic
A_IF=wwscen-a
V_IF=wwscen-v
ATTACKER=10.210.0.1
VICTIM=10.210.0.2
CLIENT=10.210.0.3
EXTRA_FIRST=10
EXTRA_LAST=60
SSH_EXTRA_OPEN=(10.210.1.10 10.210.1.11 10.210.1.12)
USER_NAME=wwscen
USER_PASS=wirewatch-scenario-pw
# Background traffic runs before the attack for longer than the spike detector's warm-up (10
# one-second intervals), so every detector is past its warm-up when the attack starts, as in
# a monitor that has been running for a while.
PRE=12
POST=6

if [ "$(id -u)" -ne 0 ]; then
    echo "make-scenarios.sh: run as root (it builds network namespaces and starts services)" >&2
    exit 1
fi

need=()
for tool in nmap:nmap hping3:hping3 sshd:openssh-server vsftpd:vsftpd tcpdump:tcpdump \
    dig:dnsutils sshpass:sshpass dnsmasq:dnsmasq-base curl:curl ping:iputils-ping ip:iproute2 \
    python3:python3; do
    command -v "${tool%%:*}" >/dev/null 2>&1 || [ -x "/usr/sbin/${tool%%:*}" ] || need+=("${tool#*:}")
done
if [ ${#need[@]} -gt 0 ]; then
    echo "== installing ${need[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
export PATH="$PATH:/usr/sbin:/sbin"

TMP=$(mktemp -d /tmp/wwscen.XXXXXX)
CREATED_USER=0

inatt() { ip netns exec "$ATT_NS" "$@"; }
invic() { ip netns exec "$VIC_NS" "$@"; }
now() { date +%s.%N; }

cleanup() {
    set +e
    touch "$TMP/stop" 2>/dev/null
    disown -a 2>/dev/null # no "Terminated" notices for the services killed below
    # Every process left in our namespaces was started by this script.
    for ns in "$ATT_NS" "$VIC_NS"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
        fi
    done
    sleep 0.5
    for ns in "$ATT_NS" "$VIC_NS"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        fi
    done
    ip link del "$A_IF" 2>/dev/null
    if [ "$CREATED_USER" = 1 ]; then
        # userdel refuses while a process of the user is still exiting.
        for _ in 1 2 3 4 5; do userdel "$USER_NAME" 2>/dev/null && break; sleep 0.5; done
    fi
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- network -----------------------------------------------------------------------------------

setup_net() {
    # Leftovers of an interrupted run.
    for ns in "$ATT_NS" "$VIC_NS"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns"
        fi
    done
    ip netns add "$ATT_NS"
    ip netns add "$VIC_NS"
    ip link add "$A_IF" netns "$ATT_NS" type veth peer name "$V_IF" netns "$VIC_NS"
    for ns in "$ATT_NS" "$VIC_NS"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
    done
    inatt sysctl -qw "net.ipv6.conf.$A_IF.disable_ipv6=1"
    invic sysctl -qw "net.ipv6.conf.$V_IF.disable_ipv6=1"
    inatt ip addr add "$ATTACKER/24" dev "$A_IF"
    inatt ip addr add "$CLIENT/24" dev "$A_IF"
    invic ip addr add "$VICTIM/24" dev "$V_IF"
    for i in $(seq "$EXTRA_FIRST" "$EXTRA_LAST"); do
        invic ip addr add "10.210.1.$i/32" dev "$V_IF"
    done
    for ns in "$ATT_NS" "$VIC_NS"; do ip -n "$ns" link set lo up; done
    inatt ip link set "$A_IF" up
    invic ip link set "$V_IF" up
    local amac vmac
    amac=$(inatt cat "/sys/class/net/$A_IF/address")
    vmac=$(invic cat "/sys/class/net/$V_IF/address")
    inatt ip neigh replace "$VICTIM" lladdr "$vmac" dev "$A_IF" nud permanent
    invic ip neigh replace "$ATTACKER" lladdr "$amac" dev "$V_IF" nud permanent
    invic ip neigh replace "$CLIENT" lladdr "$amac" dev "$V_IF" nud permanent
    # The extra hosts are reached through the victim's main address (same MAC, no ARP).
    inatt ip route add 10.210.1.0/24 via "$VICTIM" dev "$A_IF"
    # No default route on the victim: answers to spoofed sources cannot leave, so the SYN and
    # UDP floods with random sources get no answers (the point of such floods).
}

# --- services on the victim ----------------------------------------------------------------------

setup_services() {
    if ! id "$USER_NAME" >/dev/null 2>&1; then
        useradd -M -d /tmp -s /bin/bash "$USER_NAME"
        CREATED_USER=1
    fi
    echo "$USER_NAME:$USER_PASS" | chpasswd

    mkdir -p /run/sshd /var/run/vsftpd/empty "$TMP/www"
    ssh-keygen -q -t ed25519 -N '' -f "$TMP/ssh_host_ed25519_key"
    {
        echo "Port 22"
        echo "ListenAddress $VICTIM"
        for a in "${SSH_EXTRA_OPEN[@]}"; do echo "ListenAddress $a"; done
        echo "HostKey $TMP/ssh_host_ed25519_key"
        echo "PidFile $TMP/sshd.pid"
        echo "PasswordAuthentication yes"
        echo "KbdInteractiveAuthentication no"
        echo "UsePAM no"
        echo "PermitRootLogin no"
        echo "AllowUsers $USER_NAME"
        echo "MaxStartups 100"
        echo "LogLevel ERROR"
    } >"$TMP/sshd_config"
    # Started with `ip netns exec` directly (not through invic), so that $! is the service.
    ip netns exec "$VIC_NS" /usr/sbin/sshd -D -f "$TMP/sshd_config" -E "$TMP/sshd.log" &

    cat >"$TMP/vsftpd.conf" <<EOF
listen=YES
listen_ipv6=NO
listen_address=$VICTIM
background=NO
anonymous_enable=NO
local_enable=YES
pam_service_name=vsftpd
secure_chroot_dir=/var/run/vsftpd/empty
seccomp_sandbox=NO
xferlog_enable=NO
vsftpd_log_file=$TMP/vsftpd.log
EOF
    ip netns exec "$VIC_NS" /usr/sbin/vsftpd "$TMP/vsftpd.conf" &

    printf '<html><body>wirewatch scenario</body></html>\n' >"$TMP/www/index.html"
    ip netns exec "$VIC_NS" python3 -m http.server 80 --bind "$VICTIM" --directory "$TMP/www" \
        >"$TMP/http.log" 2>&1 &

    ip netns exec "$VIC_NS" dnsmasq -k -C /dev/null --no-resolv --no-hosts --bind-interfaces \
        --listen-address="$VICTIM" --address=/scenario.test/"$VICTIM" \
        --pid-file="$TMP/dnsmasq.pid" --log-facility="$TMP/dnsmasq.log" &

    # Wait until everything answers.
    local tries=0
    until inatt curl -s -o /dev/null --max-time 1 "http://$VICTIM/" &&
        inatt bash -c "exec 3<>/dev/tcp/$VICTIM/22 && exec 3<>/dev/tcp/$VICTIM/21" 2>/dev/null &&
        inatt dig +short +time=1 +tries=1 "@$VICTIM" ready.scenario.test | grep -q .; do
        tries=$((tries + 1))
        if [ $tries -gt 50 ]; then
            echo "services did not come up; logs in $TMP" >&2
            exit 1
        fi
        sleep 0.2
    done
}

SSH_OPTS=(-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o LogLevel=ERROR
    -o PreferredAuthentications=password -o PubkeyAuthentication=no
    -o NumberOfPasswordPrompts=1 -o ConnectTimeout=5)

# --- background traffic (from the benign client) -------------------------------------------------

background_loop() {
    local i=0
    while [ ! -e "$TMP/stop" ]; do
        inatt curl -s -o /dev/null --max-time 2 --interface "$CLIENT" "http://$VICTIM/" || true
        inatt dig +short +time=1 +tries=1 -b "$CLIENT" "@$VICTIM" \
            "host$((i % 7)).scenario.test" >/dev/null || true
        if [ $((i % 3)) -eq 0 ]; then
            inatt ping -n -q -c 1 -W 1 -I "$CLIENT" "$VICTIM" >/dev/null || true
        fi
        if [ $i -eq 4 ]; then # one successful interactive login per capture
            inatt sshpass -p "$USER_PASS" ssh "${SSH_OPTS[@]}" -b "$CLIENT" \
                "$USER_NAME@$VICTIM" 'uname -a; sleep 1' >/dev/null || true
        fi
        i=$((i + 1))
        sleep 0.6
    done
}

BG_PID=
start_background() {
    rm -f "$TMP/stop"
    background_loop &
    BG_PID=$!
}
stop_background() {
    touch "$TMP/stop"
    wait "$BG_PID" || true
}

# --- captures and ground truth -------------------------------------------------------------------

CAP_PID=
start_capture() {
    : >"$TMP/tcpdump.err"
    ip netns exec "$VIC_NS" tcpdump -i "$V_IF" -s "$SNAPLEN" -n -U -Z root -w "$TMP/$1.pcap" \
        2>"$TMP/tcpdump.err" &
    CAP_PID=$!
    local tries=0
    until grep -q "listening on" "$TMP/tcpdump.err"; do
        tries=$((tries + 1))
        if [ $tries -gt 50 ]; then
            cat "$TMP/tcpdump.err" >&2
            exit 1
        fi
        sleep 0.1
    done
}
stop_capture() {
    sleep 0.5
    kill -TERM "$CAP_PID"
    wait "$CAP_PID" || true
}

EXPECTED=()
# expect KIND SOURCE|null TARGET|null PORT|null START END
expect() {
    local src=null dst=null
    [ "$2" = null ] || src="\"$2\""
    [ "$3" = null ] || dst="\"$3\""
    EXPECTED+=("$(printf '{"kind": "%s", "source": %s, "target": %s, "port": %s, "window": [%.3f, %.3f]}' \
        "$1" "$src" "$dst" "$4" "$5" "$6")")
}

write_truth() { # NAME NOTES
    local f="$OUT/$1.truth.json" sep="" e
    {
        printf '{\n  "expected": ['
        for e in "${EXPECTED[@]}"; do
            printf '%s\n    %s' "$sep" "$e"
            sep=","
        done
        [ ${#EXPECTED[@]} -eq 0 ] || printf '\n  '
        printf '],\n  "notes": "%s"\n}\n' "$2"
    } >"$f"
}

SUMMARY=()
# scenario NAME POST_SECONDS NOTES ATTACK_FUNCTION
scenario() {
    local name=$1 post=$2 notes=$3 attack=$4
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
    echo "== $name"
    EXPECTED=()
    start_capture "$name"
    start_background
    sleep "$PRE"
    "$attack"
    sleep "$post"
    stop_background
    stop_capture
    mv "$TMP/$name.pcap" "$OUT/$name.pcap"
    write_truth "$name" "$notes"
    local size packets kinds=() e
    size=$(stat -c %s "$OUT/$name.pcap")
    packets=$(tcpdump -r "$OUT/$name.pcap" -n 2>/dev/null | wc -l)
    for e in "${EXPECTED[@]}"; do
        e=${e#\{\"kind\": \"}
        kinds+=("${e%%\"*}")
    done
    SUMMARY+=("$(printf '%-26s %8d bytes %7d packets  expected: %s' "$name.pcap" "$size" \
        "$packets" "${kinds[*]:-nothing}")")
}

# --- the attacks ---------------------------------------------------------------------------------

attack_none() { sleep $((30 - PRE - POST)); }

attack_syn_scan() {
    local t0 t1
    t0=$(now)
    inatt nmap -sS -n -T4 --top-ports 300 "$VICTIM" >"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" "$VICTIM" null "$t0" "$t1"
}

attack_connect_scan() {
    local t0 t1
    t0=$(now)
    inatt nmap -sT -n -T4 --top-ports 300 "$VICTIM" >"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" "$VICTIM" null "$t0" "$t1"
}

attack_fin_xmas_null() {
    local t0 t1
    t0=$(now)
    inatt nmap -sF -n -T4 --top-ports 300 "$VICTIM" >"$TMP/nmap.log"
    sleep 2
    inatt nmap -sX -n -T4 --top-ports 300 "$VICTIM" >>"$TMP/nmap.log"
    sleep 2
    inatt nmap -sN -n -T4 --top-ports 300 "$VICTIM" >>"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" "$VICTIM" null "$t0" "$t1"
}

attack_udp_scan() {
    local t0 t1
    t0=$(now)
    inatt nmap -sU -n -T4 --max-retries 1 --top-ports 50 "$VICTIM" >"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" "$VICTIM" null "$t0" "$t1"
}

attack_horizontal_scan() {
    local t0 t1
    t0=$(now)
    inatt nmap -sS -n -T4 -p22 "10.210.1.$EXTRA_FIRST-$EXTRA_LAST" >"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" null 22 "$t0" "$t1"
}

attack_syn_flood() {
    local t0 t1
    t0=$(now)
    # ~500 SYN/s from random (spoofed) sources for ~4 s; the victim has no route back.
    inatt hping3 -q -S -p 80 --rand-source -i u2000 -c 2000 "$VICTIM" >/dev/null 2>&1 || true
    t1=$(now)
    expect syn_flood null "$VICTIM" 80 "$t0" "$t1"
}

attack_icmp_flood() {
    local t0 t1
    t0=$(now)
    # ~1,200 echo requests/s (nominal 1,333; hping3 sleeps a little longer) for ~2.3 s: one
    # whole 1-s interval over the threshold of 1,000/s to one host. The victim answers.
    inatt hping3 -q --icmp -i u750 -c 2800 "$VICTIM" >/dev/null 2>&1 || true
    t1=$(now)
    expect icmp_flood "$ATTACKER" "$VICTIM" null "$t0" "$t1"
}

attack_udp_flood() {
    local t0 t1
    t0=$(now)
    # ~2,400 datagrams/s (nominal 2,857) to the DNS port from random sources for ~2.3 s: one
    # whole interval over the threshold of 2,000/s from >= 50 sources. No answers can go back.
    inatt hping3 -q --udp -p 53 --rand-source -i u350 -c 5600 "$VICTIM" >/dev/null 2>&1 || true
    t1=$(now)
    expect udp_flood null "$VICTIM" 53 "$t0" "$t1"
}

attack_ssh_brute() {
    local t0 t1 w workers=()
    t0=$(now)
    # 20 wrong passwords, 4 in parallel (as hydra -t 4 does), one guess per connection.
    for w in 1 2 3 4; do
        (
            for k in 1 2 3 4 5; do
                inatt sshpass -p "guess$w$k" ssh "${SSH_OPTS[@]}" -b "$ATTACKER" \
                    "$USER_NAME@$VICTIM" true >/dev/null 2>&1 || true
            done
        ) &
        workers+=($!)
    done
    wait "${workers[@]}" || true
    t1=$(now)
    expect brute_force "$ATTACKER" "$VICTIM" 22 "$t0" "$t1"
}

attack_ftp_brute() {
    local t0 t1
    t0=$(now)
    # 15 wrong passwords, 3 in parallel, one guess per connection (each failure costs ~3 s:
    # the PAM failure delay plus vsftpd's own).
    inatt python3 - "$VICTIM" "$ATTACKER" "$USER_NAME" <<'EOF'
import ftplib, sys, threading
victim, attacker, user = sys.argv[1:4]
def worker(w):
    for i in range(5):
        f = ftplib.FTP()
        try:
            f.connect(victim, 21, timeout=10, source_address=(attacker, 0))
            f.login(user, "guess%d%d" % (w, i))
        except ftplib.all_errors:
            pass
        finally:
            f.close()
threads = [threading.Thread(target=worker, args=(w,)) for w in range(3)]
for t in threads:
    t.start()
for t in threads:
    t.join()
EOF
    t1=$(now)
    expect brute_force "$ATTACKER" "$VICTIM" 21 "$t0" "$t1"
}

# --- main ----------------------------------------------------------------------------------------

mkdir -p "$OUT"
echo "== network and services"
setup_net
setup_services

BG="background from $CLIENT to $VICTIM: HTTP GETs, DNS queries, pings, one successful ssh login"
scenario clean_background "$POST" "$BG, 30 s; no attack, no alert expected" attack_none
scenario nmap_syn_scan "$POST" "nmap -sS -T4 --top-ports 300 $ATTACKER -> $VICTIM (ports 21, 22, 53, 80 open); $BG" attack_syn_scan
scenario nmap_connect_scan "$POST" "nmap -sT -T4 --top-ports 300 $ATTACKER -> $VICTIM; $BG" attack_connect_scan
scenario nmap_fin_xmas_null "$POST" "nmap -sF, -sX, -sN (-T4 --top-ports 300, 2 s apart) $ATTACKER -> $VICTIM: one scanner, one victim, one incident; $BG" attack_fin_xmas_null
scenario nmap_udp_scan "$POST" "nmap -sU -T4 --max-retries 1 --top-ports 50 $ATTACKER -> $VICTIM (dnsmasq on 53); $BG" attack_udp_scan
scenario horizontal_scan "$POST" "nmap -sS -T4 -p22 10.210.1.$EXTRA_FIRST-$EXTRA_LAST (51 hosts, all on the victim's veth; ssh open on ${SSH_EXTRA_OPEN[*]}), with nmap's default host discovery (ICMP echo, SYN 443, ACK 80, ICMP timestamp); $BG" attack_horizontal_scan
scenario hping3_syn_flood "$POST" "hping3 -S -p 80 --rand-source -i u2000 -c 2000 -> $VICTIM (~500 SYN/s for ~4 s, spoofed sources never answered); $BG" attack_syn_flood
scenario icmp_flood "$POST" "hping3 --icmp -i u750 -c 2800 $ATTACKER -> $VICTIM (~1,200 echo requests/s for ~2.3 s, all answered); $BG" attack_icmp_flood
scenario udp_flood "$POST" "hping3 --udp -p 53 --rand-source -i u350 -c 5600 -> $VICTIM (~2,400 datagrams/s for ~2.3 s from thousands of spoofed sources: the distributed case; the single-source case needs >= 10,000 pps, a capture over 1 MB, and is left to the detector's unit tests); $BG" attack_udp_flood
scenario ssh_brute_force 20 "20 failed ssh password logins (sshpass, 4 in parallel, one guess per connection) $ATTACKER -> $USER_NAME@$VICTIM:22; the alert comes when the 10th failed connection has lingered 10 s in the flow table; $BG" attack_ssh_brute
scenario ftp_brute_force 20 "15 failed FTP logins (python ftplib, 3 in parallel, one guess per connection) $ATTACKER -> $VICTIM:21; $BG" attack_ftp_brute

# An index of everything in the directory (also the scenarios not remade by ONLY=...).
{
    echo "# Labelled attack captures"
    echo
    echo "Made by \`scripts/make-scenarios.sh\` (run it as root to remake them); checked by"
    echo "\`crates/wirewatch/tests/detect_scenarios.rs\`. Attacker $ATTACKER, benign client $CLIENT,"
    echo "victim $VICTIM (extra hosts 10.210.1.$EXTRA_FIRST-$EXTRA_LAST), snaplen $SNAPLEN. Each"
    echo "\`<name>.truth.json\` lists the attacks (kind, source, target, port, time window in"
    echo "seconds since the epoch: the packet timestamps) and says what the capture holds."
    echo
    echo "| capture | bytes | packets | expected alerts |"
    echo "|---|---|---|---|"
    for t in "$OUT"/*.truth.json; do
        n=$(basename "$t" .truth.json)
        expected=$(python3 -c 'import json, sys
e = json.load(open(sys.argv[1]))["expected"]
print(", ".join(x["kind"] for x in e) or "none")' "$t")
        echo "| \`$n.pcap\` | $(stat -c %s "$OUT/$n.pcap") |" \
            "$(tcpdump -r "$OUT/$n.pcap" -n 2>/dev/null | wc -l) | $expected |"
    done
} >"$OUT/README.md"

echo
echo "Made in $OUT:"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "  README.md (index of the directory)"
du -sh "$OUT"
