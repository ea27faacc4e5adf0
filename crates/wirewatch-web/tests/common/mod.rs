//! Test support: a store with sample data, a recording `Control` double, snapshots, and
//! helpers to send requests through the router without a socket.
#![allow(clippy::unwrap_used, clippy::expect_used, dead_code, missing_docs)]

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use tower::ServiceExt;
use wirewatch_core::{IntervalMetrics, Severity};
use wirewatch_store::contract::{
    TempDir, named, sample_alert, sample_flow, sample_interval, sample_transaction,
};
use wirewatch_store::{Record, SqliteStore, Store, StoreConfig};
use wirewatch_web::{
    AlertStatus, AlertView, CaptureStatus, Connection, Control, ControlFailure, InterfaceView,
    IntervalPoint, Snapshot, SnapshotPublisher, WebState, snapshot_channel,
};

/// The server name of the hostile flow.
pub const HOSTILE: &str = "<script>alert(1)</script>";
/// Transactions written to the store (kind, name), the `i`-th at `T0 + 5 i` s, from 10.0.0.1
/// (even `i`) or 2001:db8::5 (odd).
pub const TRANSACTIONS: [(&str, &str); 6] = [
    ("dns", "www.example.com"),
    ("dns", "db_backup.internal"),
    ("http", "www.example.com"),
    ("http", HOSTILE),
    ("tls", "api.example.org"),
    ("quic", "=HYPERLINK(\"http://evil.example/\")"),
];
/// Intervals written to the store (one per second from `T0`).
pub const INTERVALS: u64 = 60;

/// A `Control` that records its calls and returns canned answers.
#[derive(Default)]
pub struct TestControl {
    pub calls: Mutex<Vec<String>>,
    pub status: Mutex<CaptureStatus>,
    pub start_failure: Mutex<Option<ControlFailure>>,
    pub filter_failure: Mutex<Option<ControlFailure>>,
    pub interfaces_failure: Mutex<Option<ControlFailure>>,
}

impl TestControl {
    pub fn calls(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    fn record(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
}

impl Control for TestControl {
    fn status(&self) -> CaptureStatus {
        self.status.lock().unwrap().clone()
    }

    fn interfaces(&self) -> Result<Vec<InterfaceView>, ControlFailure> {
        self.record("interfaces".into());
        if let Some(f) = self.interfaces_failure.lock().unwrap().clone() {
            return Err(f);
        }
        Ok(vec![InterfaceView {
            name: "eth0".into(),
            description: Some("Ethernet".into()),
            addresses: vec!["192.0.2.10".parse::<IpAddr>().unwrap()],
            up: true,
            running: true,
            loopback: false,
            wireless: false,
            default: true,
        }])
    }

    fn start(
        &self,
        interface: Option<String>,
        filter: Option<String>,
    ) -> Result<CaptureStatus, ControlFailure> {
        self.record(format!("start {interface:?} {filter:?}"));
        if let Some(f) = self.start_failure.lock().unwrap().clone() {
            return Err(f);
        }
        let mut s = self.status.lock().unwrap();
        *s = CaptureStatus {
            running: true,
            source: format!("capturing on {}", interface.as_deref().unwrap_or("eth0")),
            interface: Some(interface.unwrap_or_else(|| "eth0".into())),
            filter,
            last_error: None,
        };
        Ok(s.clone())
    }

    fn stop(&self) -> CaptureStatus {
        self.record("stop".into());
        let mut s = self.status.lock().unwrap();
        s.running = false;
        s.source = "stopped".into();
        s.clone()
    }

    fn set_filter(&self, filter: Option<String>) -> Result<CaptureStatus, ControlFailure> {
        self.record(format!("filter {filter:?}"));
        if let Some(f) = self.filter_failure.lock().unwrap().clone() {
            return Err(f);
        }
        let mut s = self.status.lock().unwrap();
        s.filter = filter;
        Ok(s.clone())
    }
}

/// Everything a test needs; the temp directory lives as long as this.
pub struct Fixture {
    pub state: WebState,
    pub store: Arc<SqliteStore>,
    pub control: Arc<TestControl>,
    pub publisher: SnapshotPublisher,
    pub dir: TempDir,
}

/// The intervals written to the store.
pub fn metrics() -> Vec<IntervalMetrics> {
    (0..INTERVALS).map(|i| sample_interval(i, i)).collect()
}

/// A store with intervals, flows (one with a hostile server name), alerts and transactions
/// (see [`TRANSACTIONS`]).
pub fn fixture() -> Fixture {
    let dir = TempDir::new("web");
    let store = Arc::new(SqliteStore::open(&StoreConfig::new(dir.path().join("w.db"))).unwrap());
    let mut records: Vec<Record> = metrics().into_iter().map(Record::Interval).collect();
    for i in 0..30u64 {
        let (src, dst, port) = match i % 3 {
            0 => ("10.0.0.1", "192.0.2.80", 443),
            1 => ("10.0.0.2", "192.0.2.53", 53),
            _ => ("2001:db8::5", "2001:db8::80", 80),
        };
        let f = sample_flow(i, src, dst, port, i);
        records.push(Record::Flow(if i % 3 == 0 {
            named(f, Some("tls"), Some(&format!("www{i}.example.com")))
        } else {
            f
        }));
    }
    records.push(Record::Flow(named(
        sample_flow(99, "10.0.0.66", "192.0.2.66", 443, 40),
        Some("tls"),
        Some(HOSTILE),
    )));
    records.push(Record::Alert(sample_alert(
        1,
        "port_scan",
        Severity::High,
        5,
    )));
    records.push(Record::Alert(sample_alert(
        2,
        "syn_flood",
        Severity::Low,
        10,
    )));
    records.push(Record::Alert(sample_alert(
        3,
        "port_scan",
        Severity::Critical,
        20,
    )));
    for (i, (kind, name)) in TRANSACTIONS.iter().enumerate() {
        let i = i as u64;
        let hosts = if i.is_multiple_of(2) {
            ("10.0.0.1", "192.0.2.53")
        } else {
            ("2001:db8::5", "2001:db8::80")
        };
        records.push(Record::Transaction(sample_transaction(
            kind,
            i,
            hosts,
            i * 5,
            Some(name),
        )));
    }
    assert!(store.submit(records));
    store.flush(wirewatch_store::contract::FLUSH).unwrap();
    assert_eq!(store.last_error(), None);

    let (publisher, rx) = snapshot_channel();
    let control = Arc::new(TestControl::default());
    let state = WebState::new(rx, control.clone())
        .with_store(store.clone())
        .with_listen("127.0.0.1:8080")
        .with_version("9.9.9-test");
    Fixture {
        state,
        store,
        control,
        publisher,
        dir,
    }
}

/// A snapshot with `seq`, recent intervals up to it, one alert changed at it and a hostile
/// connection.
pub fn snapshot(seq: u64) -> Snapshot {
    let m = metrics();
    let first = seq
        .saturating_sub(wirewatch_web::MAX_RECENT_INTERVALS as u64 - 1)
        .max(1);
    Snapshot {
        seq,
        ts: 1_700_000_000.0 + seq as f64,
        interval_s: 1.0,
        status: CaptureStatus {
            running: true,
            source: "capturing on eth0 (filter: none)".into(),
            interface: Some("eth0".into()),
            filter: None,
            last_error: None,
        },
        recent: (first..=seq)
            .map(|s| IntervalPoint::from_metrics(s, &m[(s % INTERVALS) as usize], s % 2))
            .collect(),
        connections: vec![Connection {
            threat: None,
            proto: "tcp".into(),
            src_ip: "10.0.0.66".parse().unwrap(),
            src_port: 40000,
            dst_ip: "192.0.2.66".parse().unwrap(),
            dst_port: 443,
            app: Some(wirewatch_core::AppProto::Tls),
            app_source: Some(wirewatch_core::AppSource::Payload),
            server_name: Some(HOSTILE.into()),
            packets: 10,
            bytes: 1000,
            rate_bps: 8000.0,
            duration_s: 1.0,
            state: wirewatch_core::TcpState::Established,
            first_ts: 1.0,
            last_ts: 2.0,
        }],
        alerts: vec![AlertView {
            alert: sample_alert(seq, "spike", Severity::Medium, seq),
            status: AlertStatus::Opened,
            seq,
        }],
        ..Snapshot::default()
    }
}

/// A response, read whole.
pub struct Reply {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&self.body)))
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The `error` message of a JSON error body.
    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap().to_string()
    }
}

/// Sends `req` through the router.
pub async fn send(state: &WebState, req: Request<Body>) -> Reply {
    let response = wirewatch_web::app(state.clone())
        .oneshot(req)
        .await
        .unwrap();
    let status = response.status();
    let headers = response.headers().clone();
    let body = response
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// `GET uri`.
pub async fn get(state: &WebState, uri: &str) -> Reply {
    send(state, Request::get(uri).body(Body::empty()).unwrap()).await
}

/// `POST uri` with a JSON body and the `X-Wirewatch: 1` header.
pub async fn post(state: &WebState, uri: &str, body: &str) -> Reply {
    send(
        state,
        Request::post(uri)
            .header("x-wirewatch", "1")
            .header("content-type", "application/json")
            .body(Body::from(body.to_string()))
            .unwrap(),
    )
    .await
}
