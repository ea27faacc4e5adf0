// Alerts feed of the dashboard: newest change on top, rows that arrived with the latest update
// marked "new" (or "updated") for a few seconds; each row has data-testid="alert-row" and
// data-kind, and links the alert's evidence capture when it has one.

import { el } from './dom.js';
import { formatDateTime, formatList, formatPercent, formatTime, toSeconds } from './format.js';
import { DataTable } from './tables.js';
import { evidenceCell, evidenceSortValue } from './evidence.js';

/** How long an arriving alert stays marked, in milliseconds. */
export const FRESH_MS = 8000;

export const SEVERITIES = ['low', 'medium', 'high', 'critical'];

/** A severity badge (text only). */
export function severityBadge(severity) {
  const s = SEVERITIES.includes(severity) ? severity : 'unknown';
  return el('span', { class: `badge sev-${s}` }, String(severity ?? '?'));
}

/** "sources → targets" with ports, shortened. */
export function endpointsText(alert) {
  const ports = Array.isArray(alert.ports) && alert.ports.length ? ` : ${formatList(alert.ports, 5)}` : '';
  return `${formatList(alert.sources)} → ${formatList(alert.targets)}${ports}`;
}

export class AlertFeed {
  constructor(container, countNode) {
    this.countNode = countNode;
    this.fresh = new Map(); // id → {until, label}
    this.timer = null;
    this.alerts = [];
    this.table = new DataTable({
      testid: 'alerts-table',
      caption: 'Alerts, newest change first',
      empty: 'no alerts',
      columns: [
        {
          key: 'last_ts',
          label: 'Time',
          defaultDesc: true,
          value: (a) => toSeconds(Number(a.last_ts)),
          render: (a) => el('time', { title: `first ${formatDateTime(a.start_ts)} · last ${formatDateTime(a.last_ts)}` }, formatTime(a.last_ts)),
        },
        {
          key: 'kind',
          label: 'Kind',
          value: (a) => a.kind,
          render: (a) => {
            const f = this.fresh.get(a.id);
            return [
              el('span', { class: 'alert-kind' }, String(a.kind ?? '')),
              f ? el('span', { class: `badge fresh fresh-${f.label}`, 'data-testid': 'alert-new' }, f.label) : null,
            ];
          },
        },
        {
          key: 'severity',
          label: 'Severity',
          defaultDesc: true,
          value: (a) => SEVERITIES.indexOf(a.severity),
          render: (a) => [severityBadge(a.severity), el('span', { class: 'muted small' }, ` ${formatPercent(a.confidence)}`)],
        },
        { key: 'status', label: 'Status', value: (a) => a.status, render: (a) => el('span', { class: `status-${a.status}` }, String(a.status ?? '')) },
        { key: 'endpoints', label: 'Source → target', value: (a) => endpointsText(a), render: (a) => el('span', { class: 'mono' }, endpointsText(a)), className: 'nowrap' },
        { key: 'evidence', label: 'Evidence', defaultDesc: true, value: (a) => evidenceSortValue(a), render: (a) => evidenceCell(a), className: 'nowrap', title: 'packets of the alert\'s hosts around it, as a pcap download' },
        { key: 'message', label: 'Message', value: (a) => a.message, render: (a) => String(a.message ?? ''), className: 'text-cell' },
        { key: 'recommendation', label: 'Recommendation', value: (a) => a.recommendation, render: (a) => String(a.recommendation ?? ''), className: 'text-cell muted' },
      ],
      rowAttrs: (a) => {
        const f = this.fresh.get(a.id);
        return {
          'data-testid': 'alert-row',
          dataset: { kind: a.kind, id: a.id, severity: a.severity, status: a.status, new: f ? f.label : null },
          class: [`sev-row-${SEVERITIES.includes(a.severity) ? a.severity : 'unknown'}`, f ? 'alert-fresh' : '', a.status === 'ended' ? 'alert-ended' : ''].filter(Boolean).join(' '),
        };
      },
    });
    container.appendChild(this.table.element);
  }

  /** Marks the ids in the state's `changedAlertIds` (new or updated) for FRESH_MS. */
  mark(state, now = Date.now()) {
    const added = new Set(state.newAlertIds || []);
    for (const id of state.changedAlertIds || []) {
      this.fresh.set(id, { until: now + FRESH_MS, label: added.has(id) ? 'new' : 'updated' });
    }
  }

  /** Shows `alerts` (newest change first). */
  show(alerts, now = Date.now()) {
    this.alerts = alerts || [];
    this.render(now);
  }

  /** mark() then show() the state's alerts. */
  update(state, now = Date.now()) {
    this.mark(state, now);
    this.show(state.alerts, now);
  }

  render(now = Date.now()) {
    for (const [id, f] of this.fresh) if (f.until <= now) this.fresh.delete(id);
    this.table.setRows(this.alerts);
    if (this.countNode) {
      const open = this.alerts.filter((a) => a.status !== 'ended').length;
      this.countNode.textContent = this.alerts.length ? `${open} open · ${this.alerts.length} shown` : '';
    }
    clearTimeout(this.timer);
    if (this.fresh.size) {
      const next = Math.min(...[...this.fresh.values()].map((f) => f.until));
      this.timer = setTimeout(() => this.render(), Math.max(50, next - Date.now()));
    }
  }
}
