// Time series for the charts: live IntervalPoints and stored IntervalRows as one row shape,
// folding live points into roll-up buckets, trimming to a range, alert markers and uPlot
// data arrays (pure, no DOM; unit-tested).

import { toSeconds } from './format.js';

/** Protocol classes in chart order. */
export const PROTOCOL_CLASSES = ['tcp', 'udp', 'icmp', 'icmpv6', 'other_ip', 'non_ip'];

/** Bucket length in seconds of an interval resolution (0: one row per interval). */
export function bucketSeconds(resolution) {
  if (resolution === 'minute') return 60;
  if (resolution === 'hour') return 3600;
  return 0;
}

function num(x) {
  const n = Number(x);
  return Number.isFinite(n) ? n : 0;
}

function protocols(p) {
  const out = {};
  for (const k of PROTOCOL_CLASSES) out[k] = num(p && p[k]);
  return out;
}

/** A row from a snapshot IntervalPoint (`ts` is the interval start). */
export function fromIntervalPoint(p) {
  return {
    ts: toSeconds(num(p.ts)),
    duration_s: num(p.duration_s),
    packets: num(p.packets),
    bytes: num(p.bytes),
    bps: num(p.bps),
    pps: num(p.pps),
    protocols: protocols(p.protocols),
    alerts: num(p.alerts),
  };
}

/** A row from a stored IntervalRow (history API); stored rows carry no alert count. */
export function fromIntervalRow(r) {
  return {
    ts: toSeconds(num(r.start_ts)),
    duration_s: num(r.duration_s),
    packets: num(r.packets),
    bytes: num(r.bytes),
    bps: num(r.bps),
    pps: num(r.pps),
    protocols: protocols(r.protocols),
    alerts: num(r.alerts),
  };
}

function merged(a, b) {
  const duration = a.duration_s + b.duration_s;
  const p = {};
  for (const k of PROTOCOL_CLASSES) p[k] = a.protocols[k] + b.protocols[k];
  const packets = a.packets + b.packets;
  const bytes = a.bytes + b.bytes;
  return {
    ts: a.ts,
    duration_s: duration,
    packets,
    bytes,
    bps: duration > 0 ? (bytes * 8) / duration : a.bps,
    pps: duration > 0 ? packets / duration : a.pps,
    protocols: p,
    alerts: a.alerts + b.alerts,
  };
}

/**
 * Appends rows (oldest first) to `series`. Rows not newer than the series' last row are
 * skipped. With `bucketS` > 0 (a roll-up), a row joins the last bucket when it falls in it
 * (counters summed, rates recomputed over the summed duration; skipped when that bucket is a
 * stored one, marked `fixed`) or opens a new bucket at floor(ts / bucketS) * bucketS.
 * Returns a new array.
 */
export function appendRows(series, rows, bucketS = 0) {
  const out = series.slice();
  for (const row of rows) {
    const last = out[out.length - 1];
    if (bucketS > 0) {
      const start = Math.floor(row.ts / bucketS) * bucketS;
      if (last && start < last.ts) continue;
      if (last && start === last.ts) {
        // A stored roll-up already holds the intervals it covers: adding live points to it
        // would count some twice, so it is kept as it is.
        if (!last.fixed) out[out.length - 1] = merged(last, row);
      } else {
        out.push({ ...row, ts: start, fixed: false });
      }
    } else {
      if (last && row.ts <= last.ts + 1e-6) continue;
      out.push(row);
    }
  }
  return out;
}

/** Keeps rows starting at or after (newest start − `rangeS`). */
export function trimToRange(series, rangeS) {
  if (!series.length || !(rangeS > 0)) return series;
  const cutoff = series[series.length - 1].ts - rangeS;
  const i = series.findIndex((r) => r.ts >= cutoff);
  return i <= 0 ? series : series.slice(i);
}

/**
 * Adds to each row the alerts whose start time falls in [row.ts, next row's ts) (the last row:
 * [ts, ts + its duration, or + `bucketS`]). `alertStarts` are timestamps (any unit toSeconds
 * accepts). Returns new rows.
 */
export function attachAlertCounts(series, alertStarts, bucketS = 0) {
  const starts = (alertStarts || []).map(toSeconds).filter(Number.isFinite).sort((a, b) => a - b);
  const out = series.map((r) => ({ ...r, alerts: 0 }));
  let j = 0;
  for (let i = 0; i < out.length; i += 1) {
    const lo = out[i].ts;
    const hi = i + 1 < out.length ? out[i + 1].ts : lo + Math.max(out[i].duration_s, bucketS, 1);
    while (j < starts.length && starts[j] < lo) j += 1;
    while (j < starts.length && starts[j] < hi) {
      out[i].alerts += 1;
      j += 1;
    }
  }
  return out;
}

/** uPlot data for the bandwidth chart: [ts[], bps[], pps[]]. */
export function rateData(series) {
  return [series.map((r) => r.ts), series.map((r) => r.bps), series.map((r) => r.pps)];
}

/** uPlot data for the protocol chart: [ts[], one packets-per-second array per class]. */
export function protocolRateData(series) {
  return [
    series.map((r) => r.ts),
    ...PROTOCOL_CLASSES.map((k) => series.map((r) => (r.duration_s > 0 ? r.protocols[k] / r.duration_s : null))),
  ];
}

/**
 * uPlot data for the latency and loss chart, from snapshot IntervalPoints (oldest first):
 * [ts[], handshake RTT p50 ms[], p95 ms[], retransmissions per second[]]. An interval without a
 * timed handshake has no RTT (null: a gap), one of no length no rate.
 */
export function tcpData(points) {
  const list = Array.isArray(points) ? points : [];
  const rtt = (x) => (x === null || x === undefined || !Number.isFinite(Number(x)) ? null : Number(x));
  return [
    list.map((p) => toSeconds(num(p.ts))),
    list.map((p) => rtt(p.tcp_rtt_p50_ms)),
    list.map((p) => rtt(p.tcp_rtt_p95_ms)),
    list.map((p) => (num(p.duration_s) > 0 ? num(p.tcp_retransmissions) / num(p.duration_s) : null)),
  ];
}

/**
 * Whether the TCP panel has anything to show: a handshake timed or a segment retransmitted in
 * the recent intervals, or a connection or host in its tables.
 */
export function hasTcpHealth(points, tcp) {
  const rows = tcp && ['slowest', 'lossiest', 'hosts'].some((k) => Array.isArray(tcp[k]) && tcp[k].length > 0);
  return Boolean(rows) || (points || []).some((p) => num(p.tcp_handshakes_timed) > 0 || num(p.tcp_retransmissions) > 0);
}

/** Alert markers: [{ts, count}] for rows with alerts. */
export function alertMarkers(series) {
  return series.filter((r) => r.alerts > 0).map((r) => ({ ts: r.ts, count: r.alerts }));
}
