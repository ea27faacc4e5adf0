// The dashboard's live tables: active connections (client-side sortable, sort kept across
// updates), recent packets and the TCP panel's slowest and lossiest connections and hosts,
// built on DataTable with text-only cells.

import { el } from './dom.js';
import { formatApp, formatBps, formatBytes, formatCount, formatDuration, formatHost, formatMs, formatPorts, formatTime } from './format.js';
import { DataTable } from './tables.js';

const num = (x) => (Number.isFinite(Number(x)) && x !== null ? Number(x) : null);

/** Endpoints, ports and server name columns of a connection row (initiator first). */
const connectionColumns = () => [
  {
    key: 'endpoints',
    label: 'Endpoints',
    value: (c) => `${c.src_ip} ${c.dst_ip}`,
    render: (c) => el('span', { class: 'mono' }, `${c.src_ip ?? ''} → ${c.dst_ip ?? ''}`),
    className: 'nowrap',
  },
  { key: 'ports', label: 'Ports', value: (c) => num(c.dst_port), render: (c) => formatPorts(c.src_port, c.dst_port), className: 'nowrap mono' },
];
const serverNameColumn = () => ({ key: 'server_name', label: 'Server name', value: (c) => c.server_name, render: (c) => String(c.server_name ?? ''), className: 'text-cell' });

/**
 * A numeric column: the formatted value, with the raw number in `data-value` (and the key in
 * `data-field`) for tests and tools.
 */
function numberColumn(key, label, format = formatCount, title = null) {
  return {
    key,
    label,
    title,
    defaultDesc: true,
    value: (r) => num(r[key]),
    render: (r) => el('span', { dataset: { field: key, value: num(r[key]) } }, format(num(r[key]))),
    className: 'num',
  };
}

/** Active connections, most bytes first until the user sorts by another column. */
export function connectionsTable() {
  return new DataTable({
    testid: 'connections-table',
    caption: 'Active connections',
    empty: 'no active connections',
    sort: { key: 'bytes', desc: true },
    columns: [
      ...connectionColumns(),
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
      serverNameColumn(),
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

/**
 * A table of TCP connections (the panel's slowest or lossiest), in the server's order until the
 * user sorts; its rows carry `data-testid` `rowTestid`.
 */
function tcpConnectionsTable(testid, rowTestid, caption) {
  return new DataTable({
    testid,
    caption,
    empty: 'none in the last minutes',
    columns: [
      ...connectionColumns(),
      numberColumn('rtt_ms', 'Handshake RTT', formatMs, 'SYN to the first ACK without SYN'),
      numberColumn('retransmissions', 'Retrans.', formatCount, 'retransmitted segments'),
      numberColumn('lost_segments', 'Lost', formatCount, 'segments after a gap (not captured)'),
      numberColumn('out_of_order', 'Out of order'),
      numberColumn('zero_windows', 'Zero win.', formatCount, 'zero windows announced'),
      serverNameColumn(),
      numberColumn('packets', 'Packets'),
      numberColumn('bytes', 'Bytes', formatBytes),
      {
        key: 'last_ts',
        label: 'Last seen',
        defaultDesc: true,
        value: (c) => num(c.last_ts),
        render: (c) => `${formatTime(c.last_ts)}${c.live ? ' · open' : ''}`,
        className: 'nowrap mono',
      },
    ],
    rowAttrs: (c) => ({ 'data-testid': rowTestid, dataset: { live: c.live ? 'yes' : 'no' } }),
  });
}

/** The connections with the longest handshakes, longest first. */
export function tcpSlowestTable() {
  return tcpConnectionsTable('tcp-slowest-table', 'tcp-slowest-row', 'Slowest TCP handshakes');
}

/** The connections with the most retransmitted and lost segments, most first. */
export function tcpLossiestTable() {
  return tcpConnectionsTable('tcp-lossiest-table', 'tcp-lossiest-row', 'TCP connections with the most loss');
}

/** Hosts by the retransmissions of their TCP connections, most first. */
export function tcpHostsTable() {
  return new DataTable({
    testid: 'tcp-hosts-table',
    caption: 'Hosts by TCP retransmissions',
    empty: 'none in the last minutes',
    columns: [
      { key: 'ip', label: 'Host', value: (h) => h.ip, render: (h) => el('span', { class: 'mono' }, formatHost(h.ip, h.name)), className: 'text-cell' },
      numberColumn('connections', 'Connections'),
      numberColumn('retransmissions', 'Retrans.', formatCount, 'retransmitted segments'),
      numberColumn('lost_segments', 'Lost', formatCount, 'segments after a gap (not captured)'),
      numberColumn('out_of_order', 'Out of order'),
      numberColumn('rtt_mean_ms', 'Mean RTT', formatMs, 'mean handshake RTT of its timed connections'),
    ],
    rowAttrs: () => ({ 'data-testid': 'tcp-host-row' }),
  });
}
