// Unit tests of js/state.js: full and delta messages merged into the dashboard state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyFull, applyDelta, applyMessage, appendIntervals, mergeAlerts, MAX_RECENT, MAX_ALERTS } from '../../src/js/state.js';

const point = (seq, extra = {}) => ({ seq, ts: 1700000000 + seq - 1, duration_s: 1, packets: seq, bytes: seq * 100, bps: seq * 800, pps: seq, protocols: { tcp: seq }, apps: [], syn: 0, drops: {}, alerts: 0, ...extra });
const alert = (id, seq, extra = {}) => ({ id, kind: 'port_scan', severity: 'high', seq, last_ts: 1700000000 + seq, status: 'opened', message: `m${id}`, ...extra });

function snapshot(seq, extra = {}) {
  const recent = [];
  for (let s = Math.max(1, seq - 9); s <= seq; s += 1) recent.push(point(s));
  return {
    seq, ts: 1700000000 + seq, interval_s: 1,
    status: { running: true, source: 'capturing on eth0', interface: 'eth0', filter: null, last_error: null },
    stats: { bps: 1, pps: 2, pps_avg: 3, packets_total: 4, bytes_total: 5, duration_s: 6, active_connections: 7, distinct_hosts: 8, drops: { kernel: 0, interface: 0, queue: 0 }, drops_interval: { kernel: 0, interface: 0, queue: 0 }, threat: { level: 'low', confidence: 0.9, reasons: [] } },
    recent,
    protocols: { tcp: 1, udp: 2, icmp: 0, icmpv6: 0, other_ip: 0, non_ip: 0 },
    apps: [{ app: 'tls', packets: 1, bytes: 2 }],
    top_sources: [{ ip: '10.0.0.1', name: null, packets: 1, bytes: 2 }],
    top_destinations: [],
    connections: [{ proto: 'tcp', src_ip: '10.0.0.1', dst_ip: '10.0.0.2', bytes: 10 }],
    packets: [{ ts: 1, proto: 'tcp', src: 'a', dst: 'b', len: 60 }],
    alerts: [alert(1, seq - 2), alert(2, seq - 1)],
    ...extra,
  };
}

function delta(seq, extra = {}) {
  const s = snapshot(seq);
  return { type: 'delta', seq, ts: s.ts, interval_s: 1, status: s.status, stats: { ...s.stats, bps: seq }, intervals: [point(seq)], protocols: s.protocols, apps: s.apps, top_sources: s.top_sources, top_destinations: [], connections: [], packets: [], alerts: [], ...extra };
}

test('applyFull copies the snapshot and orders alerts newest change first', () => {
  const st = applyFull(snapshot(20));
  assert.equal(st.seq, 20);
  assert.equal(st.recent.length, 10);
  assert.equal(st.recent[0].seq, 11);
  assert.equal(st.recent.at(-1).seq, 20);
  assert.deepEqual(st.alerts.map((a) => a.id), [2, 1]);
  assert.equal(st.connections.length, 1);
  assert.equal(st.status.interface, 'eth0');
  assert.deepEqual(st.newAlertIds, [], 'nothing is new on the first full message');
  assert.deepEqual(st.changedAlertIds, []);
});

test('applyFull tolerates an empty snapshot (seq 0, before the first interval)', () => {
  const st = applyFull({ seq: 0, ts: 0, interval_s: 1, recent: [], alerts: [] });
  assert.equal(st.seq, 0);
  assert.deepEqual(st.recent, []);
  assert.deepEqual(st.connections, []);
  assert.deepEqual(st.protocols, {});
  assert.deepEqual(st.tcp, {});
});

test('the TCP panel comes whole with every message', () => {
  const slow = { src_ip: '10.0.0.3', dst_ip: '192.0.2.30', rtt_ms: 310 };
  const st = applyFull(snapshot(20, { tcp: { window_s: 300, slowest: [slow], lossiest: [], hosts: [], hosts_evicted: 0 } }));
  assert.equal(st.tcp.slowest[0].rtt_ms, 310);
  const next = applyDelta(st, delta(21, { tcp: { window_s: 300, slowest: [], lossiest: [], hosts: [], hosts_evicted: 2 } }));
  assert.deepEqual(next.tcp.slowest, [], 'replaced, not merged: the connection aged out');
  assert.equal(next.tcp.hosts_evicted, 2);
  // A delta from a server without the panel keeps the last one.
  assert.equal(applyDelta(next, delta(22)).tcp.hosts_evicted, 2);
});

test('applyDelta appends newer intervals and replaces tables and stats', () => {
  const st = applyFull(snapshot(20));
  const next = applyDelta(st, delta(21, { connections: [{ proto: 'udp' }, { proto: 'tcp' }] }));
  assert.notEqual(next, st);
  assert.equal(next.seq, 21);
  assert.equal(next.recent.at(-1).seq, 21);
  assert.equal(next.recent.length, 11);
  assert.equal(next.stats.bps, 21);
  assert.deepEqual(next.connections.map((c) => c.proto), ['udp', 'tcp']);
  assert.deepEqual(next.packets, []);
  // the previous state is untouched (pure)
  assert.equal(st.seq, 20);
  assert.equal(st.recent.length, 10);
  assert.equal(st.connections.length, 1);
});

test('applyDelta skips intervals the client already has and keeps order', () => {
  const st = applyFull(snapshot(20));
  const next = applyDelta(st, delta(23, { intervals: [point(23), point(19), point(20), point(21), point(22)] }));
  assert.deepEqual(next.recent.slice(-4).map((p) => p.seq), [20, 21, 22, 23]);
});

test('applyDelta ignores stale or duplicate deltas and deltas before any full', () => {
  const st = applyFull(snapshot(20));
  assert.equal(applyDelta(st, delta(20)), st);
  assert.equal(applyDelta(st, delta(5)), st);
  assert.equal(applyDelta(null, delta(21)), null);
});

test('a delta with the same seq but a new capture status updates the status only', () => {
  const st = applyFull(snapshot(20));
  const d = { ...delta(20), status: { running: false, source: 'stopped', interface: null, filter: null } };
  const next = applyDelta(st, d);
  assert.notEqual(next, st);
  assert.equal(next.status.running, false);
  assert.equal(next.seq, 20);
  assert.equal(next.recent, st.recent, 'nothing else changes');
  // An older delta never brings an old status back.
  assert.equal(applyDelta(next, { ...delta(19), status: st.status }), next);
});

test('applyDelta merges alerts by id and reports new and updated ids', () => {
  const st = applyFull(snapshot(20));
  const next = applyDelta(st, delta(21, { alerts: [alert(1, 21, { status: 'updated', message: 'updated' }), alert(3, 21)] }));
  assert.equal(next.alerts.length, 3);
  assert.deepEqual(next.alerts.map((a) => a.id).sort(), [1, 2, 3]);
  assert.equal(next.alerts.find((a) => a.id === 1).message, 'updated');
  assert.equal(next.alerts.at(-1).id, 2, 'the oldest change is last');
  assert.deepEqual(next.newAlertIds, [3]);
  assert.deepEqual(next.changedAlertIds.sort(), [1, 3]);
  // the next delta without alerts clears the markers
  const after = applyDelta(next, delta(22));
  assert.deepEqual(after.newAlertIds, []);
  assert.deepEqual(after.changedAlertIds, []);
  assert.equal(after.alerts.length, 3);
});

test('recent intervals and alerts are bounded', () => {
  let st = applyFull(snapshot(1, { recent: [], alerts: [] }));
  for (let s = 2; s <= MAX_RECENT + 50; s += 1) st = applyDelta(st, delta(s, { alerts: [alert(s, s)] }));
  assert.equal(st.recent.length, MAX_RECENT);
  assert.equal(st.recent.at(-1).seq, MAX_RECENT + 50);
  assert.equal(st.alerts.length, MAX_ALERTS);
  assert.equal(st.alerts[0].id, MAX_RECENT + 50);
});

test('a second full message (reconnect) marks alerts that appeared meanwhile', () => {
  const st = applyFull(snapshot(20));
  const again = applyFull(snapshot(30, { alerts: [alert(1, 18), alert(2, 25, { status: 'ended' }), alert(9, 29)] }), st);
  assert.equal(again.seq, 30);
  assert.deepEqual(again.newAlertIds, [9]);
  assert.deepEqual(again.changedAlertIds.sort(), [2, 9]);
});

test('applyMessage dispatches on the message type', () => {
  let st = applyMessage(null, { type: 'delta', seq: 3 });
  assert.equal(st, null);
  st = applyMessage(st, { type: 'full', snapshot: snapshot(5) });
  assert.equal(st.seq, 5);
  st = applyMessage(st, delta(6));
  assert.equal(st.seq, 6);
  assert.equal(applyMessage(st, { type: 'hello' }), st);
  assert.equal(applyMessage(st, null), st);
});

test('helpers: appendIntervals and mergeAlerts', () => {
  assert.deepEqual(appendIntervals([], [point(2), point(1)]).map((p) => p.seq), [1, 2]);
  assert.deepEqual(appendIntervals([point(1), point(2)], [point(3), point(4)], 3).map((p) => p.seq), [2, 3, 4]);
  const list = [point(1)];
  assert.equal(appendIntervals(list, []), list, 'unchanged input is returned as is');
  const { alerts, added } = mergeAlerts([alert(1, 1)], [alert(1, 2), alert(2, 2), null, { seq: 3 }], 10);
  assert.deepEqual(alerts.map((a) => [a.id, a.seq]), [[2, 2], [1, 2]]);
  assert.deepEqual(added, [2]);
});
