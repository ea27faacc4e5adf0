// WebSocket to `/ws`: connects (wss: on https, `?token=` when one is stored), parses JSON
// messages and reconnects with exponential backoff, reporting its state to the page.

import { getToken } from './auth.js';

/** The socket URL for the page's host, relative to the page path. */
export function socketUrl(token = getToken()) {
  const url = new URL('ws', document.baseURI);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  url.hash = '';
  url.search = token ? `token=${encodeURIComponent(token)}` : '';
  return url.toString();
}

/** Delay before reconnect attempt `attempt` (0-based): 0.5 s doubling to 15 s, ±20 % jitter. */
export function backoffMs(attempt, random = Math.random) {
  const base = Math.min(15000, 500 * 2 ** Math.min(attempt, 10));
  return Math.round(base * (0.8 + 0.4 * random()));
}

/**
 * A self-reconnecting socket.
 *   onMessage(msg)       — each parsed JSON message
 *   onState(state, info) — 'connecting' | 'open' | 'reconnecting' (info.delayMs, info.attempt,
 *                          info.until: when the next attempt starts, ms since the epoch)
 *   onFailure(attempt)   — a connection closed before it opened; lets the page ask
 *                          /api/status why (a 401 shows the token form)
 *   withToken()          — whether to send the stored token as ?token= (when the server
 *                          requires auth; default: whenever one is stored)
 */
export class LiveSocket {
  constructor({ onMessage, onState, onFailure, withToken }) {
    this.onMessage = onMessage;
    this.withToken = withToken || (() => true);
    this.onState = onState || (() => {});
    this.onFailure = onFailure || (() => {});
    this.attempt = 0;
    this.socket = null;
    this.timer = null;
    this.stopped = false;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close();
    this.socket = null;
  }

  connect() {
    clearTimeout(this.timer);
    this.onState('connecting', { attempt: this.attempt });
    let ws;
    try {
      ws = new WebSocket(socketUrl(this.withToken() ? getToken() : ''));
    } catch {
      this.scheduleReconnect();
      return;
    }
    this.socket = ws;
    let opened = false;
    ws.addEventListener('open', () => {
      opened = true;
      this.attempt = 0;
      this.onState('open', {});
    });
    ws.addEventListener('message', (ev) => {
      if (typeof ev.data !== 'string') return;
      let msg;
      try {
        msg = JSON.parse(ev.data);
      } catch {
        return; // ignore a malformed message, keep the connection
      }
      this.onMessage(msg);
    });
    ws.addEventListener('close', () => {
      if (this.socket !== ws) return;
      this.socket = null;
      if (this.stopped) return;
      if (!opened) this.onFailure(this.attempt);
      this.scheduleReconnect();
    });
    ws.addEventListener('error', () => {
      // 'close' follows and reconnects.
    });
  }

  scheduleReconnect() {
    if (this.stopped) return;
    const delayMs = backoffMs(this.attempt);
    this.attempt += 1;
    this.onState('reconnecting', { delayMs, attempt: this.attempt, until: Date.now() + delayMs });
    this.timer = setTimeout(() => this.connect(), delayMs);
  }

  /** Reconnects now (e.g. the user clicked "retry"). */
  retryNow() {
    if (this.socket) return;
    this.connect();
  }
}
