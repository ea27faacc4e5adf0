//! Packets as capture files: `GET /api/alerts/{id}/evidence` (an alert's evidence capture) and
//! `GET /api/packets` (recent packets from the ring, or the rotating capture files, by host,
//! port, flow and time range). Both are downloads; both run on the blocking pool.

use crate::api::{Params, blocking};
use crate::control::{PacketExport, PacketQuery};
use crate::error::ApiError;
use crate::state::WebState;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// The media type of pcap files (IANA registered); pcapng has none registered.
const PCAP_TYPE: &str = "application/vnd.tcpdump.pcap";

/// `GET /api/alerts/{id}/evidence`: the alert's evidence capture as a pcap download.
pub(crate) async fn evidence(
    State(state): State<WebState>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let id: u64 = id
        .parse()
        .map_err(|_| ApiError::BadRequest(format!("`{}` is not an alert id", id.escape_debug())))?;
    let control = state.control.clone();
    let data = blocking(move || {
        let path = control.evidence_capture(id)?;
        std::fs::read(&path).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => ApiError::NotFound(format!(
                "the evidence capture of alert {id} is gone (deleted to stay under the size cap?)"
            )),
            _ => ApiError::Internal(format!("cannot read the evidence of alert {id}: {e}")),
        })
    })
    .await?;
    Ok(download(data, &format!("alert-{id}.pcap")))
}

/// `GET /api/packets?source=&host=&port=&flow=&from=&until=&format=`.
pub(crate) async fn export(
    State(state): State<WebState>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let mut q = PacketQuery::default();
    for (name, value) in params {
        let value = value.trim().to_string();
        if value.is_empty() {
            continue;
        }
        if value.len() > 4096 {
            return Err(ApiError::BadRequest(format!("`{name}` is too long")));
        }
        let slot = match name.as_str() {
            "source" => &mut q.source,
            "host" => &mut q.host,
            "port" => &mut q.port,
            "flow" => &mut q.flow,
            "from" => &mut q.from,
            "until" | "to" => &mut q.until,
            "format" => &mut q.format,
            other => {
                return Err(ApiError::BadRequest(format!(
                    "unknown parameter `{}`: use source, host, port, flow, from, until, format",
                    other.escape_debug()
                )));
            }
        };
        *slot = Some(value);
    }
    let control = state.control.clone();
    let export: PacketExport =
        blocking(move || control.export_packets(q).map_err(ApiError::from)).await?;
    let mut response = download(export.data, &export.filename);
    let h = response.headers_mut();
    h.insert("x-packet-count", HeaderValue::from(export.packets));
    h.insert("x-packets-left-out", HeaderValue::from(export.left_out));
    Ok(response)
}

/// A file download: pcap media type, attachment with `filename`.
fn download(data: Vec<u8>, filename: &str) -> Response {
    let mut response = data.into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(PCAP_TYPE));
    // The file name is built by the server from digits and fixed words only.
    let disposition = format!("attachment; filename=\"{filename}\"");
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    response
}
