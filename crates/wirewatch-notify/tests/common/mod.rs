//! Local receivers for the notification tests, all on 127.0.0.1 ephemeral ports: a small
//! HTTP server that records requests and answers from a script, and an SMTP sink. Each runs
//! on its own thread and stops when dropped. Also alert builders and a polling helper.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::collections::{BTreeMap, VecDeque};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use wirewatch_core::{Alert, Severity, Timestamp};

/// How long a test waits for something to arrive before failing.
pub const WAIT: Duration = Duration::from_secs(10);

/// Polls `cond` until it holds, failing the test after [`WAIT`].
#[track_caller]
pub fn wait_for(what: &str, cond: impl Fn() -> bool) {
    wirewatch_testkit::wait_until(WAIT, what, cond);
}

/// An alert with everything filled in.
pub fn alert(id: u64, severity: Severity, message: &str) -> Alert {
    Alert {
        id,
        kind: "syn_flood".to_string(),
        severity,
        confidence: 0.9,
        start_ts: Timestamp::from_secs_nanos(1_484_673_025, 976_000_000),
        last_ts: Timestamp::from_secs_nanos(1_484_673_085, 0),
        updates: 2,
        sources: vec!["192.0.2.1".parse().unwrap(), "192.0.2.2".parse().unwrap()],
        targets: vec!["10.0.0.5".parse().unwrap()],
        ports: vec![80, 443],
        message: message.to_string(),
        recommendation: "Enable SYN cookies.".to_string(),
        evidence: serde_json::json!({"syn_rate": 5000.0, "threshold": 200.0}),
    }
}

/// A port nobody listens on (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One recorded HTTP request.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    pub path: String,
    /// Header names in lower case.
    pub headers: BTreeMap<String, String>,
    pub body: String,
    /// The status it was answered with.
    pub status: u16,
}

impl Request {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap()
    }
}

/// A tiny HTTP/1.1 server: answers each request with the next status of its script (200
/// once the script is used up) and `Connection: close`, and records every request.
pub struct HttpServer {
    pub addr: SocketAddr,
    requests: Arc<Mutex<Vec<Request>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl HttpServer {
    pub fn start(script: &[u16]) -> HttpServer {
        Self::start_on(0, script)
    }

    pub fn start_on(port: u16, script: &[u16]) -> HttpServer {
        let listener = TcpListener::bind(("127.0.0.1", port)).unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let script: VecDeque<u16> = script.iter().copied().collect();
        let thread = {
            let requests = Arc::clone(&requests);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || serve_http(&listener, script, &requests, &stop))
        };
        HttpServer {
            addr,
            requests,
            stop,
            thread: Some(thread),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.requests.lock().unwrap().len()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn serve_http(
    listener: &TcpListener,
    mut script: VecDeque<u16>,
    requests: &Mutex<Vec<Request>>,
    stop: &AtomicBool,
) {
    while !stop.load(Ordering::Relaxed) {
        let stream = match listener.accept() {
            Ok((s, _)) => s,
            Err(_) => {
                // A non-blocking accept: nobody is connecting yet; look at `stop` again soon.
                std::thread::sleep(Duration::from_millis(5));
                continue;
            }
        };
        stream.set_nonblocking(false).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let Some(mut request) = read_request(&stream) else {
            continue;
        };
        let status = script.pop_front().unwrap_or(200);
        request.status = status;
        requests.lock().unwrap().push(request);
        let reason = if status == 200 { "OK" } else { "Scripted" };
        let body = format!("status {status}");
        let answer = format!(
            "HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        );
        let mut stream = stream;
        let _ = stream.write_all(answer.as_bytes());
        let _ = stream.flush();
    }
}

fn read_request(stream: &TcpStream) -> Option<Request> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let method = parts.next()?.to_string();
    let path = parts.next()?.to_string();
    let mut headers = BTreeMap::new();
    loop {
        let mut h = String::new();
        reader.read_line(&mut h).ok()?;
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        let (name, value) = h.split_once(':')?;
        headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0; len];
    reader.read_exact(&mut body).ok()?;
    Some(Request {
        method,
        path,
        headers,
        body: String::from_utf8(body).ok()?,
        status: 0,
    })
}

/// One message received by the SMTP sink.
#[derive(Debug, Clone, Default)]
pub struct Mail {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// The DATA, dot-stuffing undone, without the final `.` line.
    pub data: String,
}

impl Mail {
    /// The value of header `name` (unfolded), if present.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next()?;
        let mut value: Option<String> = None;
        let mut in_wanted = false;
        for line in head.split("\r\n") {
            if line.starts_with(' ') || line.starts_with('\t') {
                if in_wanted {
                    value.get_or_insert_with(String::new).push_str(line);
                }
                continue;
            }
            in_wanted = false;
            if let Some((n, v)) = line.split_once(':')
                && n.eq_ignore_ascii_case(name)
            {
                in_wanted = true;
                value = Some(v.trim().to_string());
            }
        }
        value
    }

    pub fn body(&self) -> String {
        self.data
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_string())
            .unwrap_or_default()
    }
}

/// A minimal SMTP server (no TLS, no AUTH): EHLO, MAIL FROM, RCPT TO, DATA, RSET, NOOP,
/// QUIT. The first `fail_first` MAIL FROM commands are refused (by default with a transient
/// 451).
pub struct SmtpSink {
    pub addr: SocketAddr,
    mails: Arc<Mutex<Vec<Mail>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl SmtpSink {
    pub fn start(fail_first: usize) -> SmtpSink {
        Self::start_refusing(fail_first, "451 4.3.0 try again later")
    }

    /// As [`start`](Self::start), refusing with `reply` (a whole SMTP reply line without CRLF).
    pub fn start_refusing(fail_first: usize, reply: &'static str) -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let addr = listener.local_addr().unwrap();
        let mails = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let mails = Arc::clone(&mails);
            let stop = Arc::clone(&stop);
            std::thread::spawn(move || {
                let mut failures_left = fail_first;
                while !stop.load(Ordering::Relaxed) {
                    match listener.accept() {
                        Ok((s, _)) => {
                            s.set_nonblocking(false).unwrap();
                            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
                            let _ = smtp_session(s, &mails, &mut failures_left, reply);
                        }
                        // A non-blocking accept: nobody is connecting yet; look at `stop`
                        // again soon.
                        Err(_) => std::thread::sleep(Duration::from_millis(5)),
                    }
                }
            })
        };
        SmtpSink {
            addr,
            mails,
            stop,
            thread: Some(thread),
        }
    }

    pub fn mails(&self) -> Vec<Mail> {
        self.mails.lock().unwrap().clone()
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn smtp_session(
    stream: TcpStream,
    mails: &Mutex<Vec<Mail>>,
    failures_left: &mut usize,
    refusal: &str,
) -> std::io::Result<()> {
    let mut out = stream.try_clone()?;
    let mut reader = BufReader::new(stream);
    out.write_all(b"220 sink.test ESMTP test sink\r\n")?;
    let mut mail = Mail::default();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_string();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        match verb.as_str() {
            "EHLO" | "HELO" => out.write_all(b"250-sink.test\r\n250 8BITMIME\r\n")?,
            "MAIL" => {
                if *failures_left > 0 {
                    *failures_left -= 1;
                    out.write_all(format!("{refusal}\r\n").as_bytes())?;
                } else {
                    mail = Mail {
                        mail_from: command[10..].trim().to_string(),
                        ..Mail::default()
                    };
                    out.write_all(b"250 2.1.0 ok\r\n")?;
                }
            }
            "RCPT" => {
                mail.rcpt_to.push(command[8..].trim().to_string());
                out.write_all(b"250 2.1.5 ok\r\n")?;
            }
            "DATA" => {
                out.write_all(b"354 end with <CRLF>.<CRLF>\r\n")?;
                let mut data = String::new();
                loop {
                    let mut l = String::new();
                    if reader.read_line(&mut l)? == 0 {
                        return Ok(());
                    }
                    if l == ".\r\n" {
                        break;
                    }
                    let l = l.strip_prefix('.').unwrap_or(&l);
                    data.push_str(l);
                }
                mail.data = data;
                mails.lock().unwrap().push(std::mem::take(&mut mail));
                out.write_all(b"250 2.0.0 queued\r\n")?;
            }
            "RSET" | "NOOP" => out.write_all(b"250 2.0.0 ok\r\n")?,
            "QUIT" => {
                out.write_all(b"221 2.0.0 bye\r\n")?;
                return Ok(());
            }
            _ => out.write_all(b"502 5.5.2 not implemented\r\n")?,
        }
    }
}
