// Unit tests of js/history-query.js: URL ↔ view, API and export parameters, page text.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { defaultView, exportHref, historyParams, localInputToRfc3339, pageInfo, parseView, timeParams, viewToSearch, SORT_COLUMNS } from '../../src/js/history-query.js';

test('default view and its URL round trip', () => {
  const v = defaultView();
  assert.equal(v.tab, 'intervals');
  assert.equal(v.preset, '1h');
  assert.deepEqual(parseView(viewToSearch(v)), v);
});

test('parseView rejects unknown tabs, sort columns and bad paging', () => {
  const v = parseView('?tab=passwords&sort=password&limit=0&offset=-3&range=99y');
  assert.equal(v.tab, 'intervals');
  assert.equal(v.sort, '');
  assert.equal(v.limit, 50);
  assert.equal(v.offset, 0);
  assert.equal(v.preset, '1h');
  const w = parseView('?tab=flows&sort=bytes&desc=false&limit=100&offset=200&from=2024-01-01T00:00:00Z&ip=10.0.0.0/8&port=22');
  assert.equal(w.tab, 'flows');
  assert.equal(w.sort, 'bytes');
  assert.equal(w.desc, false);
  assert.equal(w.limit, 100);
  assert.equal(w.offset, 200);
  assert.equal(w.preset, '');
  assert.equal(w.from, '2024-01-01T00:00:00Z');
  assert.deepEqual(w.filters, { ip: '10.0.0.0/8', port: '22' });
  assert.deepEqual(parseView(viewToSearch(w)), w);
});

test('each table gets only its own filters; talkers take the direction as kind, transactions their kind', () => {
  const base = { ...defaultView(), filters: { ip: '10.0.0.1', port: '443', proto: 'tcp', name: 'example', kind: 'port_scan', severity: 'high', q: 'scan', direction: 'src', txkind: 'dns' } };
  const p = (tab) => Object.fromEntries(historyParams({ ...base, tab }));
  assert.deepEqual(p('intervals'), { from: '-1h', resolution: 'auto', desc: 'true', limit: '50', offset: '0' });
  assert.deepEqual(p('talkers'), { from: '-1h', ip: '10.0.0.1', kind: 'src', name: 'example', desc: 'true', limit: '50', offset: '0' });
  assert.deepEqual(p('flows'), { from: '-1h', ip: '10.0.0.1', port: '443', proto: 'tcp', name: 'example', q: 'scan', desc: 'true', limit: '50', offset: '0' });
  assert.deepEqual(p('alerts'), { from: '-1h', ip: '10.0.0.1', port: '443', kind: 'port_scan', severity: 'high', q: 'scan', desc: 'true', limit: '50', offset: '0' });
  assert.deepEqual(p('transactions'), { from: '-1h', ip: '10.0.0.1', port: '443', proto: 'tcp', kind: 'dns', name: 'example', q: 'scan', desc: 'true', limit: '50', offset: '0' });
});

test('the transactions view round-trips through the page URL and exports with its kind', () => {
  const v = parseView('?tab=transactions&txkind=http&name=example.com&sort=http_status&desc=false');
  assert.equal(v.tab, 'transactions');
  assert.deepEqual(v.filters, { name: 'example.com', txkind: 'http' });
  assert.equal(v.sort, 'http_status');
  assert.deepEqual(parseView(viewToSearch(v)), v);
  const q = new URLSearchParams(exportHref(v, 'json').split('?')[1]);
  assert.ok(exportHref(v, 'json').startsWith('api/export/transactions?'));
  assert.equal(q.get('kind'), 'http');
  assert.equal(q.get('name'), 'example.com');
  assert.equal(q.get('sort'), 'http_status');
  assert.equal(q.get('txkind'), null);
  // A flows column is no transactions sort.
  assert.equal(parseView('?tab=transactions&sort=bytes').sort, '');
});

test('sort is sent only when the table accepts the column', () => {
  const v = { ...defaultView(), tab: 'alerts', sort: 'severity', desc: false };
  assert.equal(historyParams(v).get('sort'), 'severity');
  assert.equal(historyParams({ ...v, tab: 'intervals' }).get('sort'), null);
  for (const tab of Object.keys(SORT_COLUMNS)) assert.ok(SORT_COLUMNS[tab].length > 0);
});

test('time parameters: presets are relative, custom ranges absolute', () => {
  assert.deepEqual(timeParams({ preset: '7d' }), { from: '-168h', to: '' });
  assert.deepEqual(timeParams({ preset: '', from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' }), { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' });
  process.env.TZ = 'UTC';
  assert.equal(localInputToRfc3339('2024-01-01T10:30'), '2024-01-01T10:30:00Z');
  assert.equal(localInputToRfc3339(''), '');
  assert.equal(localInputToRfc3339('garbage'), '');
});

test('export links carry the filters but no paging', () => {
  const v = { ...defaultView(), tab: 'flows', preset: '24h', filters: { port: '53' }, sort: 'bytes', offset: 100 };
  const href = exportHref(v, 'csv');
  assert.ok(href.startsWith('api/export/flows?'));
  const q = new URLSearchParams(href.split('?')[1]);
  assert.equal(q.get('from'), '-24h');
  assert.equal(q.get('port'), '53');
  assert.equal(q.get('sort'), 'bytes');
  assert.equal(q.get('format'), 'csv');
  assert.equal(q.get('limit'), null);
  assert.equal(q.get('offset'), null);
});

test('page info text', () => {
  assert.equal(pageInfo(0, 50, 1234), 'rows 1–50 of 1,234');
  assert.equal(pageInfo(1200, 34, 1234), 'rows 1,201–1,234 of 1,234');
  assert.equal(pageInfo(0, 0, 0), 'no rows');
  assert.equal(pageInfo(5000, 0, 12), 'no rows here (12 in all)');
});
