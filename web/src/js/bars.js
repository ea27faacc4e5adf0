// Horizontal CSS bar lists: protocol and application mix, top sources and destinations.
// Bar lengths are set through the CSSOM (element.style.width), which the CSP allows.

import { el, replaceChildren } from './dom.js';
import { formatBytes, formatCount, formatHost, formatPercent } from './format.js';
import { PROTOCOL_CLASSES } from './series.js';

/**
 * Renders `items` ({label, value, text, className?, title?, dataset?}) as bars scaled to the
 * largest value. `empty` is shown when there is nothing to draw.
 */
export function renderBars(container, items, { empty = 'no data yet' } = {}) {
  const max = Math.max(0, ...items.map((i) => Number(i.value) || 0));
  if (!items.length || max <= 0) {
    replaceChildren(container, el('p', { class: 'empty' }, empty));
    return;
  }
  const rows = items.map((item) => {
    const fill = el('span', { class: `bar-fill ${item.className || ''}`.trim() });
    fill.style.width = `${Math.max(0.5, ((Number(item.value) || 0) / max) * 100).toFixed(2)}%`;
    return el(
      'li',
      { class: 'bar-row', title: item.title || null, dataset: item.dataset || null },
      el('span', { class: 'bar-label' }, item.label),
      el('span', { class: 'bar-track' }, fill),
      el('span', { class: 'bar-value' }, item.text)
    );
  });
  replaceChildren(container, el('ol', { class: 'bars' }, rows));
}

/** Protocol classes of the run (packets), with their share. */
export function protocolItems(protocols) {
  const p = protocols || {};
  const total = PROTOCOL_CLASSES.reduce((s, k) => s + (Number(p[k]) || 0), 0);
  return PROTOCOL_CLASSES.map((k) => {
    const n = Number(p[k]) || 0;
    return {
      label: k,
      value: n,
      text: `${formatCount(n)} pkts · ${total > 0 ? formatPercent(n / total) : '–'}`,
      className: `proto-${k}`,
      dataset: { proto: k, value: n },
    };
  });
}

/** Applications of the run by bytes. */
export function appItems(apps, limit = 10) {
  return (apps || []).slice(0, limit).map((a) => ({
    label: a.app,
    value: Number(a.bytes) || 0,
    text: `${formatBytes(a.bytes)} · ${formatCount(a.packets)} pkts`,
    className: 'app',
    dataset: { app: a.app },
  }));
}

/** Top talkers by bytes, labelled with the address and the learned name. */
export function talkerItems(talkers) {
  return (talkers || []).map((t) => ({
    label: formatHost(t.ip, t.name),
    value: Number(t.bytes) || 0,
    text: `${formatBytes(t.bytes)} · ${formatCount(t.packets)} pkts${t.threat ? ` · ⚠ ${t.threat}` : ''}`,
    title: t.threat ? `${formatHost(t.ip, t.name)} — ${t.threat}` : formatHost(t.ip, t.name),
    className: t.threat ? 'talker threat' : 'talker',
    dataset: { ip: t.ip },
  }));
}
