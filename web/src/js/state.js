// Live state of the dashboard: pure functions that turn WebSocket `full` and `delta` messages
// into the client's copy of the snapshot (no DOM, no I/O; unit-tested).

/** Interval points kept, as in the server's `recent` (the last ≤ 300 intervals). */
export const MAX_RECENT = 300;
/** Alerts kept, as in the snapshot (the most recently updated ≤ 100). */
export const MAX_ALERTS = 100;

/** Parts every message carries whole (the TCP panel included), and what each is when absent. */
const TABLES = ['protocols', 'apps', 'top_sources', 'top_destinations', 'connections', 'packets', 'tcp'];
const OBJECT_TABLES = new Set(['protocols', 'tcp']);
const emptyTable = (key) => (OBJECT_TABLES.has(key) ? {} : []);

/** Newest change first: higher `seq`, then later `last_ts`, then higher `id`. */
export function compareAlerts(a, b) {
  return (
    (Number(b.seq) || 0) - (Number(a.seq) || 0) ||
    (Number(b.last_ts) || 0) - (Number(a.last_ts) || 0) ||
    (Number(b.id) || 0) - (Number(a.id) || 0)
  );
}

/**
 * Merges `incoming` alerts into `existing` by id (an incoming alert replaces the known one),
 * newest change first, at most `max`. Returns the merged list and the ids that were unknown.
 */
export function mergeAlerts(existing, incoming, max = MAX_ALERTS) {
  const byId = new Map();
  for (const a of existing || []) byId.set(a.id, a);
  const added = [];
  for (const a of incoming || []) {
    if (!a || a.id === undefined || a.id === null) continue;
    if (!byId.has(a.id)) added.push(a.id);
    byId.set(a.id, a);
  }
  const alerts = [...byId.values()].sort(compareAlerts).slice(0, max);
  const kept = new Set(alerts.map((a) => a.id));
  return { alerts, added: added.filter((id) => kept.has(id)) };
}

/**
 * Appends interval points whose `seq` is newer than the last known one (oldest first), keeping
 * the newest `max`.
 */
export function appendIntervals(recent, points, max = MAX_RECENT) {
  const list = Array.isArray(recent) ? recent : [];
  const lastSeq = list.length ? Number(list[list.length - 1].seq) : -Infinity;
  const fresh = (points || []).filter((p) => p && Number(p.seq) > lastSeq).sort((a, b) => a.seq - b.seq);
  if (fresh.length === 0) return list;
  const out = list.concat(fresh);
  return out.length > max ? out.slice(out.length - max) : out;
}

/**
 * The state after a `full` message. `prev` (optional, the state before a reconnect) only
 * decides which alerts count as new: on the first full message none do.
 * The returned state carries `changedAlertIds` (alerts in this message that are new or
 * updated since `prev`) and `newAlertIds` (ids `prev` did not know).
 */
export function applyFull(snapshot, prev = null) {
  const s = snapshot || {};
  const recent = appendIntervals([], s.recent || [], MAX_RECENT);
  const { alerts } = mergeAlerts([], s.alerts || [], MAX_ALERTS);
  let changed = [];
  let added = [];
  if (prev && Array.isArray(prev.alerts)) {
    const known = new Map(prev.alerts.map((a) => [a.id, a]));
    for (const a of alerts) {
      const old = known.get(a.id);
      if (!old) {
        added.push(a.id);
        changed.push(a.id);
      } else if (Number(a.seq) > Number(old.seq)) {
        changed.push(a.id);
      }
    }
  }
  const state = {
    seq: Number(s.seq) || 0,
    ts: s.ts ?? null,
    interval_s: s.interval_s ?? null,
    status: s.status ?? null,
    stats: s.stats ?? null,
    recent,
    alerts,
    changedAlertIds: changed,
    newAlertIds: added,
  };
  for (const key of TABLES) state[key] = s[key] ?? emptyTable(key);
  return state;
}

/**
 * The state after a `delta` message: newer intervals appended, alerts merged by id, every
 * table replaced. A delta older than the state's `seq` changes nothing (the same state object
 * is returned); one with the same `seq` is the server republishing the current snapshot with a
 * new capture status (a capture stopped or started between intervals), so only the status is
 * taken from it. Without a state (no `full` yet) the delta is ignored (`null`).
 */
export function applyDelta(state, delta) {
  if (!state) return null;
  if (
    delta &&
    Number(delta.seq) === Number(state.seq) &&
    delta.status &&
    JSON.stringify(delta.status) !== JSON.stringify(state.status)
  ) {
    return { ...state, status: delta.status, changedAlertIds: [], newAlertIds: [] };
  }
  if (!delta || Number(delta.seq) <= Number(state.seq)) {
    return state.changedAlertIds.length || state.newAlertIds.length
      ? { ...state, changedAlertIds: [], newAlertIds: [] }
      : state;
  }
  const { alerts, added } = mergeAlerts(state.alerts, delta.alerts || [], MAX_ALERTS);
  const kept = new Set(alerts.map((a) => a.id));
  const next = {
    ...state,
    seq: Number(delta.seq),
    ts: delta.ts ?? state.ts,
    interval_s: delta.interval_s ?? state.interval_s,
    status: delta.status ?? state.status,
    stats: delta.stats ?? state.stats,
    recent: appendIntervals(state.recent, delta.intervals || [], MAX_RECENT),
    alerts,
    changedAlertIds: (delta.alerts || []).map((a) => a && a.id).filter((id) => kept.has(id)),
    newAlertIds: added,
  };
  for (const key of TABLES) {
    if (delta[key] !== undefined) next[key] = delta[key] ?? emptyTable(key);
  }
  return next;
}

/**
 * Applies one WebSocket message (`full` or `delta`) to `state`. Unknown message types leave
 * the state unchanged.
 */
export function applyMessage(state, message) {
  if (!message || typeof message !== 'object') return state;
  if (message.type === 'full') return applyFull(message.snapshot, state);
  if (message.type === 'delta') return applyDelta(state, message);
  return state;
}
