//! A fake AbuseIPDB API v2 `check` endpoint on 127.0.0.1, faithful to the documented
//! protocol, for tests: the `Key` and `Accept: application/json` headers, the `ipAddress`,
//! `maxAgeInDays` and `verbose` parameters, the `{"data": {...}}` answer, 401 for a bad key,
//! 422 for an invalid or non-public address, `X-RateLimit-Limit`/`X-RateLimit-Remaining` on
//! every answer, and 429 with `Retry-After` and `X-RateLimit-Reset` once its quota for the
//! current window is used up. Error bodies use AbuseIPDB's
//! `{"errors":[{"detail": ..., "status": ...}]}` shape. Every request is recorded, so tests
//! can count requests per address.
//!
//! It must not reach anything but the loopback interface, and it stops with the test (its
//! threads end when the handle is dropped or a connection idles).

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// How long a connection may idle before the server closes it.
const IDLE: Duration = Duration::from_secs(2);
/// Largest request head accepted.
const MAX_HEAD: usize = 16 * 1024;

/// What the fake server knows about one address.
#[derive(Debug, Clone)]
pub struct Record {
    pub score: u8,
    pub country_code: Option<&'static str>,
    pub country_name: Option<&'static str>,
    pub usage_type: Option<&'static str>,
    pub isp: &'static str,
    pub domain: Option<&'static str>,
    pub hostnames: Vec<&'static str>,
    pub is_tor: bool,
    pub is_whitelisted: Option<bool>,
    pub total_reports: u64,
    pub distinct_users: u64,
    pub last_reported_at: Option<&'static str>,
}

impl Record {
    /// An address with `score` and plausible details.
    pub fn scored(score: u8) -> Record {
        Record {
            score,
            country_code: Some("NL"),
            country_name: Some("Netherlands"),
            usage_type: Some("Data Center/Web Hosting/Transit"),
            isp: "Example Hosting B.V.",
            domain: Some("example-hosting.invalid"),
            hostnames: vec![],
            is_tor: false,
            is_whitelisted: Some(false),
            total_reports: u64::from(score) * 3,
            distinct_users: u64::from(score),
            last_reported_at: (score > 0).then_some("2024-01-01T12:34:56+00:00"),
        }
    }
}

/// The fake server's settings.
#[derive(Debug, Clone)]
pub struct FakeConfig {
    /// The valid API key.
    pub key: String,
    /// Successful `check`s allowed per window (`None`: unlimited, reported as 1000).
    pub quota: Option<u32>,
    /// The quota window (AbuseIPDB's is a day; tests use seconds).
    pub window: Duration,
    /// Delay before each answer (a slow server).
    pub delay: Duration,
    /// Public addresses answered with 422 anyway.
    pub reject: HashSet<IpAddr>,
    /// Send the `X-RateLimit-*` headers (AbuseIPDB always does; off tests a server that
    /// does not, where the client's configured daily quota must hold).
    pub rate_headers: bool,
}

impl Default for FakeConfig {
    fn default() -> Self {
        FakeConfig {
            key: "test-key-0123456789".to_string(),
            quota: None,
            window: Duration::from_secs(86_400),
            delay: Duration::ZERO,
            reject: HashSet::new(),
            rate_headers: true,
        }
    }
}

/// One request as the server saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub path: String,
    pub params: HashMap<String, Option<String>>,
    pub key: Option<String>,
    pub accept: Option<String>,
    pub status: u16,
}

impl Seen {
    pub fn ip(&self) -> Option<&str> {
        self.params.get("ipAddress").and_then(|v| v.as_deref())
    }
}

struct Window {
    start: Instant,
    used: u32,
}

struct State {
    config: FakeConfig,
    records: Mutex<HashMap<IpAddr, Record>>,
    seen: Mutex<Vec<Seen>>,
    window: Mutex<Window>,
}

/// A running fake server; dropping it stops it.
pub struct FakeAbuseIpdb {
    addr: SocketAddr,
    state: Arc<State>,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl FakeAbuseIpdb {
    pub fn start(config: FakeConfig) -> FakeAbuseIpdb {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let state = Arc::new(State {
            config,
            records: Mutex::new(HashMap::new()),
            seen: Mutex::new(Vec::new()),
            window: Mutex::new(Window {
                start: Instant::now(),
                used: 0,
            }),
        });
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (Arc::clone(&state), Arc::clone(&stop));
        let accept = std::thread::spawn(move || {
            for conn in listener.incoming() {
                if sp.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let st = Arc::clone(&st);
                std::thread::spawn(move || serve(conn, &st));
            }
        });
        FakeAbuseIpdb {
            addr,
            state,
            stop,
            accept: Some(accept),
        }
    }

    /// The API base address (`…/api/v2`).
    pub fn base_url(&self) -> String {
        format!("http://{}/api/v2", self.addr)
    }

    pub fn key(&self) -> &str {
        &self.state.config.key
    }

    pub fn set(&self, ip: &str, record: Record) {
        self.state
            .records
            .lock()
            .unwrap()
            .insert(ip.parse().unwrap(), record);
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.state.seen.lock().unwrap().clone()
    }

    /// Requests so far.
    pub fn total(&self) -> usize {
        self.state.seen.lock().unwrap().len()
    }

    /// Requests (any answer) naming `ip` (compared as addresses, any spelling).
    pub fn requests_for(&self, ip: &str) -> usize {
        let want: IpAddr = ip.parse().unwrap();
        self.state
            .seen
            .lock()
            .unwrap()
            .iter()
            .filter(|s| s.ip().and_then(|t| t.parse::<IpAddr>().ok()) == Some(want))
            .count()
    }
}

impl Drop for FakeAbuseIpdb {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect(self.addr);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

/// Serves requests on one connection (keep-alive) until the client closes or idles.
fn serve(mut conn: TcpStream, state: &State) {
    conn.set_read_timeout(Some(IDLE)).unwrap();
    let mut buf: Vec<u8> = Vec::new();
    loop {
        // Read one request head (GET: no body).
        let end = loop {
            if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
            if buf.len() > MAX_HEAD {
                return;
            }
            let mut chunk = [0u8; 4096];
            match conn.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head: Vec<u8> = buf.drain(..end).collect();
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut req = httparse::Request::new(&mut headers);
        if !matches!(req.parse(&head), Ok(httparse::Status::Complete(_))) {
            return;
        }
        let method = req.method.unwrap_or("").to_string();
        let target = req.path.unwrap_or("").to_string();
        let header = |name: &str| {
            req.headers
                .iter()
                .find(|h| h.name.eq_ignore_ascii_case(name))
                .map(|h| String::from_utf8_lossy(h.value).into_owned())
        };
        let (key, accept) = (header("Key"), header("Accept"));
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let params = parse_query(query);
        if !state.config.delay.is_zero() {
            // Deliberate: a slow server, the thing the test using `delay` is about.
            std::thread::sleep(state.config.delay);
        }
        let (status, mut extra, body) = answer(state, &method, path, &params, &key, &accept);
        if !state.config.rate_headers {
            extra.retain(|(k, _)| !k.starts_with("X-RateLimit"));
        }
        state.seen.lock().unwrap().push(Seen {
            method,
            path: path.to_string(),
            params,
            key,
            accept,
            status,
        });
        let reason = match status {
            200 => "OK",
            401 => "Unauthorized",
            404 => "Not Found",
            405 => "Method Not Allowed",
            406 => "Not Acceptable",
            422 => "Unprocessable Entity",
            429 => "Too Many Requests",
            _ => "Error",
        };
        let mut out = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (k, v) in extra {
            out.push_str(&format!("{k}: {v}\r\n"));
        }
        out.push_str("\r\n");
        out.push_str(&body);
        if conn.write_all(out.as_bytes()).is_err() {
            return;
        }
    }
}

fn parse_query(query: &str) -> HashMap<String, Option<String>> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (percent_decode(k), Some(percent_decode(v))),
            None => (percent_decode(p), None),
        })
        .collect()
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let Some(v) = std::str::from_utf8(&bytes[i + 1..i + 3])
                .ok()
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(v);
            i += 3;
        } else {
            out.push(if bytes[i] == b'+' { b' ' } else { bytes[i] });
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn error_body(status: u16, detail: &str) -> String {
    serde_json::json!({"errors": [{"detail": detail, "status": status}]}).to_string()
}

/// Public by the server's own (independent, std-based) rules.
fn server_thinks_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || v4.is_unspecified()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || v6.to_ipv4_mapped().is_some())
        }
    }
}

type Answer = (u16, Vec<(&'static str, String)>, String);

fn answer(
    state: &State,
    method: &str,
    path: &str,
    params: &HashMap<String, Option<String>>,
    key: &Option<String>,
    accept: &Option<String>,
) -> Answer {
    let cfg = &state.config;
    let limit = cfg.quota.unwrap_or(1000);
    let mut window = state.window.lock().unwrap();
    if window.start.elapsed() >= cfg.window {
        window.start = Instant::now();
        window.used = 0;
    }
    let remaining = limit.saturating_sub(window.used);
    let mut headers = vec![
        ("X-RateLimit-Limit", limit.to_string()),
        ("X-RateLimit-Remaining", remaining.to_string()),
    ];
    if path != "/api/v2/check" {
        return (404, headers, error_body(404, "Not Found"));
    }
    if method != "GET" {
        return (405, headers, error_body(405, "Method Not Allowed"));
    }
    if key.as_deref() != Some(cfg.key.as_str()) {
        return (
            401,
            headers,
            error_body(
                401,
                "Authentication failed. Your API key is either missing, incorrect, or revoked. \
                 Note: The APIv2 key differs from the APIv1 key.",
            ),
        );
    }
    if !accept
        .as_deref()
        .is_some_and(|a| a.contains("application/json"))
    {
        return (
            406,
            headers,
            error_body(406, "Send the header Accept: application/json."),
        );
    }
    if cfg.quota.is_some() && remaining == 0 {
        let left = cfg.window.saturating_sub(window.start.elapsed());
        let retry = left.as_secs() + u64::from(left.subsec_nanos() > 0);
        let reset = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs()
            + retry;
        headers.push(("Retry-After", retry.to_string()));
        headers.push(("X-RateLimit-Reset", reset.to_string()));
        return (
            429,
            headers,
            error_body(
                429,
                &format!(
                    "Daily rate limit of {limit} requests exceeded for this endpoint. See \
                     headers for additional details."
                ),
            ),
        );
    }
    let ip = params
        .get("ipAddress")
        .and_then(|v| v.as_deref())
        .and_then(|t| t.parse::<IpAddr>().ok());
    let Some(ip) = ip else {
        return (
            422,
            headers,
            error_body(
                422,
                "The ip address must be a valid IPv4 or IPv6 address (e.g. 8.8.8.8 or \
                 2001:4860:4860::8888).",
            ),
        );
    };
    if !server_thinks_public(ip) || cfg.reject.contains(&ip) {
        return (
            422,
            headers,
            error_body(
                422,
                &format!("The ip address {ip} is not a public address and cannot be checked."),
            ),
        );
    }
    let max_age = match params.get("maxAgeInDays") {
        None => 30,
        Some(v) => match v.as_deref().and_then(|v| v.parse::<u32>().ok()) {
            Some(d) if (1..=365).contains(&d) => d,
            _ => {
                return (
                    422,
                    headers,
                    error_body(422, "The max age in days must be between 1 and 365."),
                );
            }
        },
    };
    let _ = max_age;
    let verbose = params.contains_key("verbose");
    window.used += 1;
    let remaining = limit.saturating_sub(window.used);
    headers[1].1 = remaining.to_string();
    let rec = state
        .records
        .lock()
        .unwrap()
        .get(&ip)
        .cloned()
        .unwrap_or_else(|| Record {
            country_code: None,
            country_name: None,
            usage_type: None,
            domain: None,
            is_whitelisted: None,
            ..Record::scored(0)
        });
    let mut data = serde_json::json!({
        "ipAddress": ip.to_string(),
        "isPublic": true,
        "ipVersion": if ip.is_ipv4() { 4 } else { 6 },
        "isWhitelisted": rec.is_whitelisted,
        "abuseConfidenceScore": rec.score,
        "countryCode": rec.country_code,
        "usageType": rec.usage_type,
        "isp": rec.isp,
        "domain": rec.domain,
        "hostnames": rec.hostnames,
        "isTor": rec.is_tor,
        "totalReports": rec.total_reports,
        "numDistinctUsers": rec.distinct_users,
        "lastReportedAt": rec.last_reported_at,
    });
    if verbose {
        data["countryName"] = serde_json::json!(rec.country_name);
        let reports: Vec<serde_json::Value> = (0..rec.total_reports.min(5))
            .map(|i| {
                serde_json::json!({
                    "reportedAt": "2024-01-01T12:34:56+00:00",
                    "comment": format!("report {i}"),
                    "categories": [18, 22],
                    "reporterId": i,
                    "reporterCountryCode": "US",
                    "reporterCountryName": "United States of America"
                })
            })
            .collect();
        data["reports"] = serde_json::json!(reports);
    }
    (
        200,
        headers,
        serde_json::json!({ "data": data }).to_string(),
    )
}
