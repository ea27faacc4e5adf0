// The dashboard's "Latency & loss" panel: handshake RTT and retransmissions per second over the
// recent intervals, and the snapshot's `tcp` tables (slowest and lossiest connections, hosts by
// retransmissions), or a note while no TCP health has been seen.

import { $, setText, show } from './dom.js';
import { TcpChart } from './charts.js';
import { formatCount, formatDuration } from './format.js';
import { tcpHostsTable, tcpLossiestTable, tcpSlowestTable } from './live-tables.js';
import { hasTcpHealth } from './series.js';

export class TcpPanel {
  constructor(root) {
    this.root = root;
    this.empty = $('[data-testid="tcp-empty"]', root);
    this.body = $('.tcp-body', root);
    this.note = $('[data-testid="tcp-note"]', root);
    this.chartBox = $('[data-testid="chart-tcp"]', root);
    this.chart = null; // made when first shown, so it gets the laid-out width
    this.tables = [
      ['slowest', tcpSlowestTable(), '#tcp-slowest'],
      ['lossiest', tcpLossiestTable(), '#tcp-lossiest'],
      ['hosts', tcpHostsTable(), '#tcp-hosts'],
    ];
    for (const [, table, where] of this.tables) $(where, root).appendChild(table.element);
  }

  /** Shows snapshot IntervalPoints `points` (oldest first) and the snapshot's `tcp` section. */
  update(points, tcp) {
    const panel = tcp || {};
    const any = hasTcpHealth(points, panel);
    this.root.dataset.state = any ? 'data' : 'empty';
    show(this.empty, !any);
    show(this.body, any);
    if (!any) return;
    if (!this.chart) this.chart = new TcpChart(this.chartBox);
    this.chart.update(points || []);
    for (const [key, table] of this.tables) table.setRows(Array.isArray(panel[key]) ? panel[key] : []);
    const spanS = Number(panel.window_s);
    const span = spanS > 0 ? `connections seen in the last ${spanS % 60 === 0 ? `${spanS / 60} min` : formatDuration(spanS)} of packet time` : '';
    const evicted = Number(panel.hosts_evicted) > 0 ? ` · ${formatCount(Number(panel.hosts_evicted))} hosts left out (table full)` : '';
    setText(this.note, span + evicted);
  }
}
