// Unit tests of js/series.js: chart rows, roll-up buckets, range trimming, alert markers, the
// latency and loss chart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendRows, attachAlertCounts, alertMarkers, bucketSeconds, fromIntervalPoint, fromIntervalRow, hasTcpHealth, protocolRateData, rateData, tcpData, trimToRange } from '../../src/js/series.js';

const row = (ts, extra = {}) => ({ ts, duration_s: 1, packets: 10, bytes: 1000, bps: 8000, pps: 10, protocols: { tcp: 6, udp: 4, icmp: 0, icmpv6: 0, other_ip: 0, non_ip: 0 }, alerts: 0, ...extra });

test('rows from live points and stored rows share one shape', () => {
  const p = fromIntervalPoint({ seq: 3, ts: 100, duration_s: 1, packets: 5, bytes: 50, bps: 400, pps: 5, protocols: { tcp: 5 }, alerts: 2 });
  assert.deepEqual(p, { ts: 100, duration_s: 1, packets: 5, bytes: 50, bps: 400, pps: 5, protocols: { tcp: 5, udp: 0, icmp: 0, icmpv6: 0, other_ip: 0, non_ip: 0 }, alerts: 2 });
  const r = fromIntervalRow({ start_ts: 60, duration_s: 60, packets: 600, bytes: 6000, bps: 800, pps: 10, protocols: { udp: 600 }, resolution: 'minute' });
  assert.equal(r.ts, 60);
  assert.equal(r.alerts, 0);
  assert.equal(r.protocols.udp, 600);
});

test('bucket lengths of resolutions', () => {
  assert.equal(bucketSeconds('raw'), 0);
  assert.equal(bucketSeconds('minute'), 60);
  assert.equal(bucketSeconds('hour'), 3600);
  assert.equal(bucketSeconds(undefined), 0);
});

test('raw rows append only when newer', () => {
  const s = appendRows([row(1), row(2)], [row(2), row(3), row(2.5), row(4)]);
  assert.deepEqual(s.map((r) => r.ts), [1, 2, 3, 4]);
});

test('live points fold into roll-up buckets with rates over the summed duration', () => {
  let s = appendRows([], [row(120), row(121)], 60);
  assert.equal(s.length, 1);
  assert.equal(s[0].ts, 120);
  assert.equal(s[0].packets, 20);
  assert.equal(s[0].duration_s, 2);
  assert.equal(s[0].pps, 10);
  assert.equal(s[0].bps, 8000);
  assert.equal(s[0].protocols.tcp, 12);
  s = appendRows(s, [row(179, { packets: 40, bytes: 4000, alerts: 1 }), row(185)], 60);
  assert.deepEqual(s.map((r) => r.ts), [120, 180]);
  assert.equal(s[0].packets, 60);
  assert.equal(s[0].pps, 20);
  assert.equal(s[0].alerts, 1);
  assert.equal(s[1].packets, 10);
});

test('a stored roll-up bucket is not added to (no double counting)', () => {
  const stored = { ...row(120, { duration_s: 30, packets: 300 }), fixed: true };
  const s = appendRows([stored], [row(140), row(150), row(180)], 60);
  assert.equal(s.length, 2);
  assert.equal(s[0].packets, 300);
  assert.equal(s[1].ts, 180);
});

test('trimToRange keeps the newest span', () => {
  const s = [row(0), row(100), row(200), row(300), row(400)];
  assert.deepEqual(trimToRange(s, 250).map((r) => r.ts), [200, 300, 400]);
  assert.equal(trimToRange(s, 1000), s);
  assert.deepEqual(trimToRange([], 10), []);
});

test('alert start times become counts per row and markers', () => {
  const s = [row(100), row(160), row(220, { duration_s: 60 })];
  const withAlerts = attachAlertCounts(s, [90, 100, 159.9, 170, 250, 400, 221], 60);
  assert.deepEqual(withAlerts.map((r) => r.alerts), [2, 1, 2]);
  assert.deepEqual(alertMarkers(withAlerts), [{ ts: 100, count: 2 }, { ts: 160, count: 1 }, { ts: 220, count: 2 }]);
  assert.equal(s[0].alerts, 0, 'input untouched');
});

test('uPlot data arrays', () => {
  const s = [row(1), row(2, { duration_s: 2, protocols: { tcp: 10, udp: 0, icmp: 2, icmpv6: 0, other_ip: 0, non_ip: 0 } })];
  assert.deepEqual(rateData(s), [[1, 2], [8000, 8000], [10, 10]]);
  const p = protocolRateData(s);
  assert.equal(p.length, 7);
  assert.deepEqual(p[0], [1, 2]);
  assert.deepEqual(p[1], [6, 5]);
  assert.deepEqual(p[3], [0, 1]);
  assert.deepEqual(protocolRateData([row(1, { duration_s: 0 })])[1], [null]);
});

test('the latency chart takes RTT percentiles as they are and retransmissions per second', () => {
  const points = [
    { seq: 1, ts: 100, duration_s: 1, tcp_retransmissions: 0, tcp_handshakes_timed: 2, tcp_rtt_p50_ms: 12.5, tcp_rtt_p95_ms: 310 },
    { seq: 2, ts: 101, duration_s: 2, tcp_retransmissions: 3, tcp_handshakes_timed: 0, tcp_rtt_p50_ms: null, tcp_rtt_p95_ms: null },
    { seq: 3, ts: 1.03e12, duration_s: 0 }, // milliseconds, no length, no TCP fields (an older server)
  ];
  assert.deepEqual(tcpData(points), [[100, 101, 1.03e9], [12.5, null, null], [310, null, null], [0, 1.5, null]]);
  assert.deepEqual(tcpData(undefined), [[], [], [], []]);
});

test('the TCP panel is empty until a handshake, a retransmission or a row is seen', () => {
  const quiet = [{ tcp_handshakes_timed: 0, tcp_retransmissions: 0 }, {}];
  assert.equal(hasTcpHealth(quiet, {}), false);
  assert.equal(hasTcpHealth(quiet, { slowest: [], lossiest: [], hosts: [] }), false);
  assert.equal(hasTcpHealth([], null), false);
  assert.equal(hasTcpHealth([...quiet, { tcp_handshakes_timed: 1 }], {}), true);
  assert.equal(hasTcpHealth([{ tcp_retransmissions: 2 }], {}), true);
  // Rows outlive the intervals on the chart (a connection seen minutes ago).
  assert.equal(hasTcpHealth(quiet, { hosts: [{ ip: '10.0.0.1' }] }), true);
});
