//! `GET /api/snapshot`: the current snapshot, as the WebSocket's `full` message carries it.

use crate::api::json;
use crate::error::ApiError;
use crate::state::WebState;
use axum::extract::State;
use axum::response::Response;

/// `GET /api/snapshot`.
pub(crate) async fn handler(State(state): State<WebState>) -> Result<Response, ApiError> {
    let snapshot = state.snapshot();
    json(&*snapshot)
}
