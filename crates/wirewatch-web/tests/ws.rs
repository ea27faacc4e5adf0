//! The WebSocket feed over a real socket: full first, deltas with exactly the new intervals
//! and alerts, a slow client skipping to a full snapshot, and a clean close on shutdown.
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

mod common;

use common::*;
use futures_util::StreamExt;
use serde_json::Value;
use std::time::Duration;
use tokio_tungstenite::MaybeTlsStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use wirewatch_web::{PacketProto, PacketSummary, Snapshot, WebConfig};

type Client =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

async fn next_json(client: &mut Client) -> Value {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(20), client.next())
            .await
            .expect("no message within 20 s")
            .expect("connection closed")
            .unwrap();
        match msg {
            Message::Text(text) => return serde_json::from_str(&text).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected message {other:?}"),
        }
    }
}

fn seqs(v: &Value, key: &str) -> Vec<u64> {
    v[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["seq"].as_u64().unwrap())
        .collect()
}

/// Size of the one huge message: more than the kernel's socket buffers on both ends can hold
/// (Linux loopback: at most a few MB each), so sending it blocks until the client reads.
const HUGE: usize = 32 << 20;

/// A snapshot whose message does not fit the socket buffers.
fn huge(seq: u64) -> Snapshot {
    let mut s = snapshot(seq);
    s.packets = vec![PacketSummary {
        ts: seq as f64,
        proto: PacketProto::Udp,
        src: "10.0.0.1".into(),
        dst: "10.0.0.2".into(),
        src_port: Some(1),
        dst_port: Some(2),
        len: 60,
        flags: None,
        info: "x".repeat(HUGE),
    }];
    s
}

async fn connect(url: &str) -> Client {
    let config = WebSocketConfig::default()
        .max_frame_size(Some(2 * HUGE))
        .max_message_size(Some(2 * HUGE));
    let (client, response) = tokio_tungstenite::connect_async_with_config(url, Some(config), false)
        .await
        .unwrap();
    assert_eq!(response.status(), 101);
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_then_deltas_then_full_for_a_slow_client_then_close() {
    let f = fixture();
    f.publisher.publish(snapshot(1));
    let config = WebConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        token: None,
        tls: None,
    };
    let server = wirewatch_web::spawn(&config, f.state.clone()).unwrap();
    let url = format!("ws://{}/ws", server.local_addr());
    assert_eq!(server.url(), format!("http://{}/", server.local_addr()));

    let mut client = connect(&url).await;
    let full = next_json(&mut client).await;
    assert_eq!(full["type"], "full");
    let snap: Snapshot = serde_json::from_value(full["snapshot"].clone()).unwrap();
    assert_eq!(snap, snapshot(1));

    for seq in [2, 3] {
        f.publisher.publish(snapshot(seq));
        let delta = next_json(&mut client).await;
        assert_eq!(delta["type"], "delta");
        assert_eq!(delta["seq"], seq);
        assert_eq!(seqs(&delta, "intervals"), [seq], "only the new interval");
        assert_eq!(seqs(&delta, "alerts"), [seq], "only the new alert");
        assert_eq!(
            delta["connections"],
            serde_json::to_value(&snapshot(seq).connections).unwrap()
        );
        assert_eq!(delta["status"]["interface"], "eth0");
        assert!(delta.get("snapshot").is_none());
    }

    // A client that stops reading while 400 snapshots are published builds no queue: the
    // server is stuck sending the first (huge) one; when the client reads again, the next
    // message is the newest snapshot, whole, since it is more than 300 intervals behind.
    let mut slow = connect(&url).await;
    assert_eq!(next_json(&mut slow).await["snapshot"]["seq"], 3);
    f.publisher.publish(huge(4));
    // Let the server take seq 4 and block on the full socket: the slow client's task has
    // taken it once its first bytes arrive (nothing else is on the way to that client).
    assert_eq!(next_json(&mut client).await["seq"], 4);
    let MaybeTlsStream::Plain(socket) = slow.get_ref() else {
        panic!("a plain ws:// connection expected")
    };
    tokio::time::timeout(Duration::from_secs(20), socket.peek(&mut [0u8; 1]))
        .await
        .expect("the slow client's task never started sending seq 4")
        .unwrap();
    let newest = 403;
    for seq in 5..=newest {
        f.publisher.publish(snapshot(seq));
    }
    let mut messages = Vec::new();
    loop {
        let m = next_json(&mut slow).await;
        let seq = m["seq"]
            .as_u64()
            .or_else(|| m["snapshot"]["seq"].as_u64())
            .unwrap();
        messages.push((m["type"].as_str().unwrap().to_string(), seq));
        if seq == newest {
            break;
        }
    }
    assert_eq!(
        messages,
        [("delta".to_string(), 4), ("full".to_string(), newest)]
    );

    // The first client, which kept reading, is still consistent: it gets everything as deltas
    // or a full when it fell behind; its last message is the newest.
    loop {
        let m = next_json(&mut client).await;
        let seq = m["seq"]
            .as_u64()
            .or_else(|| m["snapshot"]["seq"].as_u64())
            .unwrap();
        if seq == newest {
            break;
        }
    }

    // Shutdown closes both connections cleanly (1001 going away).
    let stopper = tokio::task::spawn_blocking(move || server.shutdown());
    for c in [&mut client, &mut slow] {
        let close = loop {
            match tokio::time::timeout(Duration::from_secs(10), c.next())
                .await
                .unwrap()
            {
                Some(Ok(Message::Close(frame))) => break frame,
                Some(Ok(_)) => continue,
                other => panic!("expected a close frame, got {other:?}"),
            }
        };
        assert_eq!(close.unwrap().code, CloseCode::Away);
    }
    stopper.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn spawn_refuses_a_busy_address_naming_it() {
    let f = fixture();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let config = WebConfig {
        listen: addr,
        token: None,
        tls: None,
    };
    let e = wirewatch_web::spawn(&config, f.state.clone()).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("cannot listen on {addr}: address in use (pick another with --listen)")
    );
}
