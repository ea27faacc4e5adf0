// Unit tests of the Packets panel's pure parts in js/packets.js: the /api/packets URL, the
// download's file name from Content-Disposition, and the result line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dispositionFilename, packetsUrl, resultText } from '../../src/js/packets.js';

test('an empty form asks for every recent packet', () => {
  assert.equal(packetsUrl({}), 'api/packets');
  assert.equal(packetsUrl(), 'api/packets');
  assert.equal(packetsUrl({ host: '  ', port: '', flow: null, from: undefined }), 'api/packets');
});

test('only non-empty trimmed fields go into the URL, in a fixed order', () => {
  assert.equal(
    packetsUrl({ format: 'pcapng', host: ' 10.210.0.1 ', source: 'ring', port: '' }),
    'api/packets?source=ring&host=10.210.0.1&format=pcapng',
  );
  assert.equal(packetsUrl({ port: 443, until: '1700000060', from: '1700000000' }), 'api/packets?port=443&from=1700000000&until=1700000060');
});

test('values are percent-encoded with encodeURIComponent', () => {
  assert.equal(
    packetsUrl({ flow: 'tcp 10.0.0.1:51000 10.0.0.2:443' }),
    'api/packets?flow=tcp%2010.0.0.1%3A51000%2010.0.0.2%3A443',
  );
  assert.equal(packetsUrl({ host: '10.0.0.1,10.0.0.2' }), 'api/packets?host=10.0.0.1%2C10.0.0.2');
  assert.equal(packetsUrl({ from: '2024-01-01T00:00:00+01:00' }), 'api/packets?from=2024-01-01T00%3A00%3A00%2B01%3A00');
  // Attempts to smuggle parameters stay one value.
  assert.equal(packetsUrl({ host: 'a&format=x#y' }), 'api/packets?host=a%26format%3Dx%23y');
});

test('unknown keys are ignored', () => {
  assert.equal(packetsUrl({ evil: '1', host: 'h', __proto__: { port: 9 } }), 'api/packets?host=h');
});

test('the file name comes from Content-Disposition, reduced to a base name', () => {
  assert.equal(dispositionFilename('attachment; filename="wirewatch-ring.pcapng"'), 'wirewatch-ring.pcapng');
  assert.equal(dispositionFilename('attachment; filename=alert-12.pcap'), 'alert-12.pcap');
  assert.equal(dispositionFilename("attachment; filename*=UTF-8''caf%C3%A9.pcap"), 'café.pcap');
  assert.equal(dispositionFilename('attachment; filename="../../etc/passwd"'), 'passwd');
  assert.equal(dispositionFilename('attachment; filename="..\\\\x\\\\.hidden"'), 'hidden');
  assert.equal(dispositionFilename('attachment; filename="a\u0001b.pcap"'), 'ab.pcap');
});

test('without a usable name the fallback is used', () => {
  assert.equal(dispositionFilename(null), 'wirewatch-packets.pcap');
  assert.equal(dispositionFilename(''), 'wirewatch-packets.pcap');
  assert.equal(dispositionFilename('attachment'), 'wirewatch-packets.pcap');
  assert.equal(dispositionFilename('attachment; filename=""'), 'wirewatch-packets.pcap');
  assert.equal(dispositionFilename('attachment; filename="/"', 'x.pcapng'), 'x.pcapng');
});

test('the result line counts packets and what was left out', () => {
  assert.equal(resultText('604', '0'), '604 packets');
  assert.equal(resultText('1', null), '1 packet');
  assert.equal(resultText('12345', '7'), '12,345 packets · 7 left out (size cap or another link type)');
  assert.equal(resultText(null, null), '? packets');
});
