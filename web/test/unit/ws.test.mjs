// Unit tests of the reconnect backoff in js/ws.js.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs } from '../../src/js/ws.js';

test('backoff doubles from 0.5 s up to 15 s, with ±20 % jitter', () => {
  const mid = () => 0.5;
  assert.equal(backoffMs(0, mid), 500);
  assert.equal(backoffMs(1, mid), 1000);
  assert.equal(backoffMs(3, mid), 4000);
  assert.equal(backoffMs(5, mid), 15000);
  assert.equal(backoffMs(50, mid), 15000);
  assert.equal(backoffMs(0, () => 0), 400);
  assert.equal(backoffMs(0, () => 1), 600);
});
