// Columns of the history tables (intervals, talkers, flows, alerts, transactions): how each
// stored row field is shown as text; a column is sortable only when the API sorts by its key.

import { el } from './dom.js';
import { formatApp, formatBps, formatBytes, formatCount, formatDateTime, formatDuration, formatList, formatPercent, formatPps, toSeconds } from './format.js';
import { SORT_COLUMNS } from './history-query.js';
import { severityBadge } from './alerts.js';
import { evidenceCell } from './evidence.js';

const mono = (text) => el('span', { class: 'mono' }, String(text ?? ''));

function dropsText(d) {
  if (!d) return '';
  const total = (Number(d.kernel) || 0) + (Number(d.interface) || 0) + (Number(d.queue) || 0);
  return total ? `${formatCount(total)} (k ${formatCount(d.kernel)} · i ${formatCount(d.interface)} · q ${formatCount(d.queue)})` : '0';
}

/** Application details of a flow row, as one line of text. */
export function flowDetails(r) {
  const parts = [];
  if (r.http_method || r.http_host || r.http_path) parts.push(`${r.http_method ?? ''} ${r.http_host ?? ''}${r.http_path ?? ''}`.trim());
  if (r.http_status) parts.push(`HTTP ${r.http_status}`);
  if (r.http_user_agent) parts.push(`UA: ${r.http_user_agent}`);
  if (r.tls_version) parts.push(r.tls_version);
  if (Array.isArray(r.tls_alpn) && r.tls_alpn.length) parts.push(`ALPN ${r.tls_alpn.join(',')}`);
  if (r.ja4 || r.ja4_a) parts.push(`JA4 ${r.ja4 ?? r.ja4_a}`);
  if (r.quic_version) parts.push(`QUIC ${r.quic_version}`);
  if (Array.isArray(r.dns_queries) && r.dns_queries.length) parts.push(`DNS ${r.dns_queries.join(', ')}`);
  if (Array.isArray(r.dns_rcodes) && r.dns_rcodes.length) parts.push(r.dns_rcodes.join(','));
  if (r.ssh_client) parts.push(`SSH client ${r.ssh_client}`);
  if (r.ssh_server) parts.push(`SSH server ${r.ssh_server}`);
  return parts.join(' · ');
}

/** An address and port as one endpoint: "192.0.2.7:443", "[2001:db8::1]:443". */
export function endpoint(ip, port) {
  const host = String(ip ?? '');
  const shown = host.includes(':') ? `[${host}]` : host;
  return port === null || port === undefined ? shown : `${shown}:${port}`;
}

function latency(ms) {
  const n = Number(ms);
  return ms === null || ms === undefined || !Number.isFinite(n) ? '' : `${n < 10 ? n.toFixed(2) : n.toFixed(0)} ms`;
}

/** What a transaction row asked and got, as one line of text (DNS, HTTP or TLS/QUIC). */
export function transactionDetails(r) {
  const parts = [];
  if (r.kind === 'dns') {
    parts.push([r.dns_qtype, r.dns_rcode ?? 'no response'].filter(Boolean).join(' '));
    const answers = Array.isArray(r.dns_answers) ? r.dns_answers : [];
    if (answers.length) {
      const shown = answers.slice(0, 4).map((a) => String(a.data || a.rrtype || '')).join(', ');
      const more = answers.length - 4 + (Number(r.dns_answers_omitted) || 0);
      parts.push(`→ ${shown}${more > 0 ? ` +${more}` : ''}`);
    }
    if (latency(r.dns_latency_ms)) parts.push(latency(r.dns_latency_ms));
  } else if (r.kind === 'http') {
    const request = [r.http_method, r.http_uri].filter(Boolean).join(' ');
    parts.push(`${request || 'no request'} → ${r.http_status ?? 'no response'}`);
    if (r.http_user_agent) parts.push(`UA: ${r.http_user_agent}`);
  } else if (r.kind === 'tls') {
    parts.push([r.quic ? 'QUIC' : 'TLS', r.tls_version].filter(Boolean).join(' '));
    if (Array.isArray(r.tls_alpn) && r.tls_alpn.length) parts.push(`ALPN ${r.tls_alpn.join(',')}`);
    if (r.ja4 || r.ja4_a) parts.push(`JA4 ${r.ja4 ?? r.ja4_a}`);
    if (r.tls_server_hello_seen === false) parts.push('no server hello');
  }
  return parts.join(' · ');
}

const COLUMNS = {
  intervals: [
    { key: 'start_ts', label: 'Start', render: (r) => formatDateTime(r.start_ts), className: 'nowrap mono' },
    { key: 'duration_s', label: 'Duration', render: (r) => formatDuration(r.duration_s), className: 'num' },
    { key: 'packets', label: 'Packets', render: (r) => formatCount(r.packets), className: 'num' },
    { key: 'bytes', label: 'Bytes', render: (r) => formatBytes(r.bytes), className: 'num' },
    { key: 'bps', label: 'Bandwidth', render: (r) => formatBps(r.bps), className: 'num' },
    { key: 'pps', label: 'Packet rate', render: (r) => formatPps(r.pps), className: 'num' },
    { key: 'max_bps', label: 'Peak bw', render: (r) => formatBps(r.max_bps), className: 'num' },
    { key: 'max_pps', label: 'Peak rate', render: (r) => formatPps(r.max_pps), className: 'num' },
    { key: 'distinct_src_ips', label: 'Sources', render: (r) => formatCount(r.distinct_src_ips), className: 'num' },
    { key: 'distinct_dst_ips', label: 'Destinations', render: (r) => formatCount(r.distinct_dst_ips), className: 'num' },
    { key: 'flows_new', label: 'New flows', render: (r) => formatCount(r.flows_new), className: 'num' },
    { key: 'flows_active', label: 'Active flows', render: (r) => formatCount(r.flows_active), className: 'num' },
    { key: 'drops', label: 'Drops', render: (r) => dropsText(r.drops), className: 'num' },
    { key: 'intervals', label: 'Intervals', render: (r) => `${formatCount(r.intervals)} ${r.resolution ? `(${r.resolution})` : ''}`.trim(), className: 'num' },
  ],
  talkers: [
    { key: 'start_ts', label: 'Interval', render: (r) => formatDateTime(r.start_ts), className: 'nowrap mono' },
    { key: 'direction', label: 'Direction', render: (r) => String(r.direction ?? '') },
    { key: 'ip', label: 'Address', render: (r) => mono(r.ip) },
    { key: 'name', label: 'Name', render: (r) => String(r.name ?? ''), className: 'text-cell' },
    { key: 'threat', label: 'Threat', render: (r) => (r.threat ? el('span', { class: 'threat-tag' }, String(r.threat)) : ''), className: 'text-cell' },
    { key: 'packets', label: 'Packets', render: (r) => formatCount(r.packets), className: 'num' },
    { key: 'bytes', label: 'Bytes', render: (r) => formatBytes(r.bytes), className: 'num' },
  ],
  flows: [
    { key: 'first_ts', label: 'First', render: (r) => formatDateTime(r.first_ts), className: 'nowrap mono' },
    { key: 'last_ts', label: 'Last', render: (r) => formatDateTime(r.last_ts), className: 'nowrap mono' },
    { key: 'duration', label: 'Duration', render: (r) => formatDuration(toSeconds(r.last_ts) - toSeconds(r.first_ts)), className: 'num' },
    { key: 'proto', label: 'Proto', render: (r) => String(r.proto ?? '') },
    { key: 'src_ip', label: 'Source', render: (r) => mono(r.src_ip) },
    { key: 'src_port', label: 'Src port', render: (r) => mono(r.src_port), className: 'num' },
    { key: 'dst_ip', label: 'Destination', render: (r) => mono(r.dst_ip) },
    { key: 'dst_port', label: 'Dst port', render: (r) => mono(r.dst_port), className: 'num' },
    { key: 'app', label: 'App', render: (r) => (r.app ? el('span', { class: r.app_source === 'port' ? 'app-guess' : 'app-known' }, formatApp(r.app, r.app_source)) : '') },
    { key: 'server_name', label: 'Server name', render: (r) => String(r.server_name ?? ''), className: 'text-cell' },
    { key: 'threat', label: 'Threat', render: (r) => (r.threat ? el('span', { class: 'threat-tag' }, String(r.threat)) : ''), className: 'text-cell' },
    { key: 'packets', label: 'Packets', render: (r) => formatCount((Number(r.packets_fwd) || 0) + (Number(r.packets_rev) || 0)), className: 'num' },
    { key: 'bytes', label: 'Bytes', render: (r) => formatBytes((Number(r.bytes_fwd) || 0) + (Number(r.bytes_rev) || 0)), className: 'num', title: 'both directions' },
    { key: 'bytes_fwd', label: 'Sent', render: (r) => formatBytes(r.bytes_fwd), className: 'num', title: 'initiator → responder' },
    { key: 'bytes_rev', label: 'Received', render: (r) => formatBytes(r.bytes_rev), className: 'num', title: 'responder → initiator' },
    { key: 'state', label: 'State', render: (r) => String(r.state ?? '') },
    { key: 'end_reason', label: 'Ended by', render: (r) => String(r.end_reason ?? '') },
    { key: 'details', label: 'Details', render: (r) => flowDetails(r), className: 'text-cell wide-text' },
  ],
  alerts: [
    { key: 'start_ts', label: 'Start', render: (r) => formatDateTime(r.start_ts), className: 'nowrap mono' },
    { key: 'last_ts', label: 'Last', render: (r) => formatDateTime(r.last_ts), className: 'nowrap mono' },
    { key: 'id', label: 'Id', render: (r) => String(r.id ?? ''), className: 'num' },
    { key: 'kind', label: 'Kind', render: (r) => String(r.kind ?? '') },
    { key: 'severity', label: 'Severity', render: (r) => severityBadge(r.severity) },
    { key: 'confidence', label: 'Confidence', render: (r) => formatPercent(r.confidence), className: 'num' },
    { key: 'updates', label: 'Updates', render: (r) => formatCount(r.updates), className: 'num' },
    { key: 'sources', label: 'Sources', render: (r) => mono(formatList(r.sources, 4)) },
    { key: 'targets', label: 'Targets', render: (r) => mono(formatList(r.targets, 4)) },
    { key: 'ports', label: 'Ports', render: (r) => mono(formatList(r.ports, 6)) },
    { key: 'evidence', label: 'Evidence', render: (r) => evidenceCell(r), className: 'nowrap' },
    { key: 'message', label: 'Message', render: (r) => String(r.message ?? ''), className: 'text-cell wide-text' },
    { key: 'recommendation', label: 'Recommendation', render: (r) => String(r.recommendation ?? ''), className: 'text-cell muted' },
  ],
  transactions: [
    { key: 'ts', label: 'Time', render: (r) => formatDateTime(r.ts), className: 'nowrap mono' },
    { key: 'kind', label: 'Kind', render: (r) => String(r.kind ?? '') },
    { key: 'src_ip', label: 'Client', render: (r) => mono(endpoint(r.src_ip, r.src_port)) },
    { key: 'dst_ip', label: 'Server', render: (r) => mono(endpoint(r.dst_ip, r.dst_port)) },
    { key: 'name', label: 'Name', render: (r) => String(r.name ?? ''), className: 'text-cell' },
    { key: 'details', label: 'Details', render: (r) => transactionDetails(r), className: 'text-cell wide-text' },
  ],
};

/** The columns of a table, `sortable` where the API accepts the key. */
export function historyColumns(tab) {
  const sortable = new Set(SORT_COLUMNS[tab] || []);
  return (COLUMNS[tab] || []).map((c) => ({
    ...c,
    sortable: sortable.has(c.key),
    defaultDesc: /\bnum\b/.test(c.className || '') || c.key.endsWith('_ts') || c.key === 'severity',
  }));
}

/** Row attributes for browser tests: data-testid="history-row" (alerts and transactions also
 * data-kind). */
export function historyRowAttrs(tab) {
  return (r) => {
    let dataset = null;
    if (tab === 'alerts') dataset = { kind: r.kind, id: r.id };
    else if (tab === 'transactions') dataset = { kind: r.kind };
    return { 'data-testid': 'history-row', dataset };
  };
}
