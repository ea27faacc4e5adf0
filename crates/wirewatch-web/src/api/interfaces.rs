//! `GET /api/interfaces`: the interfaces a live capture can open.

use crate::api::{blocking, json};
use crate::error::ApiError;
use crate::state::WebState;
use axum::extract::State;
use axum::response::Response;

/// `GET /api/interfaces`.
pub(crate) async fn handler(State(state): State<WebState>) -> Result<Response, ApiError> {
    let control = state.control.clone();
    let list = blocking(move || control.interfaces().map_err(ApiError::from)).await?;
    json(&list)
}
