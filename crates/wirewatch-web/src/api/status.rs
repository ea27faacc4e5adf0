//! `GET /api/status`: version, capture status, listen address, whether a token is needed,
//! store counters and the current snapshot seq.

use crate::api::{blocking, json};
use crate::error::ApiError;
use crate::snapshot::CaptureStatus;
use crate::state::WebState;
use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use wirewatch_store::StoreStats;

/// The body of `GET /api/status`.
#[derive(Serialize, Debug)]
struct StatusView {
    version: String,
    capture: CaptureStatus,
    listen: String,
    auth_required: bool,
    store: Option<StoreStats>,
    seq: u64,
}

/// `GET /api/status`.
pub(crate) async fn handler(State(state): State<WebState>) -> Result<Response, ApiError> {
    let seq = state.snapshot().seq;
    let control = state.control.clone();
    let store = state.store.clone();
    let (capture, store) =
        blocking(move || Ok((control.status(), store.map(|s| s.stats())))).await?;
    json(&StatusView {
        version: state.version.to_string(),
        capture,
        listen: state.listen.to_string(),
        auth_required: state.auth.required(),
        store,
        seq,
    })
}
