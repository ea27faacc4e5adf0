//! The embedded dashboard: every file of `web/dist` compiled into the binary by `build.rs`
//! (or a placeholder page saying how to build it), served with its content type.
//!
//! `/` is `index.html`, `/history` is `history.html`, any other embedded file is served at its
//! path. Assets load without the token (the page asks for it); nothing is read from disk at
//! run time.

use crate::error::ApiError;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

include!(concat!(env!("OUT_DIR"), "/assets.rs"));

/// Whether the real dashboard was embedded (false: only the placeholder page).
pub fn dashboard_built() -> bool {
    BUILT
}

/// The embedded file at `path` (relative to `web/dist`, `/`-separated).
pub fn asset(path: &str) -> Option<&'static [u8]> {
    ASSETS
        .iter()
        .find(|(name, _)| *name == path)
        .map(|(_, bytes)| *bytes)
}

/// Paths of every embedded file.
pub fn asset_paths() -> impl Iterator<Item = &'static str> {
    ASSETS.iter().map(|(name, _)| *name)
}

/// The Content-Type for a file name, by extension.
pub fn content_type(path: &str) -> &'static str {
    let ext = path
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "html" | "htm" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "json" | "map" => "application/json",
        "webmanifest" => "application/manifest+json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "woff2" => "font/woff2",
        "woff" => "font/woff",
        "ttf" => "font/ttf",
        "wasm" => "application/wasm",
        "txt" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// The response for an embedded file, or `None`.
fn serve(path: &str) -> Option<Response> {
    let body = asset(path)?;
    let mut response = body.into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(content_type(path)),
    );
    // Revalidate every time: a new binary may carry new assets under the same names.
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    Some(response)
}

fn plain_not_found() -> Response {
    (StatusCode::NOT_FOUND, "404 not found\n").into_response()
}

/// `GET /`.
pub(crate) async fn index() -> Response {
    serve("index.html").unwrap_or_else(plain_not_found)
}

/// `GET /history`.
pub(crate) async fn history() -> Response {
    serve("history.html").unwrap_or_else(plain_not_found)
}

/// Everything no route matched: embedded files, else 404 (JSON under `/api`).
pub(crate) async fn fallback(method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return ApiError::NotFound(format!("no API route {} {path}", method.as_str()))
            .into_response();
    }
    if method != Method::GET && method != Method::HEAD {
        return plain_not_found();
    }
    path.strip_prefix('/')
        .and_then(serve)
        .unwrap_or_else(plain_not_found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_always_embedded() {
        assert!(asset("index.html").is_some());
        assert!(asset_paths().any(|p| p == "index.html"));
        assert_eq!(
            content_type("assets/app.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(
            content_type("vendor/uPlot.iife.min.js"),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type("a.CSS"), "text/css; charset=utf-8");
        assert_eq!(content_type("noext"), "application/octet-stream");
    }
}
