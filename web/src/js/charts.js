// Time-series charts on uPlot (loaded as the global `uPlot` from vendor/uPlot.iife.min.js):
// bandwidth + packet rate with alert markers, per-protocol packet rates, handshake RTT +
// retransmission rate; all follow the size of their container.

import { el, clear } from './dom.js';
import { formatBps, formatCompact, formatPps, formatDateTime, formatMs, formatPerSecond } from './format.js';
import { PROTOCOL_CLASSES, rateData, protocolRateData, alertMarkers, tcpData } from './series.js';

const X_AXIS_SPACE = 90;

const AXIS = { stroke: '#9aa5b5', grid: { stroke: 'rgba(154,165,181,0.14)', width: 1 }, ticks: { stroke: 'rgba(154,165,181,0.3)', width: 1 } };

/** Colours of the protocol classes (also used by the distribution bars via CSS classes). */
export const PROTOCOL_COLOURS = {
  tcp: '#4ea1ff',
  udp: '#f5a623',
  icmp: '#e05dd6',
  icmpv6: '#9b7bff',
  other_ip: '#3ccfa8',
  non_ip: '#a0a8b4',
};

const BPS_COLOUR = '#4ea1ff';
const PPS_COLOUR = '#3ccfa8';
const ALERT_COLOUR = '#ff4d5e';
const RTT_P50_COLOUR = '#4ea1ff';
const RTT_P95_COLOUR = '#9b7bff';
const RETX_COLOUR = '#f5a623';

function uPlotLib() {
  const lib = globalThis.uPlot;
  if (!lib) throw new Error('uPlot is not loaded (vendor/uPlot.iife.min.js)');
  return lib;
}

/** Draws a red vertical line and a small flag for every alert marker. */
function alertMarkerPlugin(getMarkers) {
  return {
    hooks: {
      draw: [
        (u) => {
          const markers = getMarkers();
          if (!markers.length) return;
          const { ctx } = u;
          const { left, top, width, height } = u.bbox;
          const px = Math.max(1, Math.round(globalThis.devicePixelRatio || 1));
          ctx.save();
          ctx.strokeStyle = ALERT_COLOUR;
          ctx.fillStyle = ALERT_COLOUR;
          ctx.lineWidth = px;
          ctx.setLineDash([4 * px, 3 * px]);
          for (const m of markers) {
            const x = Math.round(u.valToPos(m.ts, 'x', true));
            if (x < left || x > left + width) continue;
            ctx.beginPath();
            ctx.moveTo(x, top);
            ctx.lineTo(x, top + height);
            ctx.stroke();
            ctx.beginPath();
            ctx.moveTo(x - 5 * px, top);
            ctx.lineTo(x + 5 * px, top);
            ctx.lineTo(x, top + 7 * px);
            ctx.closePath();
            ctx.fill();
          }
          ctx.restore();
        },
      ],
    },
  };
}

/** Fits a chart to its container's width (height from the width) whenever the container resizes. */
function followSize(chart, container) {
  const fit = () => {
    const width = Math.max(200, Math.floor(container.clientWidth));
    const height = chartHeight(container);
    if (width !== chart.width || height !== chart.height) chart.setSize({ width, height });
  };
  if (typeof ResizeObserver === 'function') {
    const ro = new ResizeObserver(fit);
    ro.observe(container);
  } else {
    globalThis.addEventListener('resize', fit);
  }
  return fit;
}

function chartHeight(container) {
  return container.clientWidth < 500 ? 200 : 260;
}

function axisValues(fmt) {
  return (u, splits) => splits.map((v) => (v === null || v === undefined ? '' : fmt(v)));
}

/** A y scale from 0 to a little above the largest value (1 when there is none). */
const fromZero = () => ({ auto: true, range: (u, min, max) => [0, max > 0 ? max * 1.1 : 1] });

const timeValue = (u, v) => (v === null || v === undefined ? '–' : formatDateTime(v));

/** A time chart wrapper: `update(series)` redraws from chart rows (see series.js). */
class TimeChart {
  constructor(container, opts, toData) {
    this.container = container;
    this.toData = toData;
    this.markers = [];
    clear(container);
    const height = chartHeight(container);
    const width = Math.max(200, Math.floor(container.clientWidth || 600));
    const lib = uPlotLib();
    this.chart = new lib({ ...opts, width, height }, toData([]), container);
    followSize(this.chart, container);
  }

  update(series) {
    this.chart.setData(this.toData(series));
  }
}

/** Bandwidth (left axis, bits/s) and packet rate (right axis) with alert markers. */
export class RateChart extends TimeChart {
  constructor(container) {
    let self = null;
    super(
      container,
      {
        class: 'ww-chart',
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
        scales: { x: { time: true }, bps: fromZero(), pps: fromZero() },
        series: [
          { value: timeValue },
          { label: 'bandwidth', scale: 'bps', stroke: BPS_COLOUR, fill: 'rgba(78,161,255,0.12)', width: 1.5, value: (u, v) => (v == null ? '–' : formatBps(v)) },
          { label: 'packets', scale: 'pps', stroke: PPS_COLOUR, width: 1.5, value: (u, v) => (v == null ? '–' : formatPps(v)) },
        ],
        axes: [
          { ...AXIS, space: X_AXIS_SPACE },
          { ...AXIS, scale: 'bps', size: 78, values: axisValues((v) => formatBps(v).replace('bit/s', 'b/s')) },
          { ...AXIS, scale: 'pps', side: 1, size: 60, grid: { show: false }, values: axisValues((v) => formatCompact(v)) },
        ],
        plugins: [alertMarkerPlugin(() => (self ? self.markers : []))],
      },
      rateData
    );
    self = this;
  }

  update(series) {
    this.markers = alertMarkers(series);
    this.container.dataset.alertMarkers = String(this.markers.length);
    super.update(series);
  }
}

/** Packets per second of each protocol class. */
export class ProtocolChart extends TimeChart {
  constructor(container) {
    super(
      container,
      {
        class: 'ww-chart',
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
        scales: { x: { time: true }, y: fromZero() },
        series: [
          { value: timeValue },
          ...PROTOCOL_CLASSES.map((k) => ({
            label: k,
            stroke: PROTOCOL_COLOURS[k],
            width: 1.5,
            value: (u, v) => (v == null ? '–' : formatPps(v)),
          })),
        ],
        axes: [{ ...AXIS, space: X_AXIS_SPACE }, { ...AXIS, size: 60, values: axisValues((v) => formatCompact(v)) }],
      },
      protocolRateData
    );
  }
}

/**
 * Handshake RTT p50 and p95 (left axis, ms) and retransmitted segments per second (right
 * axis) of the recent intervals; `update(points)` takes snapshot IntervalPoints.
 */
export class TcpChart extends TimeChart {
  constructor(container) {
    const ms = (u, v) => (v == null ? '–' : formatMs(v));
    super(
      container,
      {
        class: 'ww-chart',
        cursor: { drag: { x: false, y: false } },
        legend: { live: true },
        scales: { x: { time: true }, ms: fromZero(), rps: fromZero() },
        series: [
          { value: timeValue },
          { label: 'RTT p50', scale: 'ms', stroke: RTT_P50_COLOUR, width: 1.5, spanGaps: true, points: { show: true, size: 4 }, value: ms },
          { label: 'RTT p95', scale: 'ms', stroke: RTT_P95_COLOUR, width: 1.5, dash: [6, 4], spanGaps: true, points: { show: true, size: 4 }, value: ms },
          { label: 'retransmissions', scale: 'rps', stroke: RETX_COLOUR, fill: 'rgba(245,166,35,0.12)', width: 1.5, value: (u, v) => (v == null ? '–' : formatPerSecond(v)) },
        ],
        axes: [
          { ...AXIS, space: X_AXIS_SPACE },
          { ...AXIS, scale: 'ms', size: 78, label: 'handshake RTT', labelSize: 18, values: axisValues(formatMs) },
          { ...AXIS, scale: 'rps', side: 1, size: 70, label: 'retransmissions', labelSize: 18, grid: { show: false }, values: axisValues(formatPerSecond) },
        ],
      },
      tcpData
    );
  }
}

/** A placeholder line inside a chart container (e.g. "history unavailable"). */
export function chartNote(container, text) {
  let note = container.parentElement.querySelector('.chart-note');
  if (!note) {
    note = el('p', { class: 'chart-note', role: 'status' });
    container.parentElement.insertBefore(note, container);
  }
  note.textContent = text || '';
  note.hidden = !text;
}
