// The dashboard's live tables: active connections (client-side sortable, sort kept across
// updates) and recent packets, built on DataTable with text-only cells.

import { el } from './dom.js';
import { formatApp, formatBps, formatBytes, formatCount, formatDuration, formatPorts, formatTime } from './format.js';
import { DataTable } from './tables.js';

const num = (x) => (Number.isFinite(Number(x)) && x !== null ? Number(x) : null);

/** Active connections, most bytes first until the user sorts by another column. */
export function connectionsTable() {
  return new DataTable({
    testid: 'connections-table',
    caption: 'Active connections',
    empty: 'no active connections',
    sort: { key: 'bytes', desc: true },
    columns: [
      {
        key: 'endpoints',
        label: 'Endpoints',
        value: (c) => `${c.src_ip} ${c.dst_ip}`,
        render: (c) => el('span', { class: 'mono' }, `${c.src_ip ?? ''} → ${c.dst_ip ?? ''}`),
        className: 'nowrap',
      },
      { key: 'ports', label: 'Ports', value: (c) => num(c.dst_port), render: (c) => formatPorts(c.src_port, c.dst_port), className: 'nowrap mono' },
      { key: 'proto', label: 'Protocol', value: (c) => c.proto, render: (c) => String(c.proto ?? '') },
      {
        key: 'app',
        label: 'Application',
        value: (c) => c.app,
        render: (c) =>
          c.app
            ? el('span', { class: c.app_source === 'port' ? 'app-guess' : 'app-known', title: c.app_source === 'port' ? 'guessed from the port' : 'recognised from the payload' }, formatApp(c.app, c.app_source))
            : '',
      },
      { key: 'server_name', label: 'Server name', value: (c) => c.server_name, render: (c) => String(c.server_name ?? ''), className: 'text-cell' },
      {
        key: 'threat',
        label: 'Threat',
        value: (c) => c.threat,
        render: (c) => (c.threat ? el('span', { class: 'threat-tag', 'data-testid': 'threat-tag' }, String(c.threat)) : ''),
        className: 'text-cell',
      },
      { key: 'bytes', label: 'Bytes', defaultDesc: true, value: (c) => num(c.bytes), render: (c) => formatBytes(c.bytes), className: 'num' },
      { key: 'packets', label: 'Packets', defaultDesc: true, value: (c) => num(c.packets), render: (c) => formatCount(c.packets), className: 'num' },
      { key: 'rate_bps', label: 'Rate', defaultDesc: true, value: (c) => num(c.rate_bps), render: (c) => formatBps(c.rate_bps), className: 'num' },
      { key: 'duration_s', label: 'Duration', defaultDesc: true, value: (c) => num(c.duration_s), render: (c) => formatDuration(c.duration_s), className: 'num' },
      { key: 'state', label: 'State', value: (c) => c.state, render: (c) => el('span', { class: `state state-${c.state}` }, String(c.state ?? '')) },
    ],
    rowAttrs: (c) => ({ 'data-testid': 'connection-row', dataset: { proto: c.proto, threat: c.threat ? 'yes' : 'no' } }),
  });
}

/** Recent packets, newest first (as the server sends them). */
export function packetsTable() {
  return new DataTable({
    testid: 'packets-table',
    caption: 'Recent packets, newest first',
    empty: 'no packets yet',
    columns: [
      { key: 'ts', label: 'Time', defaultDesc: true, value: (p) => num(p.ts), render: (p) => formatTime(p.ts, { ms: true }), className: 'nowrap mono' },
      { key: 'proto', label: 'Proto', value: (p) => p.proto, render: (p) => String(p.proto ?? '') },
      { key: 'endpoints', label: 'Source → destination', value: (p) => `${p.src} ${p.dst}`, render: (p) => el('span', { class: 'mono' }, `${p.src ?? ''} → ${p.dst ?? ''}`), className: 'nowrap' },
      { key: 'ports', label: 'Ports', value: (p) => num(p.dst_port), render: (p) => formatPorts(p.src_port, p.dst_port), className: 'nowrap mono' },
      { key: 'len', label: 'Length', defaultDesc: true, value: (p) => num(p.len), render: (p) => formatCount(p.len), className: 'num' },
      { key: 'flags', label: 'Flags', value: (p) => p.flags, render: (p) => String(p.flags ?? ''), className: 'mono' },
      { key: 'info', label: 'Info', value: (p) => p.info, render: (p) => String(p.info ?? ''), className: 'text-cell' },
    ],
    rowAttrs: () => ({ 'data-testid': 'packet-row' }),
  });
}
