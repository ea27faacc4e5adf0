// Stat boxes of the dashboard: raw value in `data-value` (for tests and tooltips), human text
// in `.stat-value`, context in `.stat-sub`. Drops are always shown, highlighted when non-zero.

import { setText } from './dom.js';
import { formatBps, formatBytes, formatCount, formatDuration, formatPercent, formatPps } from './format.js';

const THREAT_LEVELS = ['low', 'medium', 'high', 'critical'];

function box(root, name) {
  return root.querySelector(`[data-testid="stat-${name}"]`);
}

function setStat(root, name, raw, text, sub, title) {
  const node = box(root, name);
  if (!node) return;
  node.dataset.value = raw === null || raw === undefined ? '' : String(raw);
  setText(node.querySelector('.stat-value'), text);
  setText(node.querySelector('.stat-sub'), sub || '');
  if (title !== undefined) node.title = title || '';
}

/** Fills every stat box from `stats` (Snapshot.stats); `intervalS` labels the interval. */
export function renderStats(root, stats) {
  const s = stats || {};
  setStat(root, 'bps', s.bps, formatBps(s.bps), 'newest interval');
  setStat(root, 'pps', s.pps, formatPps(s.pps), 'newest interval');
  setStat(root, 'pps_avg', s.pps_avg, formatPps(s.pps_avg), 'mean over the run');
  setStat(root, 'packets_total', s.packets_total, formatCount(s.packets_total), 'since start');
  setStat(root, 'bytes_total', s.bytes_total, formatBytes(s.bytes_total), Number.isFinite(s.bytes_total) ? `${formatCount(s.bytes_total)} B` : '');
  setStat(root, 'duration', s.duration_s, formatDuration(s.duration_s), 'packet time');
  setStat(root, 'active_connections', s.active_connections, formatCount(s.active_connections), 'live flows');
  setStat(root, 'distinct_hosts', s.distinct_hosts, formatCount(s.distinct_hosts), 'newest interval');

  const drops = s.drops || {};
  const dropsNow = s.drops_interval || {};
  for (const kind of ['kernel', 'interface', 'queue']) {
    const total = drops[kind];
    const now = dropsNow[kind];
    setStat(root, `drops_${kind}`, total, formatCount(total), Number.isFinite(now) ? `+${formatCount(now)} last interval` : '');
    const node = box(root, `drops_${kind}`);
    if (node) {
      node.classList.toggle('has-drops', Number(total) > 0);
      node.classList.toggle('dropping-now', Number(now) > 0);
    }
  }

  const threat = s.threat || {};
  const level = THREAT_LEVELS.includes(threat.level) ? threat.level : threat.level ? String(threat.level) : '';
  const reasons = Array.isArray(threat.reasons) ? threat.reasons.map(String) : [];
  setStat(
    root,
    'threat',
    level,
    level || '–',
    Number.isFinite(threat.confidence) ? `confidence ${formatPercent(threat.confidence)}` : '',
    reasons.join('\n')
  );
  const node = box(root, 'threat');
  if (node) {
    node.dataset.confidence = Number.isFinite(threat.confidence) ? String(threat.confidence) : '';
    for (const l of THREAT_LEVELS) node.classList.toggle(`threat-${l}`, level === l);
    let list = node.querySelector('.stat-reasons');
    if (!list) {
      list = document.createElement('span');
      list.className = 'stat-reasons';
      node.appendChild(list);
    }
    setText(list, reasons.slice(0, 2).join(' · '));
  }
}
