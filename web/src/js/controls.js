// Capture controls: interface dropdown (GET /api/interfaces), BPF filter box, Start / Stop /
// Apply filter (POST /api/capture/...), inline errors, and the capture status line.

import { el, clear, setText } from './dom.js';
import { get, post } from './api.js';

/** One-line description of a CaptureStatus. */
export function statusText(status) {
  if (!status) return 'capture status unknown';
  const parts = [status.running ? 'running' : 'stopped'];
  if (status.interface) parts.push(`interface ${status.interface}`);
  parts.push(`filter: ${status.filter ? status.filter : 'none'}`);
  return parts.join(' · ');
}

/** The option label of an interface: "eth0 — description (addresses) [down]". */
export function interfaceLabel(i) {
  let label = String(i.name ?? '');
  if (i.description) label += ` — ${i.description}`;
  if (Array.isArray(i.addresses) && i.addresses.length) label += ` (${i.addresses.slice(0, 2).join(', ')}${i.addresses.length > 2 ? ', …' : ''})`;
  const flags = [];
  if (i.up === false) flags.push('down');
  if (i.loopback) flags.push('loopback');
  if (i.wireless) flags.push('wireless');
  if (i.default) flags.push('default');
  if (flags.length) label += ` [${flags.join(', ')}]`;
  return label;
}

export class Controls {
  /** `onStatus(status)` is called with the CaptureStatus a control request returned. */
  constructor({ onStatus, getTs } = {}) {
    this.onStatus = onStatus || (() => {});
    this.select = document.getElementById('iface-select');
    this.filter = document.getElementById('filter-input');
    this.error = document.getElementById('control-error');
    this.detail = document.getElementById('capture-detail');
    this.badge = document.getElementById('capture-badge');
    this.source = document.getElementById('capture-source');
    this.filterShown = document.getElementById('capture-filter');
    this.statusBox = document.getElementById('capture-status');
    this.buttons = ['btn-start', 'btn-stop', 'btn-filter', 'btn-retrain'].map((id) => document.getElementById(id));
    this.filterTouched = false;
    this.interfacesLoaded = false;
    this.lastStatus = null;

    this.select.addEventListener('change', () => {
      this.select.dataset.userChose = 'true';
    });
    this.filter.addEventListener('input', () => {
      this.filterTouched = true;
    });
    document.getElementById('btn-start').addEventListener('click', () => this.start());
    document.getElementById('btn-stop').addEventListener('click', () => this.stop());
    this.retrainResult = document.getElementById('retrain-result');
    this.getTs = getTs || (() => null);
    document.getElementById('btn-retrain').addEventListener('click', () => this.retrain());
    document.getElementById('control-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.applyFilter();
    });
  }

  /** Loads the interface list; the default interface (or the capturing one) is preselected. */
  async loadInterfaces() {
    try {
      const list = await get('api/interfaces');
      const interfaces = Array.isArray(list) ? list : [];
      clear(this.select);
      if (!interfaces.length) {
        this.select.appendChild(el('option', { value: '' }, '(no interfaces found)'));
      }
      const current = this.lastStatus && this.lastStatus.interface;
      let chosen = interfaces.find((i) => current && i.name === current) || interfaces.find((i) => i.default) || interfaces[0];
      for (const i of interfaces) {
        this.select.appendChild(
          el('option', { value: String(i.name ?? ''), selected: i === chosen, title: i.description ? String(i.description) : null }, interfaceLabel(i))
        );
      }
      if (chosen) this.select.value = String(chosen.name ?? '');
      this.interfacesLoaded = true;
    } catch (err) {
      clear(this.select);
      this.select.appendChild(el('option', { value: '' }, '(interfaces unavailable)'));
      if (err.status !== 401) this.showError(`Cannot list interfaces: ${err.message}`);
    }
  }

  showError(message) {
    setText(this.error, message || '');
    this.error.hidden = !message;
  }

  async run(label, fn) {
    this.showError('');
    for (const b of this.buttons) b.disabled = true;
    try {
      const status = await fn();
      if (status && typeof status === 'object') {
        this.updateStatus(status);
        this.onStatus(status);
      }
      return true;
    } catch (err) {
      if (err && err.status === 401) {
        this.showError(`${label} refused: the access token is missing or wrong`);
      } else {
        this.showError(`${label} failed${err && err.status ? ` (${err.status})` : ''}: ${err && err.message ? err.message : err}`);
      }
      return false;
    } finally {
      for (const b of this.buttons) b.disabled = false;
    }
  }

  filterValue() {
    const f = this.filter.value.trim();
    return f ? f : null;
  }

  start() {
    const iface = this.select.value || null;
    return this.run('Start', () => post('api/capture/start', { interface: iface, filter: this.filterValue() })).then((ok) => {
      if (ok) this.filterTouched = false;
      return ok;
    });
  }

  stop() {
    return this.run('Stop', () => post('api/capture/stop', {}));
  }

  /** Retrains the anomaly model on the last hour of stored traffic (packet time). */
  async retrain() {
    const ts = Number(this.getTs());
    const body = Number.isFinite(ts) && ts > 0 ? { from: String(ts - 3600), to: String(ts) } : {};
    setText(this.retrainResult, 'retraining…');
    this.retrainResult.hidden = false;
    const ok = await this.run('Retrain', async () => {
      const r = await post('api/model/retrain', body);
      const where = r && r.saved_to ? `, saved to ${r.saved_to}` : '';
      setText(this.retrainResult, `anomaly model retrained on ${r ? r.intervals : '?'} intervals${where}`);
      return null;
    });
    if (!ok) this.retrainResult.hidden = true;
    return ok;
  }

  applyFilter() {
    return this.run('Filter', () => post('api/capture/filter', { filter: this.filterValue() })).then((ok) => {
      if (ok) this.filterTouched = false;
      return ok;
    });
  }

  /** Shows a CaptureStatus (from the snapshot or a control answer). */
  updateStatus(status) {
    this.lastStatus = status || null;
    const running = Boolean(status && status.running);
    this.statusBox.dataset.running = status ? String(running) : 'unknown';
    this.statusBox.dataset.interface = status && status.interface ? String(status.interface) : '';
    this.statusBox.dataset.filter = status && status.filter ? String(status.filter) : '';
    this.statusBox.classList.toggle('running', running);
    setText(this.badge, status ? (running ? 'running' : 'stopped') : '…');
    setText(this.source, status && status.source ? String(status.source) : '');
    setText(this.filterShown, status ? `filter: ${status.filter ? status.filter : 'none'}` : '');
    this.statusBox.title = statusText(status);
    const lastError = status && status.last_error ? `last error: ${status.last_error}` : '';
    setText(this.detail, [statusText(status), lastError].filter(Boolean).join(' — '));
    this.detail.classList.toggle('has-error', Boolean(lastError));
    // Keep what the user is typing; otherwise show the filter in force.
    if (status && !this.filterTouched && document.activeElement !== this.filter) {
      this.filter.value = status.filter ? String(status.filter) : '';
    }
    if (status && status.interface && this.interfacesLoaded && !this.select.matches(':focus')) {
      const has = [...this.select.options].some((o) => o.value === status.interface);
      if (has && this.select.dataset.userChose !== 'true') this.select.value = status.interface;
    }
  }
}
