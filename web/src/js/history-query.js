// History page query model (pure, no DOM; unit-tested): which filters each table takes, the
// columns the API sorts by, the view ↔ page URL mapping, API and export parameters, and the
// "rows X–Y of total" text.

import { formatCount } from './format.js';

export const TABS = ['intervals', 'talkers', 'flows', 'alerts', 'transactions'];

/** Time presets: the API's relative `from` ("7 d" as hours, the form the contract shows). */
export const PRESETS = { '5m': '-5m', '1h': '-1h', '24h': '-24h', '7d': '-168h' };

/** Search fields each table uses (talkers take `kind` as the direction src/dst, transactions
 * as their kind dns/http/tls: the form's `direction` and `txkind` fields). */
export const FILTERS_BY_TAB = {
  intervals: [],
  talkers: ['ip', 'direction', 'name'],
  flows: ['ip', 'port', 'proto', 'name', 'q'],
  alerts: ['ip', 'port', 'kind', 'severity', 'q'],
  transactions: ['ip', 'port', 'proto', 'txkind', 'name', 'q'],
};

/** Every search field of the form. */
export const FILTER_FIELDS = ['ip', 'port', 'proto', 'name', 'kind', 'severity', 'q', 'direction', 'txkind'];

/** The API parameter of a form field (fields that stand for `kind` in one table). */
const API_PARAM = { direction: 'kind', txkind: 'kind' };

/** Columns the API sorts each table by (the store's whitelist; the first is the default). */
export const SORT_COLUMNS = {
  intervals: ['start_ts', 'packets', 'bytes', 'bps', 'pps', 'max_pps', 'max_bps', 'distinct_src_ips', 'distinct_dst_ips', 'flows_new', 'flows_active', 'flows_closed', 'flows_live', 'flows_evicted', 'decode_errors', 'intervals'],
  talkers: ['start_ts', 'packets', 'bytes', 'ip', 'direction'],
  flows: ['last_ts', 'first_ts', 'duration', 'proto', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'packets', 'bytes', 'packets_fwd', 'bytes_fwd', 'packets_rev', 'bytes_rev', 'state', 'app', 'server_name'],
  alerts: ['last_ts', 'start_ts', 'id', 'kind', 'severity', 'confidence', 'updates'],
  transactions: ['ts', 'kind', 'proto', 'src_ip', 'src_port', 'dst_ip', 'dst_port', 'name', 'dns_qtype', 'dns_rcode', 'dns_latency_ms', 'http_method', 'http_uri', 'http_status', 'tls_version', 'ja4_a'],
};

export const PAGE_SIZES = [25, 50, 100, 250, 500];
export const DEFAULT_LIMIT = 50;

/** The default view: last hour, intervals, newest first. */
export function defaultView() {
  return {
    tab: 'intervals',
    preset: '1h',
    from: '',
    to: '',
    filters: {},
    sort: '',
    desc: true,
    limit: DEFAULT_LIMIT,
    offset: 0,
  };
}

function clean(value) {
  return typeof value === 'string' ? value.trim() : value === undefined || value === null ? '' : String(value);
}

/** The view a page URL query describes (unknown or malformed values fall back to defaults). */
export function parseView(search) {
  const p = new URLSearchParams(search || '');
  const v = defaultView();
  if (TABS.includes(p.get('tab'))) v.tab = p.get('tab');
  const preset = p.get('range');
  const from = clean(p.get('from'));
  const to = clean(p.get('to'));
  if (from || to) {
    v.preset = '';
    v.from = from;
    v.to = to;
  } else if (preset && preset in PRESETS) {
    v.preset = preset;
  }
  for (const f of FILTER_FIELDS) {
    const value = clean(p.get(f));
    if (value) v.filters[f] = value;
  }
  const sort = clean(p.get('sort'));
  if (sort && SORT_COLUMNS[v.tab].includes(sort)) v.sort = sort;
  if (p.has('desc')) v.desc = p.get('desc') !== 'false';
  const limit = Number(p.get('limit'));
  if (Number.isInteger(limit) && limit >= 1 && limit <= 10000) v.limit = limit;
  const offset = Number(p.get('offset'));
  if (Number.isInteger(offset) && offset >= 0) v.offset = offset;
  return v;
}

/** The page URL query for a view (only what differs from nothing). */
export function viewToSearch(view) {
  const p = new URLSearchParams();
  p.set('tab', view.tab);
  if (view.preset) p.set('range', view.preset);
  else {
    if (view.from) p.set('from', view.from);
    if (view.to) p.set('to', view.to);
  }
  for (const f of FILTER_FIELDS) if (view.filters[f]) p.set(f, view.filters[f]);
  if (view.sort) p.set('sort', view.sort);
  p.set('desc', String(Boolean(view.desc)));
  p.set('limit', String(view.limit));
  if (view.offset) p.set('offset', String(view.offset));
  return `?${p.toString()}`;
}

/** The API's `from` / `to` for a view. */
export function timeParams(view) {
  if (view.preset) return { from: PRESETS[view.preset] || '-1h', to: '' };
  return { from: view.from || '', to: view.to || '' };
}

/** Query parameters shared by the history API and the export (no paging). */
function baseParams(view) {
  const p = new URLSearchParams();
  const { from, to } = timeParams(view);
  if (from) p.set('from', from);
  if (to) p.set('to', to);
  if (view.tab === 'intervals') p.set('resolution', 'auto');
  for (const f of FILTERS_BY_TAB[view.tab] || []) {
    const value = clean(view.filters[f]);
    if (!value) continue;
    p.set(API_PARAM[f] || f, value);
  }
  if (view.sort && SORT_COLUMNS[view.tab].includes(view.sort)) p.set('sort', view.sort);
  p.set('desc', String(Boolean(view.desc)));
  return p;
}

/** Parameters of GET /api/history/{tab}. */
export function historyParams(view) {
  const p = baseParams(view);
  p.set('limit', String(view.limit));
  p.set('offset', String(view.offset));
  return p;
}

/** Relative URL of GET /api/export/{tab} for the whole filtered result in `format`. */
export function exportHref(view, format) {
  const p = baseParams(view);
  p.set('format', format);
  return `api/export/${encodeURIComponent(view.tab)}?${p.toString()}`;
}

/** "rows 1–50 of 1,234" (or "no rows"). */
export function pageInfo(offset, count, total) {
  if (!count) return total > 0 ? `no rows here (${formatCount(total)} in all)` : 'no rows';
  return `rows ${formatCount(offset + 1)}–${formatCount(offset + count)} of ${formatCount(total)}`;
}

/** A datetime-local input value (local time) as RFC 3339 UTC, or '' when empty/invalid. */
export function localInputToRfc3339(value) {
  if (!value) return '';
  const d = new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  return d.toISOString().replace(/\.000Z$/, 'Z');
}

/** An RFC 3339 time (or epoch seconds) as a datetime-local input value (local time). */
export function rfc3339ToLocalInput(value) {
  if (!value) return '';
  const d = /^\d+(\.\d+)?$/.test(value) ? new Date(Number(value) * 1000) : new Date(value);
  if (Number.isNaN(d.getTime())) return '';
  const p2 = (x) => String(x).padStart(2, '0');
  return `${d.getFullYear()}-${p2(d.getMonth() + 1)}-${p2(d.getDate())}T${p2(d.getHours())}:${p2(d.getMinutes())}:${p2(d.getSeconds())}`;
}
