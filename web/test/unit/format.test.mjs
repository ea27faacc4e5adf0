// Unit tests of js/format.js: human units, durations, times, labels.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as f from '../../src/js/format.js';

test('bits per second use SI units', () => {
  assert.equal(f.formatBps(0), '0 bit/s');
  assert.equal(f.formatBps(999), '999 bit/s');
  assert.equal(f.formatBps(1234.5), '1.23 kbit/s');
  assert.equal(f.formatBps(12_345), '12.3 kbit/s');
  assert.equal(f.formatBps(999_999), '1.00 Mbit/s');
  assert.equal(f.formatBps(2.5e9), '2.50 Gbit/s');
  assert.equal(f.formatBps(null), '–');
  assert.equal(f.formatBps(NaN), '–');
});

test('bytes use IEC units', () => {
  assert.equal(f.formatBytes(0), '0 B');
  assert.equal(f.formatBytes(512), '512 B');
  assert.equal(f.formatBytes(1024), '1.00 KiB');
  assert.equal(f.formatBytes(123456), '121 KiB');
  assert.equal(f.formatBytes(5 * 1024 ** 3), '5.00 GiB');
  assert.equal(f.formatBytes(undefined), '–');
});

test('packet rates and counts', () => {
  assert.equal(f.formatPps(9.5), '9.50 pkt/s');
  assert.equal(f.formatPps(10), '10 pkt/s');
  assert.equal(f.formatPps(12345), '12.3k pkt/s');
  assert.equal(f.formatCount(1234567), '1,234,567');
  assert.equal(f.formatCount(0), '0');
  assert.equal(f.formatCompact(999), '999');
  assert.equal(f.formatCompact(999_999), '1.00M');
  assert.equal(f.formatCompact(2.5e6), '2.50M');
});

test('durations', () => {
  assert.equal(f.formatDuration(0), '0.0 s');
  assert.equal(f.formatDuration(4.25), '4.3 s');
  assert.equal(f.formatDuration(42), '42 s');
  assert.equal(f.formatDuration(61), '1 min 01 s');
  assert.equal(f.formatDuration(3725), '1 h 02 min 05 s');
  assert.equal(f.formatDuration(90061), '1 d 01 h 01 min');
  assert.equal(f.formatDuration(-1), '–');
});

test('percentages', () => {
  assert.equal(f.formatPercent(0.9), '90 %');
  assert.equal(f.formatPercent(1), '100 %');
  assert.equal(f.formatPercent(undefined), '–');
});

test('timestamps in seconds, milliseconds or nanoseconds', () => {
  assert.equal(f.toSeconds(1700000000.5), 1700000000.5);
  assert.equal(f.toSeconds(1700000000500), 1700000000.5);
  assert.equal(f.toSeconds(1700000000500000000), 1700000000.5);
  assert.equal(f.formatDateTime(1700000000, { utc: true }), '2023-11-14 22:13:20');
  assert.equal(f.formatDateTime(1700000000123456789, { utc: true }), '2023-11-14 22:13:20');
  assert.equal(f.formatTime(1700000000.25, { utc: true, ms: true }), '22:13:20.250');
  assert.equal(f.formatTime(1700000000, { utc: true }), '22:13:20');
  assert.equal(f.formatTime(undefined), '–');
});

test('labels: application guesses, ports, hosts, lists', () => {
  assert.equal(f.formatApp('tls', 'port'), 'tls?');
  assert.equal(f.formatApp('tls', 'payload'), 'tls');
  assert.equal(f.formatApp(null, null), '');
  assert.equal(f.formatPorts(51000, 443), '51000 → 443');
  assert.equal(f.formatPorts(null, null), '');
  assert.equal(f.formatPorts(null, 8), '– → 8');
  assert.equal(f.formatHost('192.0.2.7', 'example.org'), '192.0.2.7 (example.org)');
  assert.equal(f.formatHost('192.0.2.7', null), '192.0.2.7');
  assert.equal(f.formatList(['a', 'b', 'c', 'd', 'e']), 'a, b, c +2');
  assert.equal(f.formatList([]), '–');
});

test('milliseconds and rates per second', () => {
  assert.equal(f.formatMs(0), '0 ms');
  assert.equal(f.formatMs(0.333), '0.33 ms');
  assert.equal(f.formatMs(12), '12.0 ms');
  assert.equal(f.formatMs(310), '310 ms');
  assert.equal(f.formatMs(1240), '1.24 s');
  assert.equal(f.formatMs(null), '–');
  assert.equal(f.formatPerSecond(0), '0 /s');
  assert.equal(f.formatPerSecond(0.5), '0.50 /s');
  assert.equal(f.formatPerSecond(1234), '1.23k /s');
  assert.equal(f.formatPerSecond(undefined), '–');
});
