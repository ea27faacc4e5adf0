//! The JSON API under `/api/` (one file per group of routes) and the route table the router and
//! the OpenAPI document are both built from.
//!
//! Handlers are thin: they parse, call the snapshot channel, the store or the capture control
//! (store and control calls block, so they run on the blocking pool) and serialize.

pub mod capture;
pub mod export;
pub mod history;
pub mod interfaces;
pub mod openapi;
pub mod packets;
pub mod snapshot;
pub mod status;

use crate::error::ApiError;
use crate::query::Table;
use crate::state::WebState;
use axum::extract::{FromRequestParts, Query};
use axum::http::request::Parts;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{MethodRouter, get, post};
use serde::Serialize;

/// One route of the server, as the OpenAPI document lists it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RouteInfo {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// The path, with `{name}` for a path parameter.
    pub path: &'static str,
}

/// Every route with its handler. The router is built from this list and the OpenAPI test
/// checks the document against it, so a route cannot be added without being documented.
pub(crate) fn table() -> Vec<(RouteInfo, MethodRouter<WebState>)> {
    let r = |method, path| RouteInfo { method, path };
    let history = |t: Table| get(move |s, p| history::handler(t, s, p));
    vec![
        (r("GET", "/api/status"), get(status::handler)),
        (r("GET", "/api/snapshot"), get(snapshot::handler)),
        (r("GET", "/api/interfaces"), get(interfaces::handler)),
        (r("POST", "/api/capture/start"), post(capture::start)),
        (r("POST", "/api/capture/stop"), post(capture::stop)),
        (r("POST", "/api/capture/filter"), post(capture::filter)),
        (r("POST", "/api/model/retrain"), post(capture::retrain)),
        (
            r("GET", "/api/history/intervals"),
            history(Table::Intervals),
        ),
        (r("GET", "/api/history/talkers"), history(Table::Talkers)),
        (r("GET", "/api/history/flows"), history(Table::Flows)),
        (r("GET", "/api/history/alerts"), history(Table::Alerts)),
        (
            r("GET", "/api/history/transactions"),
            history(Table::Transactions),
        ),
        (r("GET", "/api/export/{what}"), get(export::handler)),
        (
            r("GET", "/api/alerts/{id}/evidence"),
            get(packets::evidence),
        ),
        (r("GET", "/api/packets"), get(packets::export)),
        (r("GET", "/api/openapi.json"), get(openapi::handler)),
        (r("GET", "/metrics"), get(crate::metrics::handler)),
        (r("GET", "/ws"), get(crate::ws::handler)),
        (r("GET", "/"), get(crate::assets::index)),
        (r("GET", "/history"), get(crate::assets::history)),
    ]
}

/// Every route of the server (other embedded files are served at their paths too).
pub fn routes() -> Vec<RouteInfo> {
    table().into_iter().map(|(info, _)| info).collect()
}

/// The query string as (name, value) pairs, in order; unreadable → 400.
#[derive(Debug, Clone, Default)]
pub struct Params(pub Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|Query(pairs)| Params(pairs))
            .map_err(|e| {
                ApiError::BadRequest(format!("unreadable query string: {}", e.body_text()))
            })
    }
}

/// A `200` with `value` as JSON (serialized here: `Arc<T>` needs no serde feature).
pub(crate) fn json<T: Serialize + ?Sized>(value: &T) -> Result<Response, ApiError> {
    let body = serde_json::to_vec(value)
        .map_err(|e| ApiError::Internal(format!("cannot serialize the response: {e}")))?;
    Ok(json_bytes(body))
}

/// A `200` with an already serialized JSON body.
pub(crate) fn json_bytes(body: Vec<u8>) -> Response {
    let mut response = body.into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

/// Runs a blocking call (store, capture control) on the blocking pool.
pub(crate) async fn blocking<T, F>(f: F) -> Result<T, ApiError>
where
    F: FnOnce() -> Result<T, ApiError> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f).await?
}
