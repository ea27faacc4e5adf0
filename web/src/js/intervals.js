// Interval history for the charts (dashboard ranges and the history page): fetches
// /api/history/intervals with resolution=auto, newest rows first so a long range keeps its
// recent end, falling back to a coarser roll-up when the range has more rows than one answer
// holds; plus alert start times from /api/history/alerts for the chart markers.

import { get } from './api.js';
import { attachAlertCounts, bucketSeconds, fromIntervalRow } from './series.js';

/** Rows asked for per chart (the API allows up to 10,000). */
export const CHART_LIMIT = 1000;

const COARSER = { raw: 'minute', minute: 'hour' };

/**
 * Chart rows for [from, to] (API time syntax: '-5m', epoch seconds, RFC 3339).
 * Returns {series, resolution, bucketS, total, complete}.
 */
export async function fetchIntervalSeries({ from, to, signal, withAlerts = true }) {
  let resolution = 'auto';
  let answer = null;
  for (let attempt = 0; attempt < 3; attempt += 1) {
    const params = { from, resolution, limit: String(CHART_LIMIT), sort: 'start_ts', desc: 'true' };
    if (to) params.to = to;
    answer = await get('api/history/intervals', params, { signal });
    const rows = (answer && answer.rows) || [];
    const used = rows.length ? rows[0].resolution : resolution === 'auto' ? 'raw' : resolution;
    const total = Number(answer && answer.total) || 0;
    if (total > rows.length && COARSER[used]) {
      resolution = COARSER[used];
      continue;
    }
    resolution = used;
    break;
  }
  const rows = ((answer && answer.rows) || []).slice().reverse();
  const bucketS = bucketSeconds(resolution);
  let series = rows.map((r) => ({ ...fromIntervalRow(r), fixed: bucketS > 0 }));
  if (withAlerts && series.length) {
    const starts = await fetchAlertStarts({ from, to, signal });
    series = attachAlertCounts(series, starts, bucketS);
  }
  const total = Number(answer && answer.total) || 0;
  return { series, resolution, bucketS, total, complete: total <= rows.length };
}

/** Start times of the alerts in the range (empty when the store cannot answer). */
export async function fetchAlertStarts({ from, to, signal }) {
  const params = { from, limit: String(CHART_LIMIT), sort: 'start_ts', desc: 'true' };
  if (to) params.to = to;
  try {
    const answer = await get('api/history/alerts', params, { signal });
    return ((answer && answer.rows) || []).map((a) => a.start_ts);
  } catch (err) {
    if (err && err.name === 'AbortError') throw err;
    return [];
  }
}
