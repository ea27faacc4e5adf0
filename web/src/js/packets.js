// Packets panel of the dashboard: a form that downloads packets as a capture file from
// GET /api/packets (recent packets in memory or the run's capture files, by host, port, flow
// and time range), the server's refusal shown inline, and "N packets" after a download.

import { el, setText } from './dom.js';
import { getFile } from './api.js';
import { formatCount } from './format.js';

/** The query fields of /api/packets, in the order they go into the URL. */
export const PACKET_FIELDS = ['source', 'host', 'port', 'flow', 'from', 'until', 'format'];

/**
 * The API path of a packet download: `api/packets?…` (relative to the page) with each of
 * PACKET_FIELDS whose trimmed value is not empty, percent-encoded with encodeURIComponent
 * (so a space in a flow is `%20`). Other and inherited keys of `fields` are ignored.
 */
export function packetsUrl(fields = {}) {
  const parts = [];
  for (const name of PACKET_FIELDS) {
    const value = fields && Object.hasOwn(fields, name) ? fields[name] : null;
    if (value === null || value === undefined) continue;
    const text = String(value).trim();
    if (text) parts.push(`${name}=${encodeURIComponent(text)}`);
  }
  return parts.length ? `api/packets?${parts.join('&')}` : 'api/packets';
}

/**
 * The file name of a Content-Disposition header (`filename="x.pcap"` or RFC 5987
 * `filename*=UTF-8''x.pcap`), reduced to a plain base name; `fallback` when there is none.
 */
export function dispositionFilename(header, fallback = 'wirewatch-packets.pcap') {
  const h = String(header || '');
  let name = '';
  const star = /filename\*\s*=\s*(?:UTF-8|utf-8)?''([^;]+)/.exec(h);
  if (star) {
    try {
      name = decodeURIComponent(star[1].trim());
    } catch {
      name = '';
    }
  }
  if (!name) {
    const m = /filename\s*=\s*(?:"([^"]*)"|([^;\s]+))/.exec(h);
    if (m) name = m[1] ?? m[2] ?? '';
  }
  // A name only: no directories, no control characters, no leading dots.
  name = name.split(/[\\/]/).pop().replace(/[\u0000-\u001f\u007f]/g, '').replace(/^\.+/, '').trim();
  return name || fallback;
}

/** "604 packets" (plus "· N left out" when the server left matching packets out). */
export function resultText(packets, leftOut) {
  const n = packets === null || packets === undefined || packets === '' ? NaN : Number(packets);
  const out = Number(leftOut);
  let text = `${Number.isFinite(n) ? formatCount(n) : '?'} packet${n === 1 ? '' : 's'}`;
  if (Number.isFinite(out) && out > 0) text += ` · ${formatCount(out)} left out (size cap or another link type)`;
  return text;
}

/** Hands `blob` to the browser as a download named `name` (a temporary object-URL link). */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = el('a', { href: url, download: name, hidden: true });
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoked later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60000);
}

export class PacketsPanel {
  /**
   * `root` holds the form (data-testid="packets-form", inputs named after PACKET_FIELDS) and
   * the result and error lines (data-testid="packets-result", "packets-error").
   */
  constructor(root) {
    const find = (id) => {
      const node = root.querySelector(`[data-testid="${id}"]`);
      if (!node) throw new Error(`missing element ${id}`);
      return node;
    };
    this.form = find('packets-form');
    this.button = find('packets-download');
    this.result = find('packets-result');
    this.error = find('packets-error');
    this.busy = false;
    this.form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      this.download();
    });
  }

  /** The form's values by field name. */
  fields() {
    const out = {};
    for (const name of PACKET_FIELDS) {
      const input = this.form.elements.namedItem(name);
      if (input && 'value' in input) out[name] = input.value;
    }
    return out;
  }

  showError(message) {
    setText(this.error, message || '');
    this.error.hidden = !message;
  }

  showResult(message) {
    setText(this.result, message || '');
    this.result.hidden = !message;
  }

  /** Fetches the capture the form describes and saves it; errors show inline, as text. */
  async download() {
    if (this.busy) return false;
    this.busy = true;
    this.button.disabled = true;
    this.form.setAttribute('aria-busy', 'true');
    this.showError('');
    this.showResult('fetching packets…');
    const fields = this.fields();
    try {
      const { blob, headers } = await getFile(packetsUrl(fields));
      const fallback = String(fields.format || '').trim() === 'pcapng' ? 'wirewatch-packets.pcapng' : 'wirewatch-packets.pcap';
      const name = dispositionFilename(headers.get('Content-Disposition'), fallback);
      saveBlob(blob, name);
      this.showResult(`${resultText(headers.get('X-Packet-Count'), headers.get('X-Packets-Left-Out'))} · saved as ${name}`);
      return true;
    } catch (err) {
      this.showResult('');
      if (err && err.status === 401) this.showError('Download refused: the access token is missing or wrong');
      else this.showError(`Download failed${err && err.status ? ` (${err.status})` : ''}: ${err && err.message ? err.message : err}`);
      return false;
    } finally {
      this.busy = false;
      this.button.disabled = false;
      this.form.removeAttribute('aria-busy');
    }
  }
}
