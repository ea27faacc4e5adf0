#!/usr/bin/env bash
# Records the labelled attack captures of crates/wirewatch/tests/fixtures/scenarios/ (used by
# crates/wirewatch/tests/detect_scenarios.rs): real attack tools against real services, each
# scenario a separate capture with clean background traffic before, during and after the attack,
# and next to it a ground-truth file <name>.truth.json saying who attacked whom, when.
#
# Run as root on Debian/Ubuntu (installs what is missing):
#     scripts/make-scenarios.sh [OUTPUT_DIR]
#     ONLY="icmp_flood udp_flood" scripts/make-scenarios.sh    # remake only these
# Re-runnable: it overwrites the fixtures. Takes about ten minutes.
#
# Safety: every packet stays inside three network namespaces this script creates ("attacker",
# "victim" and "reflectors", joined by veth pairs, addresses in 10.210.0.0/16 only); the
# namespaces, the processes started in them and the test user are removed on exit, also on
# failure.
#
# Layout:
#   attacker ns  wwscen-a  10.210.0.1 (attacker)  10.210.0.3 (benign client: background traffic)
#                wwscen-ra 10.210.4.254 (router towards the reflectors; forwards only while the
#                          DNS amplification scenario runs)
#   victim ns    wwscen-v  10.210.0.2 (sshd :22, vsftpd :21, HTTP :80, dnsmasq :53; SYN cookies on)
#                          10.210.1.10-60 (extra hosts for the horizontal scan; sshd on .10-.12)
#   reflector ns wwscen-r  10.210.4.1-8 (open DNS resolvers: dnsmasq with a ~4 KB TXT record)
# IPv6 is off and neighbours are static, so the only frames are the ones the tools send.
# Captures are taken on the victim's end of the veth with snaplen 128.
set -euo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.."

OUT=${1:-crates/wirewatch/tests/fixtures/scenarios}
SNAPLEN=128
ATT_NS=wwscen-att
VIC_NS=wwscen-vic
REF_NS=wwscen-ref
A_IF=wwscen-a
V_IF=wwscen-v
R_IF=wwscen-r
RA_IF=wwscen-ra
ATTACKER=10.210.0.1
VICTIM=10.210.0.2
CLIENT=10.210.0.3
EXTRA_FIRST=10
EXTRA_LAST=60
SSH_EXTRA_OPEN=(10.210.1.10 10.210.1.11 10.210.1.12)
REFLECTORS=(10.210.4.1 10.210.4.2 10.210.4.3 10.210.4.4 10.210.4.5 10.210.4.6 10.210.4.7 10.210.4.8)
REF_GW=10.210.4.254
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
for tool in nmap:nmap hping3:hping3 hydra:hydra sshd:openssh-server vsftpd:vsftpd tcpdump:tcpdump \
    dig:dnsutils sshpass:sshpass dnsmasq:dnsmasq-base curl:curl ping:iputils-ping ip:iproute2 \
    python3:python3 ethtool:ethtool iperf3:iperf3 tc:iproute2; do
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
inref() { ip netns exec "$REF_NS" "$@"; }
now() { date +%s.%N; }

cleanup() {
    set +e
    touch "$TMP/stop" 2>/dev/null
    disown -a 2>/dev/null # no "Terminated" notices for the services killed below
    # Every process left in our namespaces was started by this script.
    for ns in "$ATT_NS" "$VIC_NS" "$REF_NS"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill "$pid" 2>/dev/null; done
        fi
    done
    sleep 0.5
    for ns in "$ATT_NS" "$VIC_NS" "$REF_NS"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns" 2>/dev/null); do kill -9 "$pid" 2>/dev/null; done
            ip netns del "$ns" 2>/dev/null
        fi
    done
    ip link del "$A_IF" 2>/dev/null
    ip link del "$RA_IF" 2>/dev/null
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
    for ns in "$ATT_NS" "$VIC_NS" "$REF_NS"; do
        if ip netns list | grep -qw "$ns"; then
            for pid in $(ip netns pids "$ns"); do kill -9 "$pid" 2>/dev/null || true; done
            ip netns del "$ns"
        fi
    done
    ip netns add "$ATT_NS"
    ip netns add "$VIC_NS"
    ip netns add "$REF_NS"
    ip link add "$A_IF" netns "$ATT_NS" type veth peer name "$V_IF" netns "$VIC_NS"
    ip link add "$RA_IF" netns "$ATT_NS" type veth peer name "$R_IF" netns "$REF_NS"
    for ns in "$ATT_NS" "$VIC_NS" "$REF_NS"; do
        ip netns exec "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 \
            net.ipv6.conf.default.disable_ipv6=1
    done
    inatt sysctl -qw "net.ipv6.conf.$A_IF.disable_ipv6=1" "net.ipv6.conf.$RA_IF.disable_ipv6=1"
    invic sysctl -qw "net.ipv6.conf.$V_IF.disable_ipv6=1"
    inref sysctl -qw "net.ipv6.conf.$R_IF.disable_ipv6=1"
    # Linux's default, set explicitly: a listening port answers every SYN of a flood (with a
    # cookie once its backlog is full) instead of dropping it.
    invic sysctl -qw net.ipv4.tcp_syncookies=1
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

    # The reflectors' network behind the attacker's namespace (its ARP never reaches the
    # victim's veth). The attacker's namespace forwards between the two links only during the
    # DNS amplification scenario (set_forwarding).
    inatt ip addr add "$REF_GW/24" dev "$RA_IF"
    local r
    for r in "${REFLECTORS[@]}"; do inref ip addr add "$r/24" dev "$R_IF"; done
    ip -n "$REF_NS" link set lo up
    inatt ip link set "$RA_IF" up
    inref ip link set "$R_IF" up
    inref ip route add default via "$REF_GW" dev "$R_IF"
}

set_forwarding() { inatt sysctl -qw "net.ipv4.ip_forward=$1"; }

# Offloads off on both ends of the victim's veth: TCP is segmented to the MTU (1,500) as on a
# real link, instead of 64 KB super-packets in the capture. Set for the scenarios recorded after
# the first eleven (whose packets are all small, so it would not change them).
no_offloads() {
    inatt ethtool -K "$A_IF" tso off gso off gro off >/dev/null 2>&1
    invic ethtool -K "$V_IF" tso off gso off gro off >/dev/null 2>&1
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
        --address=/example/"$VICTIM" \
        --pid-file="$TMP/dnsmasq.pid" --log-facility="$TMP/dnsmasq.log" &

    # Big files for the benign transfers.
    head -c $((3 * 1024 * 1024)) /dev/urandom >"$TMP/www/backup.tar"
    head -c $((3 * 1024 * 1024)) /dev/urandom >"$TMP/upload.bin"
    local p
    for p in $(seq 1 20); do
        head -c $((200 + p * 150)) /dev/zero | tr '\0' 'x' |
            sed 's/^/<html><body>/; s/$/<\/body><\/html>/' >"$TMP/www/page$p.html"
    done

    # The reflectors: open resolvers with a big TXT record (15 strings of 250 bytes: a ~4 KB
    # answer to a query with EDNS0 4096, 3 IP fragments on a 1,500-byte MTU).
    {
        echo "listen-address=$(IFS=,; echo "${REFLECTORS[*]}")"
        echo "bind-interfaces"
        echo "no-resolv"
        echo "no-hosts"
        echo "edns-packet-max=4096"
        for p in $(seq -w 1 15); do
            echo "txt-record=big.amp.test,\"$p$(head -c 248 /dev/zero | tr '\0' 'a')\""
        done
    } >"$TMP/reflector.conf"
    ip netns exec "$REF_NS" dnsmasq -k -C "$TMP/reflector.conf" --pid-file="$TMP/reflector.pid" \
        --log-facility="$TMP/reflector.log" &

    # Wait until everything answers.
    local tries=0
    until inatt curl -s -o /dev/null --max-time 1 "http://$VICTIM/" &&
        inatt bash -c "exec 3<>/dev/tcp/$VICTIM/22 && exec 3<>/dev/tcp/$VICTIM/21" 2>/dev/null &&
        inatt dig +short +time=1 +tries=1 "@$VICTIM" ready.scenario.test | grep -q . &&
        inref dig +short +time=1 +tries=1 "@${REFLECTORS[0]}" big.amp.test TXT | grep -q .; do
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
ALLOWED_MAX_SEVERITY=
# allow_max_severity SEVERITY: a benign capture where alerts up to this severity are tolerated
allow_max_severity() { ALLOWED_MAX_SEVERITY=$1; }
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
        printf '],\n'
        [ -z "$ALLOWED_MAX_SEVERITY" ] ||
            printf '  "allowed_max_severity": "%s",\n' "$ALLOWED_MAX_SEVERITY"
        printf '  "notes": "%s"\n}\n' "$2"
    } >"$f"
}

SUMMARY=()
# scenario NAME POST_SECONDS NOTES ATTACK_FUNCTION
scenario() {
    local name=$1 post=$2 notes=$3 attack=$4
    if [ -n "${ONLY:-}" ] && [[ " $ONLY " != *" $name "* ]]; then return; fi
    echo "== $name"
    EXPECTED=()
    ALLOWED_MAX_SEVERITY=
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
    SUMMARY+=("$(printf '%-26s %8d bytes %7d packets  expected: %s%s' "$name.pcap" "$size" \
        "$packets" "${kinds[*]:-nothing}" "${ALLOWED_MAX_SEVERITY:+ (alerts up to $ALLOWED_MAX_SEVERITY allowed)}")")
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

attack_hydra_ssh() {
    local t0 t1 i
    for i in $(seq 1 30); do echo "wrong-$i"; done >"$TMP/passwords.txt"
    t0=$(now)
    # hydra's default for ssh: several guesses per connection (up to sshd's MaxAuthTries, 6),
    # 4 connections in parallel: 30 guesses in about 9 connections.
    inatt hydra -q -I -l "$USER_NAME" -P "$TMP/passwords.txt" -t 4 "ssh://$VICTIM" \
        >"$TMP/hydra.log" 2>&1 || true
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

# SYN floods from one real source against a listening port: with SYN cookies on the victim
# answers every SYN with a SYN-ACK, and the attacker's kernel (no socket behind hping3's raw
# packets) answers each SYN-ACK with a RST, so no handshake completes. (On this link the RST
# comes back within microseconds and frees the SYN-queue slot, so the backlog never fills and
# no cookie is actually sent; on the wire it is the same.) ~2,600 SYNs keep the capture small.
attack_syn_flood_cookies() {
    local t0 t1
    t0=$(now)
    inatt hping3 -q -S -p 80 -i u100 -c 2600 "$VICTIM" >/dev/null 2>&1 || true
    t1=$(now)
    expect syn_flood "$ATTACKER" "$VICTIM" 80 "$t0" "$t1"
}

attack_syn_flood_faster() {
    local t0 t1
    t0=$(now)
    inatt hping3 -q -S -p 80 --faster -c 2500 "$VICTIM" >/dev/null 2>&1 || true
    t1=$(now)
    expect syn_flood "$ATTACKER" "$VICTIM" 80 "$t0" "$t1"
}

attack_syn_flood_ssh() {
    local t0 t1
    t0=$(now)
    inatt hping3 -q -S -p 22 -i u100 -c 2600 "$VICTIM" >/dev/null 2>&1 || true
    t1=$(now)
    expect syn_flood "$ATTACKER" "$VICTIM" 22 "$t0" "$t1"
}

attack_icmp_sweep() {
    local t0 t1
    # 10.210.2.0/24 is routed to the victim, which has no address there and does not forward:
    # the echo requests cross the victim's veth and get no answer (no live host).
    inatt ip route add 10.210.2.0/24 via "$VICTIM" dev "$A_IF"
    t0=$(now)
    inatt nmap -sn -PE -n -T4 --max-retries 0 10.210.2.0/24 >"$TMP/nmap.log"
    t1=$(now)
    inatt ip route del 10.210.2.0/24 via "$VICTIM" dev "$A_IF"
    expect port_scan "$ATTACKER" null null "$t0" "$t1"
}

attack_tcp_ack_sweep() {
    local t0 t1
    # 10.210.1.0/24: the extra hosts .10-.60 answer the ACK with a RST, the rest is silent.
    t0=$(now)
    inatt nmap -sn -PA80 -n -T4 --max-retries 0 10.210.1.0/24 >"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" null null "$t0" "$t1"
}

attack_ack_scan() {
    local t0 t1
    t0=$(now)
    inatt nmap -sA -n -T4 -p1-1000 "$VICTIM" >"$TMP/nmap.log"
    t1=$(now)
    expect port_scan "$ATTACKER" "$VICTIM" null "$t0" "$t1"
}

attack_arp_sweep() {
    local t0 t1
    # nmap writes its ARP requests to the link itself (the static neighbour entries do not
    # matter); the victim answers for its own address.
    t0=$(now)
    inatt nmap -sn -PR -n -T4 -e "$A_IF" -S "$ATTACKER" 10.210.0.0/24 >"$TMP/nmap.log" 2>&1
    t1=$(now)
    expect port_scan "$ATTACKER" null null "$t0" "$t1"
}

attack_tcp_reflection() {
    local t0 t1
    # What a victim of a TCP reflection attack receives: SYN-ACKs from thousands of servers
    # (spoofed here; source port 443 kept, destination ports counting up from 1024) to SYNs it
    # never sent. The victim has no route back, so it sends no RSTs.
    t0=$(now)
    inatt hping3 -q -S -A --rand-source -k -s 443 -p ++1024 --faster -c 2500 "$VICTIM" \
        >/dev/null 2>&1 || true
    t1=$(now)
    expect ddos null "$VICTIM" null "$t0" "$t1"
}

attack_dns_amplification() {
    local t0 t1 r pids=() len
    # A DNS query for big.amp.test TXT with EDNS0 (UDP size 4096), sent to the 8 reflectors
    # with the victim's address as source (~62 queries/s each, ~500/s in all, for ~2 s). The
    # reflectors' ~4 KB answers leave them as 3 IP fragments each (only the first carries the
    # UDP header) and reach the victim through the attacker's namespace; the queries never
    # cross the victim's link.
    python3 - "$TMP/query.bin" <<'EOF'
import struct, sys
name = b"".join(bytes([len(l)]) + l for l in b"big.amp.test".split(b".")) + b"\0"
query = struct.pack(">HHHHHH", 0x5757, 0x0100, 1, 0, 0, 1) + name + struct.pack(">HH", 16, 1)
query += b"\0" + struct.pack(">HHIH", 41, 4096, 0, 0)  # OPT: EDNS0, 4,096-byte answers
open(sys.argv[1], "wb").write(query)
EOF
    len=$(stat -c %s "$TMP/query.bin")
    set_forwarding 1
    t0=$(now)
    for r in "${REFLECTORS[@]}"; do
        inatt hping3 -q --udp -a "$VICTIM" -p 53 -E "$TMP/query.bin" -d "$len" -i u16000 \
            -c 125 "$r" >/dev/null 2>&1 &
        pids+=($!)
    done
    wait "${pids[@]}" || true
    sleep 0.2 # the last answers
    t1=$(now)
    set_forwarding 0
    expect dns_amplification null "$VICTIM" null "$t0" "$t1"
}

# Benign heavy traffic from the client: nothing above severity low may be raised.

attack_benign_download() {
    allow_max_severity low
    # One 3 MB download over a 100 Mbit/s link (shaped on the victim's side).
    invic tc qdisc add dev "$V_IF" root tbf rate 100mbit burst 16k latency 50ms
    inatt curl -s -o /dev/null --max-time 20 --interface "$CLIENT" "http://$VICTIM/backup.tar"
    invic tc qdisc del dev "$V_IF" root
    sleep 8
}

attack_benign_upload() {
    allow_max_severity low
    # A 3 MB backup over scp, limited to 4,000 kbit/s (~15 s with scp's accounting); -O: the classic scp protocol
    # (the test sshd has no sftp subsystem).
    inatt sshpass -p "$USER_PASS" scp -O "${SSH_OPTS[@]}" -o BindAddress="$CLIENT" -l 4000 \
        "$TMP/upload.bin" "$USER_NAME@$VICTIM:/dev/null"
}

attack_benign_parallel_http() {
    allow_max_severity low
    # 400 short HTTP requests (20 small pages), 20 at a time, one connection each (HTTP/1.0).
    seq 0 399 | inatt xargs -P 20 -I{} sh -c \
        'curl -s -o /dev/null --max-time 5 --interface "$1" "http://$2/page$(($3 % 20 + 1)).html"' \
        _ "$CLIENT" "$VICTIM" {}
    sleep 4
}

attack_benign_dns_heavy() {
    allow_max_severity low
    # 1,500 A queries (an IPv4-only host) for 600 names in 150 domains, ~150/s, each from a
    # fresh source port like a stub resolver; every one answered.
    inatt python3 - "$CLIENT" "$VICTIM" <<'EOF'
import random, socket, struct, sys, time
client, server = sys.argv[1:3]
rng = random.Random(5757)
words = ["north", "river", "cloud", "maple", "stone", "pixel", "harbor", "cedar", "lumen",
         "orbit", "delta", "summit", "meadow", "copper", "falcon", "willow", "atlas", "ember",
         "nimbus", "quartz", "sparrow", "tundra", "velvet", "zephyr"]
suffixes = ["", "-shop", "-news", "-labs", "mail", "-cdn", "hub", "-media"]
domains = rng.sample(["%s%s.example" % (w, x) for w in words for x in suffixes], 150)
hosts = ["www", "api", "cdn", "static", "img", "mail", "login", "m", "news", "assets"]
names = ["%s.%s" % (h, d) for d in domains for h in rng.sample(hosts, 4)]
def query(name, qtype):
    qid = rng.getrandbits(16)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(l)]) + l.encode() for l in name.split(".")) + b"\0"
    return q + struct.pack(">HH", qtype, 1)
start = time.monotonic()
for i in range(1500):
    name = rng.choice(names)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((client, 0))
    s.settimeout(1)
    s.sendto(query(name, 1), (server, 53))
    try:
        s.recvfrom(2048)
    except socket.timeout:
        pass
    s.close()
    delay = start + (i + 1) / 150 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
EOF
}

attack_benign_streaming() {
    allow_max_severity low
    # A 4 Mbit/s UDP stream of 1,200-byte datagrams (~420/s) for 8 s to an iperf3 receiver.
    ip netns exec "$VIC_NS" iperf3 -s -1 -B "$VICTIM" >/dev/null 2>&1 &
    local srv=$! tries=0
    until invic ss -ltn | grep -q ":5201 "; do
        tries=$((tries + 1))
        [ $tries -lt 50 ] || break
        sleep 0.1
    done
    inatt iperf3 -c "$VICTIM" -B "$CLIENT" -u -b 4M -l 1200 -t 8 >/dev/null
    wait "$srv" || true
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
scenario hydra_ssh_brute_force 20 "hydra -l $USER_NAME -P (30 wrong passwords) -t 4 ssh://$VICTIM from $ATTACKER: several guesses per connection (sshd MaxAuthTries 6), about 9 connections; $BG" attack_hydra_ssh
scenario ftp_brute_force 20 "15 failed FTP logins (python ftplib, 3 in parallel, one guess per connection) $ATTACKER -> $VICTIM:21; $BG" attack_ftp_brute

no_offloads
scenario syn_flood_cookies "$POST" "hping3 -S -p 80 -i u100 -c 2600 $ATTACKER -> $VICTIM (one real source, source ports counting up, ~0.5 s at ~5,000 SYN/s) against the listening HTTP port (SYN cookies on; on this link each RST frees its SYN-queue slot at once, so no cookie is needed): every SYN answered by a SYN-ACK, every SYN-ACK by the attacker kernel's RST, no handshake completed; $BG" attack_syn_flood_cookies
scenario syn_flood_faster "$POST" "hping3 -S -p 80 --faster -c 2500 $ATTACKER -> $VICTIM (a burst of a fraction of a second) against the listening HTTP port with SYN cookies on: SYN, SYN-ACK, RST; $BG" attack_syn_flood_faster
scenario syn_flood_ssh "$POST" "hping3 -S -p 22 -i u100 -c 2600 $ATTACKER -> $VICTIM:22 (sshd listening, SYN cookies on): every SYN answered by a SYN-ACK and a RST from the attacker, no login attempt: a SYN flood, not a brute force; $BG" attack_syn_flood_ssh
scenario icmp_sweep "$POST" "nmap -sn -PE -T4 --max-retries 0 10.210.2.0/24 from $ATTACKER: one ICMP echo request to each of 256 addresses routed to the victim's veth, no live host, no answer; $BG" attack_icmp_sweep
scenario tcp_ack_sweep "$POST" "nmap -sn -PA80 -T4 --max-retries 0 10.210.1.0/24 from $ATTACKER: one TCP ACK to port 80 of each of 256 addresses; the 51 extra hosts 10.210.1.$EXTRA_FIRST-$EXTRA_LAST answer with a RST, the others not at all; $BG" attack_tcp_ack_sweep
scenario nmap_ack_scan "$POST" "nmap -sA -T4 -p1-1000 $ATTACKER -> $VICTIM (an ACK to each port, every one answered by a RST); $BG" attack_ack_scan
scenario arp_sweep "$POST" "nmap -sn -PR -T4 10.210.0.0/24 from $ATTACKER: ARP who-has requests for the whole /24 (broadcast, retried for silent addresses), answered only for $VICTIM; $BG" attack_arp_sweep
scenario tcp_reflection "$POST" "hping3 -S -A --rand-source -k -s 443 -p ++1024 --faster -c 2500 -> $VICTIM: 2,500 unsolicited SYN-ACKs from 2,500 random sources (port 443) within a fraction of a second, as a TCP reflection victim receives them; no RSTs back (no route); $BG" attack_tcp_reflection
scenario dns_amplification "$POST" "DNS amplification: hping3 --udp -a $VICTIM sends EDNS0 queries for big.amp.test TXT to 8 open resolvers (dnsmasq, ${REFLECTORS[0]}-8, behind the attacker's namespace), ~500/s for ~2 s; the victim receives ~1,000 unsolicited ~4 KB answers, each as 3 IP fragments, from 8 sources; the spoofed queries are not on the victim's link; $BG" attack_dns_amplification
scenario benign_download "$POST" "benign: one 3 MB HTTP download (curl) $CLIENT <- $VICTIM:80 at 100 Mbit/s (tbf on the victim's side), offloads off (1,500-byte packets); no attack, alerts up to severity low allowed; $BG" attack_benign_download
scenario benign_upload "$POST" "benign: a 3 MB backup upload with scp -O -l 4000 (~15 s) $CLIENT -> $USER_NAME@$VICTIM:22, offloads off; no attack, alerts up to severity low allowed; $BG" attack_benign_upload
scenario benign_parallel_http "$POST" "benign: 400 short HTTP/1.0 requests (curl via xargs -P 20, 20 small pages) $CLIENT -> $VICTIM:80 (python http.server, listen backlog 5: a few dozen SYNs dropped and retransmitted after 1 s); no attack, alerts up to severity low allowed; $BG" attack_benign_parallel_http
scenario benign_dns_heavy "$POST" "benign: 1,500 DNS A queries (drawn from 600 names in 150 *.example domains) at ~150/s from $CLIENT to dnsmasq on $VICTIM, a fresh source port each, all answered; no attack, alerts up to severity low allowed; $BG" attack_benign_dns_heavy
scenario benign_streaming "$POST" "benign: iperf3 -u -b 4M -l 1200 -t 8 $CLIENT -> $VICTIM:5201 (a ~420 datagrams/s stream, plus iperf3's TCP control connection); no attack, alerts up to severity low allowed; $BG" attack_benign_streaming

# An index of everything in the directory (also the scenarios not remade by ONLY=...).
{
    echo "# Labelled attack captures"
    echo
    echo "Made by \`scripts/make-scenarios.sh\` (run it as root to remake them); checked by"
    echo "\`crates/wirewatch/tests/detect_scenarios.rs\`. Attacker $ATTACKER, benign client $CLIENT,"
    echo "victim $VICTIM (extra hosts 10.210.1.$EXTRA_FIRST-$EXTRA_LAST), DNS reflectors ${REFLECTORS[0]}-${#REFLECTORS[@]},"
    echo "snaplen $SNAPLEN. Each \`<name>.truth.json\` lists the attacks (kind, source, target, port,"
    echo "time window in seconds since the epoch: the packet timestamps) and says what the capture"
    echo "holds; benign captures of heavy traffic name the highest alert severity they tolerate"
    echo "(\`allowed_max_severity\`)."
    echo
    echo "| capture | bytes | packets | expected alerts |"
    echo "|---|---|---|---|"
    for t in "$OUT"/*.truth.json; do
        n=$(basename "$t" .truth.json)
        expected=$(python3 -c 'import json, sys
t = json.load(open(sys.argv[1]))
allowed = t.get("allowed_max_severity")
print((", ".join(x["kind"] for x in t["expected"]) or "none")
      + (" (alerts up to %s allowed)" % allowed if allowed else ""))' "$t")
        echo "| \`$n.pcap\` | $(stat -c %s "$OUT/$n.pcap") |" \
            "$(tcpdump -r "$OUT/$n.pcap" -n 2>/dev/null | wc -l) | $expected |"
    done
} >"$OUT/README.md"

echo
echo "Made in $OUT:"
for line in "${SUMMARY[@]}"; do echo "  $line"; done
echo "  README.md (index of the directory)"
du -sh "$OUT"
