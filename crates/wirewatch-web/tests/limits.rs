//! Hostile clients over a real socket: half-sent requests and idle connections are closed by
//! the header-read timeout, and the dashboard keeps answering meanwhile.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use wirewatch_web::{ServerLimits, WebConfig};

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

fn get_status(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
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
    std::thread::sleep(Duration::from_millis(1500));
    let open = held
        .iter_mut()
        .map(closed_by_server)
        .filter(|closed| !closed)
        .count();
    assert_eq!(open, 0, "connections the timeout did not close");
    assert!(get_status(addr).starts_with("HTTP/1.1 200"));
    server.shutdown().unwrap();
}
