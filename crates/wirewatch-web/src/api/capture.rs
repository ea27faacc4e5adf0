//! `POST /api/capture/start`, `/stop` and `/filter`: capture control through [`Control`].
//!
//! Bodies are JSON, read whole (small: see [`MAX_FILTER_LEN`]) and checked here; an empty
//! string means "none" (the default interface, no filter). The control calls block for up to
//! a few seconds and run on the blocking pool.
//!
//! [`Control`]: crate::Control

use crate::api::{blocking, json};
use crate::error::ApiError;
use crate::state::WebState;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::Response;
use serde::Deserialize;
use serde::de::DeserializeOwned;

/// Longest capture filter accepted, in bytes: BPF expressions people write are far shorter,
/// and libpcap compiles whatever it is given on the capture path.
pub const MAX_FILTER_LEN: usize = 4096;
/// Longest interface name accepted, in bytes (Linux allows 15; Windows device names are
/// longer).
pub const MAX_INTERFACE_LEN: usize = 256;

/// Body of `POST /api/capture/start`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct StartBody {
    #[serde(default)]
    interface: Option<String>,
    #[serde(default)]
    filter: Option<String>,
}

/// Body of `POST /api/capture/filter` (a missing `filter` reads as null).
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FilterBody {
    filter: Option<String>,
}

/// Parses a JSON body; an empty body is `T::default()` when `empty` gives one.
fn body<T: DeserializeOwned>(bytes: &Bytes, empty: Option<T>) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace)
        && let Some(v) = empty
    {
        return Ok(v);
    }
    serde_json::from_slice(bytes)
        .map_err(|e| ApiError::BadRequest(format!("invalid request body: {e}")))
}

/// `None` for a missing or blank value; 400 when longer than `max`.
fn field(name: &str, value: Option<String>, max: usize) -> Result<Option<String>, ApiError> {
    let Some(v) = value else { return Ok(None) };
    if v.len() > max {
        return Err(ApiError::BadRequest(format!(
            "invalid `{name}`: {} bytes long; at most {max} are accepted",
            v.len()
        )));
    }
    let v = v.trim();
    Ok((!v.is_empty()).then(|| v.to_string()))
}

/// `POST /api/capture/start` with `{"interface": string|null, "filter": string|null}`.
pub(crate) async fn start(
    State(state): State<WebState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: StartBody = body(&bytes, Some(StartBody::default()))?;
    let interface = field("interface", b.interface, MAX_INTERFACE_LEN)?;
    let filter = field("filter", b.filter, MAX_FILTER_LEN)?;
    let control = state.control.clone();
    let status = blocking(move || control.start(interface, filter).map_err(ApiError::from)).await?;
    json(&status)
}

/// `POST /api/capture/stop` (any body is ignored).
pub(crate) async fn stop(State(state): State<WebState>) -> Result<Response, ApiError> {
    let control = state.control.clone();
    let status = blocking(move || Ok(control.stop())).await?;
    json(&status)
}

/// Body of `POST /api/model/retrain`.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
struct RetrainBody {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

/// `POST /api/model/retrain` with `{"from": time|null, "to": time|null}`: retrains the anomaly
/// model on the stored range, without stopping capture.
pub(crate) async fn retrain(
    State(state): State<WebState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: RetrainBody = body(&bytes, Some(RetrainBody::default()))?;
    let from = field("from", b.from, MAX_INTERFACE_LEN)?;
    let to = field("to", b.to, MAX_INTERFACE_LEN)?;
    let control = state.control.clone();
    let outcome = blocking(move || control.retrain(from, to).map_err(ApiError::from)).await?;
    json(&outcome)
}

/// `POST /api/capture/filter` with `{"filter": string|null}` (null, "" or a missing field
/// clears it; an empty body is a 400).
pub(crate) async fn filter(
    State(state): State<WebState>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let b: FilterBody = body(&bytes, None)?;
    let filter = field("filter", b.filter, MAX_FILTER_LEN)?;
    let control = state.control.clone();
    let status = blocking(move || control.set_filter(filter).map_err(ApiError::from)).await?;
    json(&status)
}
