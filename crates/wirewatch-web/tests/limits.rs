//! Hostile clients over a real socket: half-sent requests and idle connections are closed by
//! the header-read timeout, and the dashboard keeps answering meanwhile; at the connection cap
//! new clients wait in the backlog until a slot frees; WebSockets beyond their cap get 503.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use serde_json::Value;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::{self, Message};
use wirewatch_testkit::wait_until;
use wirewatch_web::{ServerHandle, ServerLimits, WebConfig};

/// Whether the server has closed `s` (end of stream, a reset, or an error status then close).
fn closed_by_server(s: &mut TcpStream) -> bool {
    s.set_read_timeout(Some(Duration::from_secs(3))).unwrap();
    let mut buf = [0u8; 512];
    loop {
        match s.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => continue, // e.g. a 408 before the close
            Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
                return true;
            }
            Err(_) => return false, // still open after the read timeout
        }
    }
}

fn get_status(addr: SocketAddr) -> String {
    get(addr, "/api/status")
}

/// `GET path` on a new connection (closed after the answer): the whole response.
fn get(addr: SocketAddr, path: &str) -> String {
    request(
        addr,
        &format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"),
    )
}

/// Sends `raw` on a new connection and reads until the server closes it (10 s at most).
fn request(addr: SocketAddr, raw: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(raw.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

/// The value of sample `name` (no labels) in a `/metrics` response.
fn sample(metrics: &str, name: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(' '))
        .unwrap_or_else(|| panic!("no {name} in {metrics}"))
        .parse()
        .unwrap()
}

fn local() -> WebConfig {
    WebConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: None,
        tls: None,
    }
}

#[test]
fn half_sent_and_idle_connections_are_closed_and_the_page_still_answers() {
    let f = fixture();
    let config = WebConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: None,
        tls: None,
    };
    let limits = ServerLimits {
        header_read_timeout: Duration::from_millis(500),
        ..ServerLimits::default()
    };
    let server = wirewatch_web::spawn_with(&config, f.state.clone(), &limits).unwrap();
    let addr = server.local_addr();
    // 40 attackers: half send a request line and one header and stop, half send nothing.
    let mut held: Vec<TcpStream> = (0..40)
        .map(|i| {
            let mut s = TcpStream::connect(addr).unwrap();
            if i % 2 == 0 {
                s.write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n")
                    .unwrap();
            }
            s
        })
        .collect();
    // While they hang on, a real client is served.
    assert!(get_status(addr).starts_with("HTTP/1.1 200"));
    // A kept-alive connection that went idle after a request is closed too.
    let mut idle = TcpStream::connect(addr).unwrap();
    idle.write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 12];
    idle.read_exact(&mut first).unwrap();
    assert_eq!(&first, b"HTTP/1.1 200");
    held.push(idle);
    // Generous: the server has closed all 41 once the timeout (0.5 s) has passed.
    wait_until(
        Duration::from_secs(10),
        "the header-read timeout to close every held connection",
        || server.stats().connections_open == 0,
    );
    let open = held
        .iter_mut()
        .map(closed_by_server)
        .filter(|closed| !closed)
        .count();
    assert_eq!(open, 0, "connections the timeout did not close");
    assert!(get_status(addr).starts_with("HTTP/1.1 200"));
    server.shutdown().unwrap();
}

/// Opens `n` connections that send nothing and waits until the server holds all of them.
fn hold_idle(server: &ServerHandle, n: usize) -> Vec<TcpStream> {
    let held: Vec<TcpStream> = (0..n)
        .map(|_| TcpStream::connect(server.local_addr()).unwrap())
        .collect();
    wait_until(
        Duration::from_secs(5),
        "every idle connection accepted",
        || server.stats().connections_open == n,
    );
    held
}

#[test]
fn at_the_connection_cap_a_new_client_waits_until_idle_ones_time_out() {
    const CAP: usize = 8;
    let f = fixture();
    // Two seconds: room for a loaded machine to see all of them open before they time out.
    let timeout = Duration::from_secs(2);
    let limits = ServerLimits {
        header_read_timeout: timeout,
        max_connections: CAP,
        ..ServerLimits::default()
    };
    let server = wirewatch_web::spawn_with(&local(), f.state.clone(), &limits).unwrap();
    let addr = server.local_addr();
    let start = Instant::now();
    let mut idle = hold_idle(&server, CAP);
    // The accept loop wants a slot for the next client and finds none.
    wait_until(Duration::from_secs(5), "the cap reached is counted", || {
        server.stats().connection_waits >= 1
    });

    // A client now is not refused: the kernel completes its handshake and queues it; it is
    // answered once the first idle connection is cut off, at least `timeout` after `start`.
    let page = get_status(addr);
    let answered = start.elapsed();
    assert!(page.starts_with("HTTP/1.1 200"), "{page}");
    assert!(
        answered >= timeout,
        "answered after {answered:?}: it should have waited for a free slot"
    );
    assert!(answered < Duration::from_secs(8), "{answered:?}");
    let stats = server.stats();
    assert_eq!(stats.max_connections, CAP);
    assert!(stats.connection_waits >= 1, "{stats:?}");
    assert!(stats.connections_open <= CAP, "{stats:?}");

    // The idle ones were closed by the server, their slots are back, pages load at once.
    for s in &mut idle {
        assert!(closed_by_server(s), "an idle connection is still open");
    }
    wait_until(Duration::from_secs(5), "every slot given back", || {
        server.stats().connections_open == 0
    });
    // The page loads again (no slot to wait for now).
    let index = get(addr, "/");
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(
        index.to_ascii_lowercase().contains("<!doctype html"),
        "{index}"
    );
    let metrics = get(addr, "/metrics");
    assert_eq!(
        sample(&metrics, "wirewatch_web_connections_max"),
        CAP as u64
    );
    assert!(sample(&metrics, "wirewatch_web_connection_waits_total") >= 1);
    // The `/metrics` request itself holds a connection (the page's may not be released yet).
    let open = sample(&metrics, "wirewatch_web_connections");
    assert!((1..=2).contains(&open), "{open}");
    server.shutdown().unwrap();
}

#[test]
fn closing_a_connection_at_the_cap_lets_a_waiting_client_in() {
    const CAP: usize = 8;
    let f = fixture();
    // A timeout far beyond the test: only the client closing frees a slot here.
    let limits = ServerLimits {
        header_read_timeout: Duration::from_secs(60),
        max_connections: CAP,
        ..ServerLimits::default()
    };
    let server = wirewatch_web::spawn_with(&local(), f.state.clone(), &limits).unwrap();
    let mut idle = hold_idle(&server, CAP);

    let mut waiting = TcpStream::connect(server.local_addr()).unwrap();
    waiting
        .write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    // Queued, not answered, not closed.
    waiting
        .set_read_timeout(Some(Duration::from_millis(300)))
        .unwrap();
    let mut byte = [0u8; 1];
    let e = waiting.read(&mut byte).unwrap_err();
    assert!(
        matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut),
        "{e}"
    );
    assert_eq!(server.stats().connections_open, CAP);
    assert!(server.stats().connection_waits >= 1);

    // One idle client leaves: the waiting one is served (within the read timeout, far
    // before the server's own 60 s timeout could have freed a slot).
    drop(idle.pop());
    waiting
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut answer = String::new();
    waiting.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    drop(idle);
    wait_until(Duration::from_secs(5), "every slot given back", || {
        server.stats().connections_open == 0
    });
    server.shutdown().unwrap();
}

type Feed =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Opens a live feed and reads its first (full) message.
async fn open_feed(url: &str) -> Feed {
    let (mut feed, response) = tokio_tungstenite::connect_async(url).await.unwrap();
    assert_eq!(response.status(), 101);
    let first = tokio::time::timeout(Duration::from_secs(20), feed.next())
        .await
        .expect("no message within 20 s")
        .expect("closed")
        .unwrap();
    let Message::Text(text) = first else {
        panic!("expected a text message, got {first:?}")
    };
    let v: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["type"], "full");
    feed
}

/// Runs blocking `f` (a std socket, the server handle) off the async workers.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    tokio::task::spawn_blocking(f).await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn websockets_beyond_the_cap_get_503_until_one_closes() {
    let f = fixture();
    f.publisher.publish(snapshot(1));
    let limits = ServerLimits {
        max_websockets: 2,
        ..ServerLimits::default()
    };
    let server = wirewatch_web::spawn_with(&local(), f.state.clone(), &limits).unwrap();
    let addr = server.local_addr();
    let url = format!("ws://{addr}/ws");
    let mut first = open_feed(&url).await;
    let mut second = open_feed(&url).await;

    // A third: what a WebSocket client sees.
    let e = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    let tungstenite::Error::Http(response) = e else {
        panic!("expected an HTTP error, got {e}")
    };
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "10");
    // The same refusal read whole: a JSON error like every other API error.
    let raw = blocking(move || {
        request(
            addr,
            "GET /ws HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: Upgrade, close\r\n\
             Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
        )
    })
    .await;
    assert!(raw.starts_with("HTTP/1.1 503"), "{raw}");
    assert!(
        raw.to_ascii_lowercase()
            .contains("content-type: application/json"),
        "{raw}"
    );
    let body: Value = serde_json::from_str(raw.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(
        body["error"],
        "too many live feeds: 2 WebSockets are open, the most this server allows; close a \
         dashboard tab or try again later"
    );
    let stats = server.stats();
    assert_eq!(
        (
            stats.websockets_open,
            stats.max_websockets,
            stats.websockets_refused
        ),
        (2, 2, 2)
    );
    assert!(stats.connections_open >= 2, "{stats:?}");
    let metrics = blocking(move || get(addr, "/metrics")).await;
    assert_eq!(sample(&metrics, "wirewatch_web_websockets"), 2);
    assert_eq!(sample(&metrics, "wirewatch_web_websockets_max"), 2);
    assert_eq!(
        sample(&metrics, "wirewatch_web_websockets_refused_total"),
        2
    );

    // The open feeds are untouched by the refusals.
    f.publisher.publish(snapshot(2));
    for feed in [&mut first, &mut second] {
        let m = tokio::time::timeout(Duration::from_secs(20), feed.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap();
        let v: Value = serde_json::from_str(m.to_text().unwrap()).unwrap();
        assert_eq!(
            (v["type"].as_str(), v["seq"].as_u64()),
            (Some("delta"), Some(2))
        );
    }

    // One closes: its slot comes back and a new feed opens.
    first.send(Message::Close(None)).await.unwrap();
    while let Ok(Some(Ok(_))) = tokio::time::timeout(Duration::from_secs(10), first.next()).await {}
    tokio::task::block_in_place(|| {
        wait_until(
            Duration::from_secs(10),
            "the closed feed's slot to be given back",
            || server.stats().websockets_open == 1,
        );
    });
    let mut third = open_feed(&url).await;
    let stats = server.stats();
    assert_eq!((stats.websockets_open, stats.websockets_refused), (2, 2));
    // And the cap holds again.
    let e = tokio_tungstenite::connect_async(&url).await.unwrap_err();
    assert!(
        matches!(&e, tungstenite::Error::Http(r) if r.status() == 503),
        "{e}"
    );
    assert_eq!(server.stats().websockets_refused, 3);

    let _ = third.close(None).await;
    let _ = second.close(None).await;
    blocking(move || server.shutdown()).await.unwrap();
}
