// Live dashboard (index.html): wires the socket, the state merging, stat boxes, charts, bars,
// tables, the latency and loss panel, alerts feed, controls and the packets download panel
// together, and handles the time-range buttons and login.

import { $, setText } from './dom.js';
import { get, onUnauthorized } from './api.js';
import { showTokenForm } from './auth.js';
import { LiveSocket } from './ws.js';
import { applyMessage } from './state.js';
import { appendRows, fromIntervalPoint, trimToRange } from './series.js';
import { fetchIntervalSeries } from './intervals.js';
import { RateChart, ProtocolChart, chartNote } from './charts.js';
import { renderBars, protocolItems, appItems, talkerItems } from './bars.js';
import { renderStats } from './stats.js';
import { AlertFeed } from './alerts.js';
import { connectionsTable, packetsTable } from './live-tables.js';
import { Controls } from './controls.js';
import { PacketsPanel } from './packets.js';
import { TcpPanel } from './tcp-panel.js';
import { formatCount, formatDateTime } from './format.js';

/** Dashboard time ranges: the API's relative `from` and the span kept while live points arrive. */
const RANGES = {
  live: null,
  '5m': { from: '-5m', seconds: 300 },
  '1h': { from: '-1h', seconds: 3600 },
  '24h': { from: '-24h', seconds: 86400 },
};

const ui = {};
let live = null; // state.js state
let range = 'live';
let rangeSeries = null; // chart rows of a history range (null while loading or live)
let rangeBucketS = 0;
let rangeRequest = 0;
let renderQueued = false;
let socket = null;
let authShown = false;
let countdown = null;
let authRequired = null; // from GET /api/status; null: unknown

function showAuth(message) {
  if (authShown) return;
  authShown = true;
  if (socket) socket.stop();
  document.body.classList.add('needs-auth');
  setConnection('auth', 'access token required');
  showTokenForm(ui.auth, message);
}

function setConnection(state, text) {
  ui.conn.dataset.state = state;
  setText(ui.conn, text);
  document.body.classList.toggle('is-disconnected', state === 'reconnecting' || state === 'connecting');
}

function onSocketState(state, info) {
  clearInterval(countdown);
  if (state === 'open') {
    setConnection('open', 'live');
  } else if (state === 'connecting') {
    setConnection('connecting', live ? 'disconnected — reconnecting…' : 'connecting…');
  } else if (state === 'reconnecting') {
    const tick = () => {
      const s = Math.max(0, Math.ceil((info.until - Date.now()) / 1000));
      setConnection('reconnecting', `disconnected — reconnecting in ${s} s`);
    };
    tick();
    countdown = setInterval(tick, 500);
  }
}

/** After a failed connection attempt, asks /api/status why (a 401 shows the token form). */
async function onSocketFailure() {
  try {
    const status = await get('api/status');
    if (status && typeof status.auth_required === 'boolean') authRequired = status.auth_required;
  } catch {
    // 401 is handled by onUnauthorized; anything else: keep retrying.
  }
}

function onMessage(msg) {
  const before = live;
  const next = applyMessage(live, msg);
  if (!next || (next === before && msg.type !== 'full')) return;
  live = next;
  ui.feed.mark(live);
  if (range !== 'live' && rangeSeries) {
    const points = msg.type === 'full' ? live.recent : msg.intervals || [];
    addToRange(points);
  }
  scheduleRender();
}

function addToRange(points) {
  if (!points || !points.length || !rangeSeries) return;
  const rows = points.map(fromIntervalPoint);
  rangeSeries = trimToRange(appendRows(rangeSeries, rows, rangeBucketS), RANGES[range].seconds);
}

function scheduleRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}

function chartSeries() {
  if (range !== 'live' && rangeSeries) return rangeSeries;
  return live ? live.recent.map(fromIntervalPoint) : [];
}

function render() {
  if (!live) return;
  renderStats(ui.stats, live.stats);
  ui.controls.updateStatus(live.status);
  const series = chartSeries();
  ui.rateChart.update(series);
  ui.protoChart.update(series);
  // Live intervals whatever the range: stored intervals carry no TCP health.
  ui.tcp.update(live.recent, live.tcp);
  renderBars(ui.protoBars, protocolItems(live.protocols), { empty: 'no packets yet' });
  renderBars(ui.appBars, appItems(live.apps), { empty: 'no application identified yet' });
  renderBars(ui.topSources, talkerItems(live.top_sources), { empty: 'no traffic yet' });
  renderBars(ui.topDestinations, talkerItems(live.top_destinations), { empty: 'no traffic yet' });
  ui.connections.setRows(live.connections);
  setText(ui.connCount, `${formatCount(live.connections.length)} shown`);
  ui.packets.setRows(live.packets);
  ui.feed.show(live.alerts);
  setText(ui.seq, live.ts ? `interval #${live.seq} · ${formatDateTime(live.ts)} (packet time)` : 'waiting for the first interval');
}

function pressRangeButton(name) {
  for (const b of ui.rangeButtons.querySelectorAll('button[data-range]')) {
    b.setAttribute('aria-pressed', String(b.dataset.range === name));
  }
}

async function setRange(name) {
  if (!(name in RANGES)) name = 'live';
  range = name;
  pressRangeButton(name);
  const hash = name === 'live' ? '' : `#range=${name}`;
  if (location.hash !== hash) history.replaceState(null, '', hash || location.pathname + location.search);
  const request = ++rangeRequest;
  rangeSeries = null;
  rangeBucketS = 0;
  chartNote(ui.rateChartBox, '');
  if (name === 'live') {
    scheduleRender();
    return;
  }
  chartNote(ui.rateChartBox, 'loading history…');
  try {
    const answer = await fetchIntervalSeries({ from: RANGES[name].from });
    if (request !== rangeRequest) return;
    rangeSeries = answer.series;
    rangeBucketS = answer.bucketS;
    if (live) addToRange(live.recent);
    const note = answer.resolution !== 'raw' ? `${answer.resolution} averages` : '';
    chartNote(ui.rateChartBox, rangeSeries.length ? note : 'no stored intervals in this range yet');
  } catch (err) {
    if (request !== rangeRequest) return;
    rangeSeries = null;
    chartNote(ui.rateChartBox, `history unavailable${err && err.status ? ` (${err.status})` : ''}: ${err && err.message ? err.message : err} — showing live data`);
  }
  scheduleRender();
}

function rangeFromHash() {
  const m = /(?:^#|&)range=([^&]+)/.exec(location.hash);
  return m && m[1] in RANGES ? m[1] : 'live';
}

async function loadStatus() {
  try {
    const status = await get('api/status');
    if (status) {
      setText(ui.version, status.version ? `Wirewatch ${status.version}` : 'Wirewatch');
      if (status.capture) ui.controls.updateStatus(status.capture);
      if (typeof status.auth_required === 'boolean') authRequired = status.auth_required;
    }
    return true;
  } catch (err) {
    if (err && err.status === 401) return false;
    return true; // server unreachable: the socket keeps retrying
  }
}

async function main() {
  ui.auth = $('#auth-panel');
  ui.conn = $('#conn-state');
  ui.stats = $('#stats');
  ui.rateChartBox = $('#rate-chart');
  ui.rangeButtons = $('#range-buttons');
  ui.protoBars = $('#proto-bars');
  ui.appBars = $('#app-bars');
  ui.topSources = $('#top-sources');
  ui.topDestinations = $('#top-destinations');
  ui.connCount = $('#conn-count');
  ui.seq = $('#footer-seq');
  ui.version = $('#footer-version');

  onUnauthorized((err) => showAuth(err.message));

  ui.controls = new Controls({ getTs: () => (live ? live.ts : null) });
  ui.packetsPanel = new PacketsPanel($('#packets-panel'));
  ui.rateChart = new RateChart(ui.rateChartBox);
  ui.protoChart = new ProtocolChart($('#proto-chart'));
  ui.tcp = new TcpPanel($('#tcp-panel'));
  ui.feed = new AlertFeed($('#alerts-table'), $('#alerts-count'));
  ui.connections = connectionsTable();
  $('#connections-table').appendChild(ui.connections.element);
  ui.packets = packetsTable();
  $('#packets-table').appendChild(ui.packets.element);
  ui.connections.setRows([]);
  ui.packets.setRows([]);
  ui.feed.show([]);

  ui.rangeButtons.addEventListener('click', (ev) => {
    const button = ev.target.closest('button[data-range]');
    if (button) setRange(button.dataset.range);
  });

  const ok = await loadStatus();
  if (!ok) return;
  ui.controls.loadInterfaces();
  socket = new LiveSocket({
    onMessage,
    onState: onSocketState,
    onFailure: onSocketFailure,
    withToken: () => authRequired !== false,
  });
  socket.start();
  setRange(rangeFromHash());
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) scheduleRender();
  });
}

main();
