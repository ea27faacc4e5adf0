//! Access control: the token on the API and the WebSocket, and the listen-address rule.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::*;
use std::net::SocketAddr;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use wirewatch_web::{Auth, CONTENT_SECURITY_POLICY, WebConfig, WebError, check_listen};

const TOKEN: &str = "0123456789abcdef0123456789abcdef";

fn with_token(f: &Fixture) -> wirewatch_web::WebState {
    f.state
        .clone()
        .with_auth(check_listen(&"0.0.0.0:8080".parse().unwrap(), Some(TOKEN)).unwrap())
}

fn req(uri: &str, header: Option<(&str, &str)>) -> Request<Body> {
    let mut b = Request::get(uri);
    if let Some((k, v)) = header {
        b = b.header(k, v);
    }
    b.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn the_api_needs_the_token() {
    let f = fixture();
    let state = with_token(&f);
    let r = send(&state, req("/api/status", None)).await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(
        r.error().contains("needs its access token"),
        "{}",
        r.error()
    );
    assert!(r.header("www-authenticate").is_some());
    assert_eq!(
        r.header("content-security-policy"),
        Some(CONTENT_SECURITY_POLICY)
    );
    let r = send(
        &state,
        req(
            "/api/status",
            Some(("authorization", "Bearer wrong-token-wrong-token")),
        ),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error(), "wrong access token");
    // Unknown API paths do not reveal themselves either.
    assert_eq!(
        send(&state, req("/api/nothing", None)).await.status,
        StatusCode::UNAUTHORIZED
    );
    // Only the WebSocket takes the token from the query string.
    assert_eq!(
        send(&state, req(&format!("/api/status?token={TOKEN}"), None))
            .await
            .status,
        StatusCode::UNAUTHORIZED
    );

    let bearer = format!("Bearer {TOKEN}");
    let r = send(&state, req("/api/status", Some(("authorization", &bearer)))).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.json()["auth_required"], true);
    let cookie = format!("theme=dark; wirewatch_token={TOKEN}");
    assert_eq!(
        send(&state, req("/api/snapshot", Some(("cookie", &cookie))))
            .await
            .status,
        StatusCode::OK
    );
    // With a token, the Host is not restricted to loopback names.
    let r = send(
        &state,
        Request::get("/api/status")
            .header("host", "monitor.example:8080")
            .header("authorization", &bearer)
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::OK);

    // POSTs need the token and the header.
    let r = send(
        &state,
        Request::post("/api/capture/stop")
            .header("x-wirewatch", "1")
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert!(f.control.calls().is_empty());

    // The page itself loads without the token.
    let r = send(&state, req("/", None)).await;
    assert_eq!(r.status, StatusCode::OK);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_websocket_needs_the_token() {
    let f = fixture();
    let config = WebConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: Some(TOKEN.to_string()),
        tls: None,
    };
    let server = wirewatch_web::spawn(&config, f.state.clone()).unwrap();
    let base = format!("ws://{}/ws", server.local_addr());

    match tokio_tungstenite::connect_async(&base).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
            assert_eq!(r.status(), 401);
        }
        other => panic!("expected 401, got {other:?}"),
    }
    match tokio_tungstenite::connect_async(format!("{base}?token=nope-nope-nope-nope")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 401),
        other => panic!("expected 401, got {other:?}"),
    }
    let (mut ws, response) = tokio_tungstenite::connect_async(format!("{base}?token={TOKEN}"))
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    use futures_util::StreamExt;
    let first = ws.next().await.unwrap().unwrap();
    assert!(first.to_text().unwrap().starts_with("{\"type\":\"full\""));

    let mut request = base.clone().into_client_request().unwrap();
    request
        .headers_mut()
        .insert("authorization", format!("Bearer {TOKEN}").parse().unwrap());
    let (_ws2, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.status(), 101);

    // A cross-site handshake is refused even with the cookie.
    let mut request = base.clone().into_client_request().unwrap();
    request.headers_mut().insert(
        "cookie",
        format!("wirewatch_token={TOKEN}").parse().unwrap(),
    );
    request
        .headers_mut()
        .insert("origin", "http://evil.example".parse().unwrap());
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(r)) => assert_eq!(r.status(), 403),
        other => panic!("expected 403, got {other:?}"),
    }

    // Status over HTTP reports the bound address.
    drop(ws);
    tokio::task::spawn_blocking(move || server.shutdown())
        .await
        .unwrap()
        .unwrap();
}

#[test]
fn listen_rule() {
    let any: SocketAddr = "0.0.0.0:8080".parse().unwrap();
    let e = check_listen(&any, None).unwrap_err();
    assert!(matches!(e, WebError::NoCredentials { .. }));
    let msg = e.to_string();
    assert!(
        msg.starts_with("refusing to listen on 0.0.0.0:8080 without a token"),
        "{msg}"
    );
    assert!(msg.contains("`[web] token = \"...\"`"), "{msg}");
    assert!(msg.contains("--token-file FILE"), "{msg}");
    assert!(
        msg.contains("`wirewatch token` prints a new random token"),
        "{msg}"
    );
    assert!(check_listen(&"[::]:8080".parse().unwrap(), None).is_err());
    assert!(check_listen(&"192.0.2.1:8080".parse().unwrap(), None).is_err());

    assert_eq!(
        check_listen(&"127.0.0.1:8080".parse().unwrap(), None).unwrap(),
        Auth::None
    );
    assert_eq!(
        check_listen(&"[::1]:8080".parse().unwrap(), None).unwrap(),
        Auth::None
    );
    assert!(check_listen(&any, Some(TOKEN)).unwrap().required());
    // A configured token is enforced on loopback too.
    assert!(
        check_listen(&"127.0.0.1:8080".parse().unwrap(), Some(TOKEN))
            .unwrap()
            .required()
    );

    // spawn applies the rule before binding anything.
    let f = fixture();
    let config = WebConfig {
        listen: "0.0.0.0:0".parse().unwrap(),
        token: None,
        tls: None,
    };
    assert!(matches!(
        wirewatch_web::spawn(&config, f.state.clone()),
        Err(WebError::NoCredentials { .. })
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_with_pem_files() {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, ServerName};
    use std::sync::Arc;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let cert = fixtures.join("test-only-cert.pem");
    let f = fixture();
    let config = WebConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: None,
        tls: Some(wirewatch_web::TlsFiles {
            cert: cert.clone(),
            key: fixtures.join("test-only-key.pem"),
        }),
    };
    let server = wirewatch_web::spawn(&config, f.state.clone()).unwrap();
    assert_eq!(server.url(), format!("https://{}/", server.local_addr()));

    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(&cert).unwrap())
        .unwrap();
    let client = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(server.local_addr())
        .await
        .unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(Arc::new(client))
        .connect(ServerName::try_from("localhost").unwrap(), tcp)
        .await
        .unwrap();
    tls.write_all(b"GET /api/status HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    let _ = tls.read_to_string(&mut response).await;
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains("\"auth_required\":false"), "{response}");

    // The key file given as the certificate: the error names the file.
    let bad = WebConfig {
        tls: Some(wirewatch_web::TlsFiles {
            cert: fixtures.join("test-only-key.pem"),
            key: fixtures.join("test-only-key.pem"),
        }),
        ..config
    };
    let e = wirewatch_web::spawn(&bad, f.state.clone())
        .unwrap_err()
        .to_string();
    assert!(e.contains("test-only-key.pem: no certificate in it"), "{e}");
    tokio::task::spawn_blocking(move || server.shutdown())
        .await
        .unwrap()
        .unwrap();
}
