//! `GET /api/history/{intervals,talkers,flows,alerts,transactions}`: one page of stored rows.
//!
//! The body is the store's page: `{"rows": [...], "total", "offset", "limit"}` with the
//! store's row layouts, so history pages and exports read alike.

use crate::api::{Params, blocking, json_bytes};
use crate::error::ApiError;
use crate::query::{Table, parse_query};
use crate::snapshot::Snapshot;
use crate::state::WebState;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use std::sync::Arc;
use wirewatch_core::Timestamp;
use wirewatch_store::{Query, Store};

/// The newest packet time known: the end of the snapshot's newest interval, else the end of
/// the newest stored interval (one indexed row), else `None`.
pub(crate) fn newest_packet_time(snapshot: &Snapshot, store: &dyn Store) -> Option<Timestamp> {
    if snapshot.seq > 0 && snapshot.ts > 0.0 {
        return Some(Timestamp((snapshot.ts * 1e9).round() as u64));
    }
    wirewatch_store::newest_packet_time(store)
}

/// Parses `params` for `table` (skipping `extra`) against the state's newest packet time.
pub(crate) fn query_for(
    table: Table,
    params: &[(String, String)],
    extra: &[&str],
    snapshot: &Snapshot,
    store: &dyn Store,
) -> Result<Query, ApiError> {
    parse_query(table, params, extra, &|| {
        newest_packet_time(snapshot, store)
    })
}

fn to_json<T: Serialize>(page: &T) -> Result<Vec<u8>, ApiError> {
    serde_json::to_vec(page)
        .map_err(|e| ApiError::Internal(format!("cannot serialize the page: {e}")))
}

/// One page of `table` as JSON.
pub(crate) fn page_json(store: &dyn Store, table: Table, q: &Query) -> Result<Vec<u8>, ApiError> {
    match table {
        Table::Intervals => to_json(&store.intervals(q)?),
        Table::Talkers => to_json(&store.talkers(q)?),
        Table::Flows => to_json(&store.flows(q)?),
        Table::Alerts => to_json(&store.alerts(q)?),
        Table::Transactions => to_json(&store.transactions(q)?),
    }
}

/// `GET /api/history/{table}`.
pub(crate) async fn handler(
    table: Table,
    State(state): State<WebState>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let store: Arc<dyn Store> = state.store.clone().ok_or_else(ApiError::no_store)?;
    let snapshot = state.snapshot();
    let body = blocking(move || {
        let q = query_for(table, &params, &[], &snapshot, &*store)?;
        page_json(&*store, table, &q)
    })
    .await?;
    Ok(json_bytes(body))
}
