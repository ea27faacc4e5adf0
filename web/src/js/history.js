// History page (history.html): time range and search form, chart of the range, tabs with
// paginated server-sorted tables, CSV/JSON download links; the view lives in the page URL.

import { $, el, setText } from './dom.js';
import { get, onUnauthorized } from './api.js';
import { showTokenForm } from './auth.js';
import { RateChart, chartNote } from './charts.js';
import { fetchIntervalSeries } from './intervals.js';
import { DataTable } from './tables.js';
import { historyColumns, historyRowAttrs } from './history-columns.js';
import {
  FILTERS_BY_TAB,
  FILTER_FIELDS,
  PAGE_SIZES,
  PRESETS,
  SORT_COLUMNS,
  TABS,
  exportHref,
  historyParams,
  localInputToRfc3339,
  pageInfo,
  parseView,
  rfc3339ToLocalInput,
  timeParams,
  viewToSearch,
} from './history-query.js';

const ui = {};
let view = parseView(location.search);
const tables = new Map();
let tableRequest = 0;
let chartRequest = 0;
let chartKey = '';
let lastPage = { count: 0, total: 0 };
let authShown = false;

function showAuth(message) {
  if (authShown) return;
  authShown = true;
  document.body.classList.add('needs-auth');
  showTokenForm(ui.auth, message);
}

function formInput(field) {
  return document.getElementById(`f-${field}`);
}

/** Puts the view into the form, the preset buttons and the tabs. */
function fillForm() {
  for (const f of FILTER_FIELDS) {
    const input = formInput(f);
    if (input) input.value = view.filters[f] || '';
  }
  ui.from.value = view.preset ? '' : rfc3339ToLocalInput(view.from);
  ui.to.value = view.preset ? '' : rfc3339ToLocalInput(view.to);
  for (const b of ui.presets.querySelectorAll('button[data-preset]')) {
    b.setAttribute('aria-pressed', String(b.dataset.preset === view.preset));
  }
  for (const b of ui.tabs.querySelectorAll('button[data-tab]')) {
    const active = b.dataset.tab === view.tab;
    b.setAttribute('aria-selected', String(active));
    b.tabIndex = active ? 0 : -1;
  }
  ui.results.setAttribute('aria-labelledby', `tab-${view.tab}`);
  const used = new Set(FILTERS_BY_TAB[view.tab]);
  for (const label of ui.form.querySelectorAll('[data-field]')) {
    const on = used.has(label.dataset.field);
    label.classList.toggle('field-off', !on);
    const input = label.querySelector('input, select');
    input.disabled = !on;
    label.title = on ? '' : `not used by the ${view.tab} table`;
  }
  ui.pageSize.value = String(view.limit);
}

/** Reads the search fields into the view. */
function readFilters() {
  const filters = {};
  for (const f of FILTER_FIELDS) {
    const input = formInput(f);
    const value = input ? input.value.trim() : '';
    if (value) filters[f] = value;
  }
  view.filters = filters;
}

function table(tab) {
  if (!tables.has(tab)) {
    const t = new DataTable({
      testid: `history-table-${tab}`,
      caption: `Stored ${tab}`,
      columns: historyColumns(tab),
      rowAttrs: historyRowAttrs(tab),
      empty: 'no rows match',
      onSort: (key, desc) => {
        view.sort = key;
        view.desc = desc;
        view.offset = 0;
        update();
      },
    });
    tables.set(tab, t);
  }
  return tables.get(tab);
}

function showError(message) {
  setText(ui.error, message || '');
  ui.error.hidden = !message;
}

async function loadTable() {
  const request = ++tableRequest;
  const t = table(view.tab);
  t.setSort({ key: view.sort || SORT_COLUMNS[view.tab][0], desc: view.desc });
  if (ui.tableBox.firstChild !== t.element) {
    ui.tableBox.replaceChildren(t.element);
  }
  ui.tableBox.setAttribute('aria-busy', 'true');
  try {
    const answer = await get(`api/history/${view.tab}`, historyParams(view));
    if (request !== tableRequest) return;
    const rows = (answer && Array.isArray(answer.rows) && answer.rows) || [];
    const total = Number(answer && answer.total) || 0;
    lastPage = { count: rows.length, total };
    showError('');
    t.setRows(rows);
    setText(ui.pageInfo, pageInfo(view.offset, rows.length, total));
  } catch (err) {
    if (request !== tableRequest) return;
    lastPage = { count: 0, total: 0 };
    t.setRows([]);
    setText(ui.pageInfo, '');
    if (err && err.status === 400) showError(`Bad query: ${err.message}`);
    else if (err && err.status === 503) showError(`No history: ${err.message}`);
    else if (err && err.status === 401) showError('Access token required.');
    else showError(`Cannot load ${view.tab}${err && err.status ? ` (${err.status})` : ''}: ${err && err.message ? err.message : err}`);
  } finally {
    if (request === tableRequest) {
      ui.tableBox.removeAttribute('aria-busy');
      ui.prev.disabled = view.offset <= 0;
      ui.next.disabled = view.offset + lastPage.count >= lastPage.total;
    }
  }
}

async function loadChart() {
  const { from, to } = timeParams(view);
  const key = `${from}|${to}`;
  if (key === chartKey) return;
  chartKey = key;
  const request = ++chartRequest;
  chartNote(ui.chartBox, 'loading…');
  try {
    const answer = await fetchIntervalSeries({ from, to });
    if (request !== chartRequest) return;
    ui.chart.update(answer.series);
    chartNote(ui.chartBox, answer.series.length ? '' : 'no stored intervals in this range');
    setText(ui.resolution, answer.series.length ? `${answer.resolution} resolution · ${answer.series.length} points` : '');
  } catch (err) {
    if (request !== chartRequest) return;
    chartKey = '';
    ui.chart.update([]);
    setText(ui.resolution, '');
    chartNote(ui.chartBox, `chart unavailable${err && err.status ? ` (${err.status})` : ''}: ${err && err.message ? err.message : err}`);
  }
}

function updateDownloads() {
  ui.csv.href = exportHref(view, 'csv');
  ui.json.href = exportHref(view, 'json');
}

/** Applies the view: URL, form, downloads, chart (when the range changed) and table. */
function update() {
  const search = viewToSearch(view);
  if (location.search !== search) history.replaceState(null, '', search);
  fillForm();
  updateDownloads();
  loadChart();
  loadTable();
}

function bind() {
  ui.presets.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-preset]');
    if (!b || !(b.dataset.preset in PRESETS)) return;
    view.preset = b.dataset.preset;
    view.from = '';
    view.to = '';
    view.offset = 0;
    update();
  });
  const onTime = () => {
    const from = localInputToRfc3339(ui.from.value);
    const to = localInputToRfc3339(ui.to.value);
    if (!from && !to) return;
    view.preset = '';
    view.from = from;
    view.to = to;
    view.offset = 0;
    update();
  };
  ui.from.addEventListener('change', onTime);
  ui.to.addEventListener('change', onTime);
  ui.form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    readFilters();
    view.offset = 0;
    update();
  });
  $('#search-reset').addEventListener('click', () => {
    view.filters = {};
    view.sort = '';
    view.desc = true;
    view.offset = 0;
    update();
  });
  ui.tabs.addEventListener('click', (ev) => {
    const b = ev.target.closest('button[data-tab]');
    if (!b || !TABS.includes(b.dataset.tab) || b.dataset.tab === view.tab) return;
    readFilters();
    view.tab = b.dataset.tab;
    view.sort = '';
    view.desc = true;
    view.offset = 0;
    update();
  });
  ui.tabs.addEventListener('keydown', (ev) => {
    if (ev.key !== 'ArrowRight' && ev.key !== 'ArrowLeft') return;
    const i = TABS.indexOf(view.tab);
    const next = TABS[(i + (ev.key === 'ArrowRight' ? 1 : TABS.length - 1)) % TABS.length];
    const b = ui.tabs.querySelector(`button[data-tab="${next}"]`);
    b.click();
    b.focus();
  });
  ui.prev.addEventListener('click', () => {
    view.offset = Math.max(0, view.offset - view.limit);
    update();
  });
  ui.next.addEventListener('click', () => {
    if (view.offset + lastPage.count >= lastPage.total) return;
    view.offset += view.limit;
    update();
  });
  ui.pageSize.addEventListener('change', () => {
    view.limit = Number(ui.pageSize.value) || view.limit;
    view.offset = 0;
    update();
  });
}

async function main() {
  ui.auth = $('#auth-panel');
  ui.form = $('#search-form');
  ui.from = $('#from-input');
  ui.to = $('#to-input');
  ui.presets = $('#presets');
  ui.tabs = $('#tabs');
  ui.results = $('#results');
  ui.pageInfo = $('#page-info');
  ui.prev = $('#page-prev');
  ui.next = $('#page-next');
  ui.pageSize = $('#page-size');
  ui.csv = $('#download-csv');
  ui.json = $('#download-json');
  ui.error = $('#history-error');
  ui.tableBox = $('#history-table');
  ui.chartBox = $('#history-chart');
  ui.resolution = $('#chart-resolution');

  const sizes = PAGE_SIZES.includes(view.limit) ? PAGE_SIZES : [...PAGE_SIZES, view.limit].sort((a, b) => a - b);
  for (const n of sizes) ui.pageSize.appendChild(el('option', { value: String(n) }, String(n)));

  onUnauthorized((err) => showAuth(err.message));
  ui.chart = new RateChart(ui.chartBox);
  bind();
  try {
    const status = await get('api/status');
    if (status && status.version) setText($('#footer-version'), `Wirewatch ${status.version}`);
    if (status && status.store === null) showError('This server keeps no history (no database): start it with a database to browse stored data.');
  } catch (err) {
    if (err && err.status === 401) return;
  }
  update();
}

main();
