//! `GET /api/export/{what}`: every row of a history query as a CSV or JSON download.
//!
//! Rows are read from the store page by page on the blocking pool and streamed to the client
//! through a small channel, so memory stays bounded whatever the size; a client that goes
//! away stops the export. At most [`EXPORT_MAX_ROWS`] rows are written (fewer with `limit`);
//! `X-Total-Count` gives the size of the whole filtered set. A store error after the first
//! page aborts the transfer (the client sees a truncated download, not a short file).
//!
//! CSV columns are the store's row fields flattened with the shared `flatten` (nested objects
//! as `a.b`, arrays as JSON text); an alert's free-form `evidence` is one JSON text column so
//! every row has the same columns.

use crate::api::Params;
use crate::api::history::query_for;
use crate::error::ApiError;
use crate::query::Table;
use crate::state::WebState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use std::sync::Arc;
use tokio::sync::{mpsc, oneshot};
use wirewatch_store::params::flatten;
use wirewatch_store::{MAX_LIMIT, Page, Query, Store};

/// Most rows one export writes: a million rows is a few hundred MB of CSV, about the most a
/// spreadsheet opens (1,048,576 rows); narrow the time range or page with `offset` for more.
pub const EXPORT_MAX_ROWS: usize = 1_000_000;
/// Rows read from the store per query (the store's page limit).
const EXPORT_PAGE: usize = MAX_LIMIT;
/// Encoded pages buffered between the reader and the client: enough to keep the connection
/// busy, small enough that a slow client holds back the reader.
const CHANNEL_PAGES: usize = 4;

/// An export format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Format {
    Csv,
    Json,
}

impl Format {
    fn extension(self) -> &'static str {
        match self {
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    fn content_type(self) -> &'static str {
        match self {
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }
}

/// Reads `format` and `limit` (rows in all) from the parameters.
fn options(params: &[(String, String)]) -> Result<(Format, usize), ApiError> {
    let mut format = Format::Csv;
    let mut limit = EXPORT_MAX_ROWS;
    for (name, value) in params {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name.as_str() {
            "format" => {
                format = match value.to_ascii_lowercase().as_str() {
                    "csv" => Format::Csv,
                    "json" => Format::Json,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "invalid `format`: `{}` is not csv or json",
                            value.escape_debug()
                        )));
                    }
                }
            }
            "limit" => {
                let n: usize = value.parse().map_err(|_| {
                    ApiError::BadRequest(format!(
                        "invalid `limit`: `{}` is not a whole number",
                        value.escape_debug()
                    ))
                })?;
                if n == 0 {
                    return Err(ApiError::BadRequest(
                        "invalid `limit`: must be at least 1".to_string(),
                    ));
                }
                limit = n.min(EXPORT_MAX_ROWS);
            }
            _ => {}
        }
    }
    Ok((format, limit))
}

/// Encodes rows into one chunk of the download.
struct Encoder {
    format: Format,
    header: Option<Vec<String>>,
    rows: usize,
}

impl Encoder {
    fn rows<T: Serialize>(&mut self, rows: &[T]) -> Result<Vec<u8>, String> {
        let mut out = Vec::new();
        match self.format {
            Format::Json => {
                for row in rows {
                    out.extend_from_slice(if self.rows == 0 { b"[\n" } else { b",\n" });
                    serde_json::to_writer(&mut out, row).map_err(|e| e.to_string())?;
                    self.rows += 1;
                }
            }
            Format::Csv => {
                let mut w = csv::WriterBuilder::new().from_writer(&mut out);
                for row in rows {
                    // `flatten` keeps free-form fields (an alert's evidence) as one JSON column.
                    let value = serde_json::to_value(row).map_err(|e| e.to_string())?;
                    let mut flat = Vec::new();
                    flatten("", &value, &mut flat);
                    let header = match &self.header {
                        Some(h) => h,
                        None => {
                            let h: Vec<String> = flat.iter().map(|(k, _)| k.clone()).collect();
                            w.write_record(&h).map_err(|e| e.to_string())?;
                            self.header.insert(h)
                        }
                    };
                    // Align by column name: a field missing from a row is an empty cell.
                    let cells = header.iter().map(|k| {
                        flat.iter()
                            .find(|(name, _)| name == k)
                            .map_or("", |(_, v)| v.as_str())
                    });
                    w.write_record(cells).map_err(|e| e.to_string())?;
                    self.rows += 1;
                }
                w.flush().map_err(|e| e.to_string())?;
            }
        }
        Ok(out)
    }

    fn finish(&self) -> Vec<u8> {
        match (self.format, self.rows) {
            (Format::Json, 0) => b"[]\n".to_vec(),
            (Format::Json, _) => b"\n]\n".to_vec(),
            (Format::Csv, _) => Vec::new(),
        }
    }
}

type Chunk = Result<Bytes, std::io::Error>;

/// One page of `table`, encoded, and the size of the whole filtered set.
fn page(
    store: &dyn Store,
    table: Table,
    q: &Query,
    enc: &mut Encoder,
) -> Result<(Vec<u8>, usize, u64), ApiError> {
    fn encode<T: Serialize>(
        p: Page<T>,
        enc: &mut Encoder,
    ) -> Result<(Vec<u8>, usize, u64), ApiError> {
        let bytes = enc.rows(&p.rows).map_err(ApiError::Internal)?;
        Ok((bytes, p.rows.len(), p.total))
    }
    match table {
        Table::Intervals => encode(store.intervals(q)?, enc),
        Table::Talkers => encode(store.talkers(q)?, enc),
        Table::Flows => encode(store.flows(q)?, enc),
        Table::Alerts => encode(store.alerts(q)?, enc),
        Table::Transactions => encode(store.transactions(q)?, enc),
    }
}

/// Reads every page and sends it down `tx`; the first page's outcome goes to `first`.
fn produce(
    store: Arc<dyn Store>,
    table: Table,
    mut q: Query,
    mut enc: Encoder,
    limit: usize,
    first: oneshot::Sender<Result<u64, ApiError>>,
    tx: mpsc::Sender<Chunk>,
) {
    let start = q.offset;
    let mut written = 0usize;
    let mut first = Some(first);
    loop {
        q.offset = start.saturating_add(written);
        q.limit = EXPORT_PAGE.min(limit - written);
        let result = page(&*store, table, &q, &mut enc);
        let (bytes, n, total) = match (result, first.take()) {
            (Ok(ok), Some(f)) => {
                if f.send(Ok(ok.2)).is_err() {
                    return;
                }
                ok
            }
            (Ok(ok), None) => ok,
            (Err(e), Some(f)) => {
                let _ = f.send(Err(e));
                return;
            }
            (Err(e), None) => {
                let _ = tx.blocking_send(Err(std::io::Error::other(e.to_string())));
                return;
            }
        };
        written += n;
        if !bytes.is_empty() && tx.blocking_send(Ok(Bytes::from(bytes))).is_err() {
            return; // the client went away
        }
        if n == 0 || written >= limit || (q.offset + n) as u64 >= total {
            break;
        }
    }
    let _ = tx.blocking_send(Ok(Bytes::from(enc.finish())));
}

/// `GET /api/export/{what}`.
pub(crate) async fn handler(
    Path(what): Path<String>,
    State(state): State<WebState>,
    Params(params): Params,
) -> Result<Response, ApiError> {
    let table = Table::parse(&what).ok_or_else(|| {
        ApiError::NotFound(format!(
            "nothing to export called `{}`: use intervals, talkers, flows, alerts or \
             transactions",
            what.escape_debug()
        ))
    })?;
    let store: Arc<dyn Store> = state.store.clone().ok_or_else(ApiError::no_store)?;
    let (format, limit) = options(&params)?;
    let snapshot = state.snapshot();
    let (first_tx, first_rx) = oneshot::channel();
    let (tx, rx) = mpsc::channel::<Chunk>(CHANNEL_PAGES);
    tokio::task::spawn_blocking(move || {
        let q = match query_for(table, &params, &["format", "limit"], &snapshot, &*store) {
            Ok(q) => q,
            Err(e) => {
                let _ = first_tx.send(Err(e));
                return;
            }
        };
        let enc = Encoder {
            format,
            header: None,
            rows: 0,
        };
        produce(store, table, q, enc, limit, first_tx, tx);
    });
    let total = first_rx
        .await
        .map_err(|_| ApiError::Internal("the export task ended early".to_string()))??;

    let stream = futures_util::stream::unfold(rx, |mut rx| async move {
        rx.recv().await.map(|chunk| (chunk, rx))
    });
    let mut response = Body::from_stream(stream).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(format.content_type()),
    );
    let disposition = format!(
        "attachment; filename=\"wirewatch-{}.{}\"",
        table.name(),
        format.extension()
    );
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    h.insert("x-total-count", HeaderValue::from(total));
    Ok(response)
}
