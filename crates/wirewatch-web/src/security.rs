//! Request guards and response headers: the token check, cross-site request refusal and the
//! security headers every response carries.
//!
//! - `/api/*` and `/ws` need the token when [`Auth`] requires one (`Authorization: Bearer`,
//!   the `wirewatch_token` cookie, or `?token=` on `/ws` only). Without a token (loopback),
//!   a request whose `Host` is not a loopback name is refused (403): that is what a DNS
//!   rebinding attack from a web page looks like.
//! - State-changing requests (anything but GET/HEAD/OPTIONS) need `X-Wirewatch: 1` and, when
//!   an `Origin` is sent, one matching `Host`; a WebSocket handshake with a foreign `Origin`
//!   is refused too (browsers send cookies with cross-site WebSocket handshakes).
//! - No CORS headers are ever sent, so browsers refuse every cross-origin read and preflight.

use crate::auth::{Auth, TOKEN_COOKIE};
use crate::error::ApiError;
use crate::state::WebState;
use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::net::IpAddr;

/// The Content-Security-Policy of every response: only this origin's scripts, styles and
/// connections (plus WebSockets to it), images inline as `data:` at most, no framing.
pub const CONTENT_SECURITY_POLICY: &str =
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self'";
/// The header a state-changing request must carry (cannot be sent cross-site without a CORS
/// preflight, which this server never allows).
pub const CSRF_HEADER: &str = "x-wirewatch";

/// Whether `path` is guarded by the token (the API, the WebSocket and the metrics; not the
/// page itself).
fn protected(path: &str) -> bool {
    path == "/ws" || path == "/metrics" || path == "/api" || path.starts_with("/api/")
}

/// Adds the security headers to every response.
pub(crate) async fn security_headers(req: Request, next: Next) -> Response {
    let api = req.uri().path().starts_with("/api");
    let mut response = next.run(req).await;
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    if api && !h.contains_key(header::CACHE_CONTROL) {
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// Refuses unauthenticated and cross-site requests (see the module doc).
pub(crate) async fn guard(State(state): State<WebState>, req: Request, next: Next) -> Response {
    match check(&state.auth, &req) {
        Ok(()) => next.run(req).await,
        Err(e) => e.into_response(),
    }
}

fn check(auth: &Auth, req: &Request) -> Result<(), ApiError> {
    let path = req.uri().path();
    let headers = req.headers();
    let host =
        header_str(headers, &header::HOST).or_else(|| req.uri().authority().map(|a| a.as_str()));
    if protected(path) {
        match auth {
            Auth::Token(_) => {
                let query_token = if path == "/ws" {
                    Query::<Vec<(String, String)>>::try_from_uri(req.uri())
                        .ok()
                        .and_then(|Query(pairs)| {
                            pairs
                                .into_iter()
                                .find(|(k, _)| k == "token")
                                .map(|(_, v)| v)
                        })
                } else {
                    None
                };
                let mut offered = offered_tokens(headers);
                offered.extend(query_token);
                if !offered.iter().any(|t| auth.accepts(Some(t))) {
                    return Err(ApiError::Unauthorized(if offered.is_empty() {
                        "this Wirewatch needs its access token: send `Authorization: Bearer \
                         TOKEN` or log in on the dashboard"
                            .to_string()
                    } else {
                        "wrong access token".to_string()
                    }));
                }
            }
            Auth::None => {
                if let Some(host) = host
                    && !loopback_host(host)
                {
                    return Err(ApiError::Forbidden(format!(
                        "request for host `{}` refused: without a token this server answers \
                         only requests naming it by a loopback address (localhost, 127.0.0.1, \
                         [::1])",
                        host.escape_debug()
                    )));
                }
            }
        }
        if path == "/ws" {
            same_origin(headers, host)?;
        }
    }
    if !matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        if header_str(headers, &HeaderName::from_static(CSRF_HEADER)) != Some("1") {
            return Err(ApiError::Forbidden(
                "state-changing requests must carry the header `X-Wirewatch: 1`".to_string(),
            ));
        }
        same_origin(headers, host)?;
    }
    Ok(())
}

fn header_str<'a>(headers: &'a HeaderMap, name: &HeaderName) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Tokens in the `Authorization: Bearer` header and the token cookie.
fn offered_tokens(headers: &HeaderMap) -> Vec<String> {
    let mut out = Vec::new();
    for v in headers.get_all(header::AUTHORIZATION) {
        if let Ok(v) = v.to_str()
            && let Some((scheme, token)) = v.trim().split_once(' ')
            && scheme.eq_ignore_ascii_case("bearer")
        {
            out.push(token.trim().to_string());
        }
    }
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for pair in v.split(';') {
            if let Some((name, value)) = pair.trim().split_once('=')
                && name.trim() == TOKEN_COOKIE
            {
                out.push(value.trim().trim_matches('"').to_string());
            }
        }
    }
    out
}

/// Refuses a request whose `Origin` (when sent) is not the `Host` it was sent to.
fn same_origin(headers: &HeaderMap, host: Option<&str>) -> Result<(), ApiError> {
    let Some(origin) = header_str(headers, &header::ORIGIN) else {
        if headers.contains_key(header::ORIGIN) {
            return Err(ApiError::Forbidden("unreadable Origin header".to_string()));
        }
        return Ok(());
    };
    if host.is_some_and(|h| origin_matches(origin, h)) {
        Ok(())
    } else {
        Err(ApiError::Forbidden(format!(
            "cross-site request refused: Origin `{}` is not this server (`{}`)",
            origin.escape_debug(),
            host.unwrap_or("no Host header").escape_debug()
        )))
    }
}

/// Splits `host[:port]` (IPv6 literals in brackets) into the lower-case host and the port.
fn split_authority(authority: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        let port = match after {
            "" => None,
            p => Some(p.strip_prefix(':')?),
        };
        (format!("[{host}]"), port)
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if !h.contains(':') => (h.to_string(), Some(p)),
            Some(_) => return None,
            None => (authority.to_string(), None),
        }
    };
    let port = match port {
        Some(p) => Some(p.parse().ok()?),
        None => None,
    };
    (!host.is_empty()).then(|| (host.to_ascii_lowercase(), port))
}

/// Whether `origin` (`scheme://host[:port]`) names the same host and port as `host`.
fn origin_matches(origin: &str, host: &str) -> bool {
    let (default_port, authority) = if let Some(a) = origin.strip_prefix("http://") {
        (80, a)
    } else if let Some(a) = origin.strip_prefix("https://") {
        (443, a)
    } else {
        return false;
    };
    let (Some((o_host, o_port)), Some((h_host, h_port))) =
        (split_authority(authority), split_authority(host))
    else {
        return false;
    };
    o_host == h_host && o_port.unwrap_or(default_port) == h_port.unwrap_or(default_port)
}

/// Whether a `Host` value names this machine by a loopback address or `localhost`.
fn loopback_host(host: &str) -> bool {
    let Some((name, _)) = split_authority(host) else {
        return false;
    };
    if name == "localhost" || name.ends_with(".localhost") {
        return true;
    }
    name.trim_start_matches('[')
        .trim_end_matches(']')
        .parse::<IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used)]
mod tests {
    use super::*;

    #[test]
    fn origins() {
        assert!(origin_matches("http://127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(origin_matches("http://Example.com", "example.com:80"));
        assert!(origin_matches("https://example.com", "example.com"));
        assert!(origin_matches("http://[::1]:8080", "[::1]:8080"));
        assert!(!origin_matches(
            "http://evil.example:8080",
            "127.0.0.1:8080"
        ));
        assert!(!origin_matches("http://127.0.0.1:8081", "127.0.0.1:8080"));
        assert!(!origin_matches("https://example.com", "example.com:80"));
        assert!(!origin_matches("null", "127.0.0.1:8080"));
    }

    #[test]
    fn loopback_hosts() {
        for h in [
            "127.0.0.1:8080",
            "localhost",
            "LOCALHOST:1",
            "[::1]:8080",
            "127.1.2.3",
            "app.localhost:9",
        ] {
            assert!(loopback_host(h), "{h}");
        }
        for h in [
            "evil.example",
            "10.0.0.1:8080",
            "[2001:db8::1]:80",
            "localhost.evil.example",
            "",
        ] {
            assert!(!loopback_host(h), "{h}");
        }
    }

    #[test]
    fn tokens_from_headers_and_cookies() {
        let mut h = HeaderMap::new();
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer abc"),
        );
        h.append(
            header::COOKIE,
            HeaderValue::from_static("a=b; wirewatch_token=\"def\"; c=d"),
        );
        assert_eq!(offered_tokens(&h), ["abc", "def"]);
    }
}
