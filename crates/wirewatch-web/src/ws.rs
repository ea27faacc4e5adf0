//! The live feed: `GET /ws`, one JSON text message per published snapshot.
//!
//! A new client gets `{"type": "full", "snapshot": ...}`, then one `delta` per newer snapshot
//! it is sent (intervals and alerts newer than the last seq it was sent, every table and the
//! TCP panel whole).
//! The task waits on `watch::Receiver::changed()`, so a slow client never builds a queue: it
//! is always sent the newest snapshot, and one that fell more than
//! [`MAX_RECENT_INTERVALS`] intervals behind (or whose missed intervals are no longer in the
//! snapshot) gets a `full` message again. Messages from the client are read only to notice a
//! close; axum answers pings. On server shutdown each connection is closed with code 1001.
//!
//! At most [`crate::ServerLimits::max_websockets`] feeds are open at once: each holds a slot
//! from the upgrade until its task ends, and an upgrade when none is free gets 503 (counted).

use crate::error::ApiError;
use crate::snapshot::{
    AlertView, CaptureStatus, Connection, IntervalPoint, MAX_RECENT_INTERVALS, PacketSummary,
    Snapshot, Stats, TalkerView, TcpPanel,
};
use crate::state::WebState;
use axum::extract::State;
use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade, close_code};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::time::Duration;
use wirewatch_core::{AppCount, ProtocolCounts};

/// How long one message may take to go out before the client is dropped as stuck: much
/// longer than any interval, so only a client that stopped reading is cut off.
pub const SEND_TIMEOUT: Duration = Duration::from_secs(30);

/// The messages of the feed (`type` is the tag).
#[derive(Serialize, Debug)]
#[serde(tag = "type", rename_all = "lowercase")]
pub(crate) enum WsMessage<'a> {
    /// The whole snapshot.
    Full {
        /// The snapshot.
        snapshot: &'a Snapshot,
    },
    /// What changed since the client's last seq.
    Delta(Delta<'a>),
}

/// A delta message: the newest snapshot with only the new intervals and alerts.
#[derive(Serialize, Debug)]
pub(crate) struct Delta<'a> {
    seq: u64,
    ts: f64,
    interval_s: f64,
    status: &'a CaptureStatus,
    stats: &'a Stats,
    intervals: Vec<&'a IntervalPoint>,
    protocols: &'a ProtocolCounts,
    apps: &'a [AppCount],
    top_sources: &'a [TalkerView],
    top_destinations: &'a [TalkerView],
    connections: &'a [Connection],
    packets: &'a [PacketSummary],
    alerts: Vec<&'a AlertView>,
    tcp: &'a TcpPanel,
}

/// The message that brings a client that was last sent seq `last` (`None`: nothing yet) up
/// to `snapshot`.
pub(crate) fn message_for(snapshot: &Snapshot, last: Option<u64>) -> WsMessage<'_> {
    let Some(last) = last else {
        return WsMessage::Full { snapshot };
    };
    let behind = snapshot.seq.checked_sub(last);
    let missed_intervals_gone = snapshot
        .recent
        .first()
        .is_some_and(|first| first.seq > last.saturating_add(1));
    match behind {
        // A seq that went backwards is a restarted engine: start over.
        None => return WsMessage::Full { snapshot },
        Some(b) if b > MAX_RECENT_INTERVALS as u64 || missed_intervals_gone => {
            return WsMessage::Full { snapshot };
        }
        Some(_) => {}
    }
    WsMessage::Delta(Delta {
        seq: snapshot.seq,
        ts: snapshot.ts,
        interval_s: snapshot.interval_s,
        status: &snapshot.status,
        stats: &snapshot.stats,
        intervals: snapshot.recent.iter().filter(|p| p.seq > last).collect(),
        protocols: &snapshot.protocols,
        apps: &snapshot.apps,
        top_sources: &snapshot.top_sources,
        top_destinations: &snapshot.top_destinations,
        connections: &snapshot.connections,
        packets: &snapshot.packets,
        alerts: snapshot.alerts.iter().filter(|a| a.seq > last).collect(),
        tcp: &snapshot.tcp,
    })
}

/// Seconds a client refused at the WebSocket cap is asked to wait (`Retry-After`).
pub const RETRY_AFTER_S: u32 = 10;

/// `GET /ws`: upgrades and runs the feed, or answers 503 when every feed slot is taken.
pub(crate) async fn handler(State(state): State<WebState>, ws: WebSocketUpgrade) -> Response {
    let Some(slot) = state.caps.websockets.try_take() else {
        let max = state.caps.websockets.max();
        let mut response = ApiError::Unavailable(format!(
            "too many live feeds: {max} WebSockets are open, the most this server allows; \
             close a dashboard tab or try again later"
        ))
        .into_response();
        response
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(RETRY_AFTER_S));
        return response;
    };
    // The slot is given back when the feed ends, or when the upgrade fails and the callback
    // is dropped unrun.
    ws.on_upgrade(move |socket| async move {
        feed(socket, state).await;
        drop(slot);
    })
}

async fn send(socket: &mut WebSocket, msg: &WsMessage<'_>) -> bool {
    let Ok(text) = serde_json::to_string(msg) else {
        return false;
    };
    matches!(
        tokio::time::timeout(SEND_TIMEOUT, socket.send(Message::Text(text.into()))).await,
        Ok(Ok(()))
    )
}

async fn feed(mut socket: WebSocket, state: WebState) {
    let mut snapshots = state.snapshots.clone();
    let mut shutdown = state.shutdown.subscribe();
    let mut last = None;
    if !*shutdown.borrow_and_update() {
        let first = snapshots.borrow_and_update().clone();
        if !send(&mut socket, &message_for(&first, last)).await {
            return;
        }
        last = Some(first.seq);
    }
    let mut engine_gone = false;
    loop {
        tokio::select! {
            () = async {
                if shutdown.wait_for(|down| *down).await.is_err() {
                    // The state (and its sender) outlives this task; never taken as a signal.
                    std::future::pending::<()>().await;
                }
            } => {
                let close = CloseFrame {
                    code: close_code::AWAY,
                    reason: "server shutting down".into(),
                };
                let _ = tokio::time::timeout(
                    Duration::from_secs(1),
                    socket.send(Message::Close(Some(close))),
                )
                .await;
                break;
            }
            changed = snapshots.changed(), if !engine_gone => {
                if changed.is_err() {
                    // The engine is gone (the publisher was dropped): no more snapshots, but
                    // the connection stays open until the client or the server closes it.
                    engine_gone = true;
                    continue;
                }
                let snapshot = snapshots.borrow_and_update().clone();
                if !send(&mut socket, &message_for(&snapshot, last)).await {
                    break;
                }
                last = Some(snapshot.seq);
            }
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => break,
                // The feed is one-way; anything the client sends is ignored.
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;
    use crate::snapshot::AlertStatus;

    fn snapshot(seq: u64) -> Snapshot {
        let first = seq.saturating_sub(MAX_RECENT_INTERVALS as u64 - 1).max(1);
        Snapshot {
            seq,
            recent: (first..=seq)
                .map(|s| IntervalPoint {
                    seq: s,
                    ..IntervalPoint::default()
                })
                .collect(),
            ..Snapshot::default()
        }
    }

    fn kind(m: &WsMessage<'_>) -> &'static str {
        match m {
            WsMessage::Full { .. } => "full",
            WsMessage::Delta(_) => "delta",
        }
    }

    #[test]
    fn full_first_then_deltas_then_full_when_far_behind() {
        let s = snapshot(10);
        assert_eq!(kind(&message_for(&s, None)), "full");
        let WsMessage::Delta(d) = message_for(&s, Some(8)) else {
            panic!("expected a delta")
        };
        assert_eq!(
            d.intervals.iter().map(|p| p.seq).collect::<Vec<_>>(),
            [9, 10]
        );
        assert_eq!(kind(&message_for(&snapshot(400), Some(99))), "full");
        assert_eq!(kind(&message_for(&snapshot(400), Some(100))), "delta");
        // Backwards: the engine restarted.
        assert_eq!(kind(&message_for(&snapshot(3), Some(10))), "full");
        // Same seq (a status change): an empty delta.
        let WsMessage::Delta(d) = message_for(&s, Some(10)) else {
            panic!("expected a delta")
        };
        assert!(d.intervals.is_empty());
    }

    #[test]
    fn delta_json_has_the_contract_fields_and_only_new_alerts() {
        let mut s = snapshot(5);
        let alert = |id, seq| AlertView {
            alert: wirewatch_core::Alert {
                id,
                kind: "spike".into(),
                severity: wirewatch_core::Severity::Low,
                confidence: 1.0,
                start_ts: wirewatch_core::Timestamp(0),
                last_ts: wirewatch_core::Timestamp(0),
                updates: 0,
                sources: vec![],
                targets: vec![],
                ports: vec![],
                message: String::new(),
                recommendation: String::new(),
                evidence: serde_json::Value::Null,
            },
            status: AlertStatus::Updated,
            seq,
        };
        s.alerts = vec![alert(2, 5), alert(1, 3)];
        let v = serde_json::to_value(message_for(&s, Some(4))).unwrap();
        assert_eq!(v["type"], "delta");
        for key in [
            "seq",
            "ts",
            "interval_s",
            "status",
            "stats",
            "intervals",
            "protocols",
            "apps",
            "top_sources",
            "top_destinations",
            "connections",
            "packets",
            "alerts",
            "tcp",
        ] {
            assert!(v.get(key).is_some(), "{key}");
        }
        // The TCP panel is a table like the others: every delta carries it whole.
        for key in ["window_s", "slowest", "lossiest", "hosts", "hosts_evicted"] {
            assert!(v["tcp"].get(key).is_some(), "tcp.{key}");
        }
        assert_eq!(v["alerts"].as_array().unwrap().len(), 1);
        assert_eq!(v["alerts"][0]["id"], 2);
        assert_eq!(v["intervals"].as_array().unwrap().len(), 1);
        let v = serde_json::to_value(message_for(&s, None)).unwrap();
        assert_eq!(v["type"], "full");
        assert_eq!(v["snapshot"]["seq"], 5);
    }
}
