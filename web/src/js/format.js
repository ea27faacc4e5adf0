// Human-readable formatting of numbers, rates, sizes, durations and times (pure, no DOM).

const NUM = new Intl.NumberFormat('en-US');

function finite(x) {
  return typeof x === 'number' && Number.isFinite(x);
}

/** Three significant digits at most, trailing zeros kept to one decimal place (e.g. 1.23, 12.3, 123). */
function sig3(x) {
  const a = Math.abs(x);
  if (a >= 100) return x.toFixed(0);
  if (a >= 10) return x.toFixed(1);
  return x.toFixed(2);
}

/** Scales `value` by `base` through `units` (units[0] for the unscaled value). */
function scaled(value, base, units, plainDigits) {
  if (!finite(value)) return '–';
  let v = value;
  let i = 0;
  while (Math.abs(v) >= base && i < units.length - 1) {
    v /= base;
    i += 1;
  }
  // Avoid "1000 kbit/s" after rounding: step up when the rounded value reaches the base.
  if (i < units.length - 1 && Math.abs(Number(sig3(v))) >= base) {
    v /= base;
    i += 1;
  }
  const digits = i === 0 && plainDigits !== undefined ? v.toFixed(plainDigits) : sig3(v);
  return `${digits} ${units[i]}`;
}

/** Bits per second: 1234.5 → "1.23 kbit/s" (SI, powers of 1000). */
export function formatBps(bps) {
  return scaled(bps, 1000, ['bit/s', 'kbit/s', 'Mbit/s', 'Gbit/s', 'Tbit/s'], 0);
}

/** Bytes: 123456 → "121 KiB" (IEC, powers of 1024); below 1 KiB exact ("512 B"). */
export function formatBytes(bytes) {
  return scaled(bytes, 1024, ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'], 0);
}

/** Packets per second: 9.5 → "9.50 pkt/s", 12345 → "12.3k pkt/s". */
export function formatPps(pps) {
  if (!finite(pps)) return '–';
  return `${formatCompact(pps)} pkt/s`;
}

/** A count with thousands separators: 1234567 → "1,234,567". */
export function formatCount(n) {
  if (!finite(n)) return '–';
  return NUM.format(Math.round(n));
}

/** A compact number: 999 → "999", 12345 → "12.3k", 2.5e6 → "2.50M"; fractions below 1000 keep 3 digits. */
export function formatCompact(n) {
  if (!finite(n)) return '–';
  const a = Math.abs(n);
  if (a < 1000) return Number.isInteger(n) ? String(n) : sig3(n);
  const units = ['', 'k', 'M', 'G', 'T', 'P'];
  let v = n;
  let i = 0;
  while (Math.abs(v) >= 1000 && i < units.length - 1) {
    v /= 1000;
    i += 1;
  }
  if (i < units.length - 1 && Math.abs(Number(sig3(v))) >= 1000) {
    v /= 1000;
    i += 1;
  }
  return `${sig3(v)}${units[i]}`;
}

/** A duration in seconds: 4.2 → "4.2 s", 42 → "42 s", 3725 → "1 h 02 min 05 s", 90061 → "1 d 01 h 01 min". */
export function formatDuration(seconds) {
  if (!finite(seconds) || seconds < 0) return '–';
  if (seconds < 10) return `${seconds.toFixed(1)} s`;
  let s = Math.floor(seconds);
  if (s < 60) return `${s} s`;
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  const p2 = (x) => String(x).padStart(2, '0');
  if (d > 0) return `${d} d ${p2(h)} h ${p2(m)} min`;
  if (h > 0) return `${h} h ${p2(m)} min ${p2(s)} s`;
  return `${m} min ${p2(s)} s`;
}

/** Milliseconds: 0 → "0 ms", 0.333 → "0.33 ms", 12 → "12.0 ms", 310 → "310 ms", 1240 → "1.24 s". */
export function formatMs(ms) {
  if (!finite(ms)) return '–';
  if (ms === 0) return '0 ms';
  return Math.abs(ms) >= 1000 ? `${sig3(ms / 1000)} s` : `${sig3(ms)} ms`;
}

/** A rate of events per second: 0 → "0 /s", 0.5 → "0.50 /s", 1234 → "1.23k /s". */
export function formatPerSecond(n) {
  if (!finite(n)) return '–';
  return `${formatCompact(n)} /s`;
}

/** A 0–1 fraction as a percentage: 0.9 → "90 %". */
export function formatPercent(fraction) {
  if (!finite(fraction)) return '–';
  return `${Math.round(fraction * 100)} %`;
}

/**
 * Normalises a timestamp to seconds since the epoch. The contract says seconds (float), but
 * stored alerts serialise their times as integer nanoseconds; milliseconds are accepted too.
 */
export function toSeconds(ts) {
  if (!finite(ts)) return NaN;
  const a = Math.abs(ts);
  if (a >= 1e17) return ts / 1e9; // nanoseconds
  if (a >= 1e14) return ts / 1e6; // microseconds
  if (a >= 1e11) return ts / 1e3; // milliseconds
  return ts;
}

function parts(ts, utc) {
  const d = new Date(toSeconds(ts) * 1000);
  if (Number.isNaN(d.getTime())) return null;
  return utc
    ? [d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), d.getUTCHours(), d.getUTCMinutes(), d.getUTCSeconds(), d.getUTCMilliseconds()]
    : [d.getFullYear(), d.getMonth() + 1, d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds()];
}

const p2 = (x) => String(x).padStart(2, '0');

/** Time of day "HH:MM:SS" (local time unless `utc`); `ms` adds ".mmm". */
export function formatTime(ts, { utc = false, ms = false } = {}) {
  const p = parts(ts, utc);
  if (!p) return '–';
  const base = `${p2(p[3])}:${p2(p[4])}:${p2(p[5])}`;
  return ms ? `${base}.${String(p[6]).padStart(3, '0')}` : base;
}

/** Date and time "YYYY-MM-DD HH:MM:SS" (local time unless `utc`). */
export function formatDateTime(ts, { utc = false } = {}) {
  const p = parts(ts, utc);
  if (!p) return '–';
  return `${p[0]}-${p2(p[1])}-${p2(p[2])} ${p2(p[3])}:${p2(p[4])}:${p2(p[5])}`;
}

/** Application label; a guess from a well-known port gets a question mark ("tls?"). */
export function formatApp(app, appSource) {
  if (!app) return '';
  return appSource === 'port' ? `${app}?` : String(app);
}

/** A port or an empty string for port-less protocols. */
export function formatPort(port) {
  return port === null || port === undefined ? '' : String(port);
}

/** "a → b" ports, or '' when neither side has one. */
export function formatPorts(srcPort, dstPort) {
  if ((srcPort === null || srcPort === undefined) && (dstPort === null || dstPort === undefined)) return '';
  return `${formatPort(srcPort) || '–'} → ${formatPort(dstPort) || '–'}`;
}

/** An address with its learned name when there is one: "192.0.2.7 (example.org)". */
export function formatHost(ip, name) {
  return name ? `${ip} (${name})` : String(ip ?? '');
}

/** A list of addresses shortened to `max` entries: "a, b, c +4". */
export function formatList(items, max = 3) {
  if (!Array.isArray(items) || items.length === 0) return '–';
  const shown = items.slice(0, max).map(String).join(', ');
  return items.length > max ? `${shown} +${items.length - max}` : shown;
}
