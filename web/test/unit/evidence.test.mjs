// Unit tests of the alert evidence helpers in js/evidence.js (link path, label, tooltip).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evidenceCollecting, evidenceHref, evidenceLabel, evidencePcap, evidenceSortValue, evidenceTitle } from '../../src/js/evidence.js';

const pcap = {
  file: 'alert-12.pcap',
  path: '/var/lib/wirewatch/t.evidence/alert-12.pcap',
  from: 1700000000000000000,
  until: 1700000020000000000,
  hosts: ['10.0.0.1', '10.0.0.2'],
  packets: 1234,
  bytes: 56789,
  complete: false,
  missing_before: false,
  truncated: 0,
};

test('only a non-negative safe integer id makes a link', () => {
  assert.equal(evidenceHref(12), 'api/alerts/12/evidence');
  assert.equal(evidenceHref(0), 'api/alerts/0/evidence');
  for (const bad of [-1, 1.5, NaN, Infinity, 2 ** 53, '12', '../status', null, undefined, {}]) {
    assert.equal(evidenceHref(bad), null, String(bad));
  }
});

test('the capture is found in evidence.pcap (object or JSON text)', () => {
  assert.equal(evidencePcap({ evidence: { pcap } }), pcap);
  assert.deepEqual(evidencePcap({ evidence: JSON.stringify({ pcap }) }), pcap);
  assert.equal(evidencePcap({ evidence: { syns: 5 } }), null);
  assert.equal(evidencePcap({ evidence: { pcap: 'x' } }), null);
  assert.equal(evidencePcap({ evidence: { pcap: [1] } }), null);
  assert.equal(evidencePcap({ evidence: 'not json' }), null);
  assert.equal(evidencePcap({}), null);
  assert.equal(evidencePcap(null), null);
});

test('label, collecting flag and sort value', () => {
  assert.equal(evidenceLabel(pcap), 'pcap · 1,234 pkts');
  assert.equal(evidenceLabel({}), 'pcap · ? pkts');
  assert.equal(evidenceCollecting(pcap), true);
  assert.equal(evidenceCollecting({ ...pcap, complete: true }), false);
  assert.equal(evidenceSortValue({ id: 3, evidence: { pcap } }), 1234);
  assert.equal(evidenceSortValue({ id: 'x', evidence: { pcap } }), -1);
  assert.equal(evidenceSortValue({ id: 3, evidence: {} }), -1);
});

test('the tooltip names the hosts, the window and the caveats', () => {
  const t = evidenceTitle(pcap);
  assert.match(t, /hosts 10\.0\.0\.1, 10\.0\.0\.2/);
  assert.match(t, /window 2023-11-\d\d \d\d:\d\d:\d\d – 2023-11-\d\d \d\d:\d\d:\d\d/);
  assert.match(t, /1,234 packets, 55\.5 KiB so far \(still collecting\)/);
  assert.doesNotMatch(t, /left out|ring/);
  const t2 = evidenceTitle({ ...pcap, hosts: [], complete: true, missing_before: true, truncated: 3 });
  assert.match(t2, /all hosts/);
  assert.doesNotMatch(t2, /collecting/);
  assert.match(t2, /start of the window had already left the packet ring/);
  assert.match(t2, /3 packets left out/);
});
