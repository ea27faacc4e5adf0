// Alert evidence captures (`evidence.pcap` of an alert): the download link of the alerts
// tables (dashboard and history), its tooltip text and the "collecting" note. Every field is
// attacker-influenced: the link is built with el() and text only, and only for integer ids.

import { el } from './dom.js';
import { formatBytes, formatCount, formatDateTime, formatList } from './format.js';

/** The alert's evidence capture link object, or null (also accepts `evidence` as JSON text). */
export function evidencePcap(alert) {
  let evidence = alert ? alert.evidence : null;
  if (typeof evidence === 'string') {
    try {
      evidence = JSON.parse(evidence);
    } catch {
      return null;
    }
  }
  const pcap = evidence && typeof evidence === 'object' ? evidence.pcap : null;
  return pcap && typeof pcap === 'object' && !Array.isArray(pcap) ? pcap : null;
}

/**
 * The download path of alert `id`'s capture (relative to the page, like every API path), or
 * null unless `id` is a non-negative safe integer.
 */
export function evidenceHref(id) {
  if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) return null;
  return `api/alerts/${id}/evidence`;
}

/** Whether the capture is still collecting packets (`complete` is false). */
export function evidenceCollecting(pcap) {
  return Boolean(pcap) && pcap.complete === false;
}

/** The link text: "pcap · 1,234 pkts". */
export function evidenceLabel(pcap) {
  const n = Number(pcap && pcap.packets);
  return `pcap · ${Number.isFinite(n) ? formatCount(n) : '?'} pkts`;
}

/** The link's tooltip: hosts, packet-time window, size and caveats, one fact per line. */
export function evidenceTitle(pcap) {
  if (!pcap) return '';
  const hosts = Array.isArray(pcap.hosts) && pcap.hosts.length ? `hosts ${formatList(pcap.hosts, 8)}` : 'all hosts';
  const lines = [
    `Evidence capture: ${hosts}`,
    `window ${formatDateTime(Number(pcap.from))} – ${formatDateTime(Number(pcap.until))} (packet time)`,
    `${formatCount(Number(pcap.packets))} packets, ${formatBytes(Number(pcap.bytes))}${evidenceCollecting(pcap) ? ' so far (still collecting)' : ''}`,
  ];
  if (pcap.missing_before === true) lines.push('the start of the window had already left the packet ring');
  const truncated = Number(pcap.truncated);
  if (Number.isFinite(truncated) && truncated > 0) lines.push(`${formatCount(truncated)} packets left out (file size cap)`);
  return lines.join('\n');
}

/** Sort value of the evidence column: packets in the capture, -1 without one. */
export function evidenceSortValue(alert) {
  const pcap = evidencePcap(alert);
  const n = Number(pcap && pcap.packets);
  return pcap && evidenceHref(alert.id) && Number.isFinite(n) ? n : -1;
}

/**
 * The evidence cell of an alert row: a download link (data-testid="alert-evidence") with a
 * muted "collecting" note while the capture is open, or "–" without a capture.
 */
export function evidenceCell(alert) {
  const pcap = evidencePcap(alert);
  const href = pcap ? evidenceHref(alert.id) : null;
  if (!href) return el('span', { class: 'muted' }, '–');
  return el(
    'span',
    { class: 'evidence' },
    el('a', { href, download: true, class: 'evidence-link', title: evidenceTitle(pcap), 'data-testid': 'alert-evidence' }, evidenceLabel(pcap)),
    evidenceCollecting(pcap) ? el('span', { class: 'muted small evidence-note', 'data-testid': 'alert-evidence-collecting' }, 'collecting') : null
  );
}
