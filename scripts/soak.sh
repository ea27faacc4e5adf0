#!/usr/bin/env bash
# Soak benchmark: replays generated traffic covering DAYS days of packet time (default 30)
# through `wirewatch run` with the database and the dashboard on, and prints, per simulated
# day, the resident memory, its high-water mark and the database size. A monitor that is
# bounded at any uptime shows flat memory after the first day and a database that stops
# growing once the retention windows are full (flows: 7 days, raw intervals: 24 hours).
#
# Usage: scripts/soak.sh [DAYS] [PACKETS_PER_SECOND]   (defaults: 30 days, 2 packets/s)
# SOAK_RUN_ARGS adds options to `wirewatch run` (e.g. "--no-db" to tell the database's share).
# The traffic is made on the fly (`wirewatch generate` into a FIFO): nothing large on disk
# but the database. Takes about 30 s per simulated day on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
days=${1:-30}
pps=${2:-2}
scripts/setup.sh
cargo build --release --locked -q -p wirewatch
bin=$PWD/target/release/wirewatch
work=$(mktemp -d)
cleanup() {
  [ -n "${gen:-}" ] && kill "$gen" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT
mkfifo "$work/traffic.pcap"
packets=$(python3 -c "print(int($days * 86400 * $pps))")
flows=$(python3 -c "print(max(1, int($days * 86400 * $pps / 14)))")
"$bin" generate -o "$work/traffic.pcap" --packets "$packets" --flows "$flows" --pps "$pps" \
  --seed 7 2>/dev/null &
gen=$!
echo "soak: $days days of packet time, $pps packets/s ($packets packets), database and dashboard on"
python3 - "$bin" "$work" "$days" <<'PY'
import os, socket, sqlite3, subprocess, sys, time, urllib.request

binary, work, days = sys.argv[1], sys.argv[2], int(sys.argv[3])
db = os.path.join(work, "soak.db")
with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
cmd = [binary, "run", "--read", os.path.join(work, "traffic.pcap"), "--speed", "max",
       "--db", db, "--listen", f"127.0.0.1:{port}", "--lines"]
cmd += os.environ.get("SOAK_RUN_ARGS", "").split()
proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

def status(field):
    try:
        with open(f"/proc/{proc.pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) // 1024
    except OSError:
        pass
    return 0

def db_mib():
    total = 0
    for suffix in ("", "-wal"):
        try:
            total += os.path.getsize(db + suffix)
        except OSError:
            pass
    return total / (1 << 20)

def dashboard_answers():
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/snapshot", timeout=10) as r:
            return r.status == 200
    except Exception:
        return False

print(f"{'day':>4} {'rss MiB':>8} {'peak MiB':>9} {'db MiB':>8} {'dashboard':>9} {'wall s':>7}")
started = time.time()
day, previous, rows, lines, last = 0, None, [], 0, None
for line in proc.stdout:
    if not line[:2].isdigit():
        continue
    lines += 1
    if lines % 3600 == 0:
        last = (status("VmRSS"), status("VmHWM"), db_mib())
    clock = line[:8]
    if previous is not None and clock < previous:
        day += 1
        row = (day, status("VmRSS"), status("VmHWM"), db_mib())
        rows.append(row)
        ok = "answers" if dashboard_answers() else ("(ending)" if proc.poll() is not None or day >= days else "NO ANSWER")
        print(f"{row[0]:>4} {row[1]:>8} {row[2]:>9} {row[3]:>8.1f} {ok:>9} {time.time() - started:>7.0f}",
              flush=True)
    previous = clock
if last is not None:
    print(f"{'end':>4} {last[0]:>8} {last[1]:>9} {last[2]:>8.1f} {'':>9} {time.time() - started:>7.0f}")
err = proc.stderr.read()
code = proc.wait()
if code != 0:
    sys.stderr.write(err)
    sys.exit(f"soak: wirewatch exited with {code}")
for line in err.splitlines():
    if line.startswith("warning") or line.startswith("error"):
        print("  " + line)
if len(rows) >= 2:
    first, last = rows[0], rows[-1]
    print(f"peak memory: day 1 {first[2]} MiB, day {last[0]} {last[2]} MiB "
          f"({last[2] / max(first[2], 1):.2f}x); database {last[3]:.1f} MiB at the end")
    if len(rows) >= 8:
        print(f"day 8 / day 1 peak: {rows[7][2] / max(first[2], 1):.2f}x")
if not os.path.exists(db):
    sys.exit(0)
con = sqlite3.connect(db)
for table in ("intervals", "talkers", "intervals_1m", "intervals_1h", "flows", "alerts"):
    n = con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
    print(f"  {table}: {n} rows")
PY
