//! The syslog channel: RFC 5424 messages over UDP (one datagram each, RFC 5426) or TCP (one
//! kept-open connection, octet-counting framing `LEN SP MSG` of RFC 6587 §3.4.1).
//!
//! A message is `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [SD] MSG`: PRI is
//! facility × 8 + the syslog severity of the alert (critical → 2 crit, high → 3 err,
//! medium → 4 warning, low → 5 notice); TIMESTAMP is the wall clock when the message is
//! made (the alert's own packet time is the `start` parameter); MSGID is the alert kind; the
//! structured data is `[wirewatch@32473 kind="…" severity="…" id="…" src="…" dst="…"
//! start="…"]` with `"`, `\` and `]` escaped as RFC 5424 §6.3.3 requires; MSG is the alert's
//! message with control characters replaced by spaces. Fields and the whole message are cut
//! to the bounds below, never split inside a character or an escape.

use crate::channel::{Channel, ChannelKind};
use crate::config::{MAX_HOSTNAME, SyslogConfig, SyslogTransport};
use crate::error::{DeliveryError, NotifyError};
use crate::template::join;
use crate::timefmt::{now, rfc3339_millis};
use std::io::{self, Write as _};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::time::Duration;
use wirewatch_core::{Alert, Severity};

/// The SD-ID: a name `@` an enterprise number. 32473 is the number RFC 5612 reserves for
/// documentation and examples; a site with its own number can filter on the name part.
pub const SD_ID: &str = "wirewatch@32473";
/// Largest UDP message: RFC 5426 §3.2 says receivers should accept 2048 octets, and larger
/// datagrams risk IP fragmentation.
pub const MAX_UDP_BYTES: usize = 2048;
/// Largest TCP message: the framing has no limit, but receivers commonly cap a message at
/// 8 KiB, and one alert's line needs far less.
pub const MAX_TCP_BYTES: usize = 8192;
/// Longest structured-data value in bytes after escaping: a few addresses; the full lists
/// are in the store. Six such values and the longest header still leave room for MSG in a
/// UDP message.
pub const MAX_SD_VALUE_BYTES: usize = 128;
/// RFC 5424 §6.2.7: MSGID is at most 32 printable ASCII characters.
pub const MAX_MSGID: usize = 32;

/// The syslog severity (RFC 5424 §6.2.1 table 2) of an alert severity.
pub fn syslog_severity(s: Severity) -> u8 {
    match s {
        Severity::Critical => 2,
        Severity::High => 3,
        Severity::Medium => 4,
        Severity::Low => 5,
    }
}

/// The header fields that do not change between messages.
#[derive(Debug, Clone)]
pub(crate) struct Fields {
    facility: u8,
    hostname: String,
    app_name: String,
    procid: String,
}

impl Fields {
    /// The fields of `config`, the host name read from the system when not configured.
    pub(crate) fn new(config: &SyslogConfig) -> Self {
        Fields {
            facility: config.facility.code(),
            hostname: config.hostname.clone().unwrap_or_else(system_hostname),
            app_name: config.app_name.clone(),
            procid: std::process::id().to_string(),
        }
    }
}

/// This machine's host name as an RFC 5424 HOSTNAME, or `-` (the NILVALUE) when unknown.
fn system_hostname() -> String {
    ["/proc/sys/kernel/hostname", "/etc/hostname"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .map(|s| print_ascii(s.trim(), MAX_HOSTNAME))
        .find(|s| s != "-")
        .unwrap_or_else(|| "-".to_string())
}

/// `s` cut to `max` printable ASCII characters (others dropped), or `-` when nothing is left.
fn print_ascii(s: &str, max: usize) -> String {
    let out: String = s
        .chars()
        .filter(|c| c.is_ascii_graphic())
        .take(max)
        .collect();
    if out.is_empty() { "-".to_string() } else { out }
}

/// Appends `value` as an SD PARAM-VALUE: `"`, `\` and `]` escaped with a backslash, control
/// characters replaced by spaces, at most [`MAX_SD_VALUE_BYTES`] bytes.
fn push_sd_value(out: &mut String, value: &str) {
    let mut used = 0;
    let mut buf = [0u8; 4];
    for c in value.chars() {
        let piece: &str = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            ']' => "\\]",
            c if c.is_control() => " ",
            c => c.encode_utf8(&mut buf),
        };
        if used + piece.len() > MAX_SD_VALUE_BYTES {
            break;
        }
        used += piece.len();
        out.push_str(piece);
    }
}

/// One RFC 5424 message for `alert` (without transport framing), at most `max` bytes,
/// stamped `time` (RFC 3339).
pub(crate) fn format_message(alert: &Alert, fields: &Fields, time: &str, max: usize) -> String {
    let pri = u16::from(fields.facility) * 8 + u16::from(syslog_severity(alert.severity));
    let mut out = format!(
        "<{pri}>1 {time} {} {} {} {} [{SD_ID}",
        fields.hostname,
        fields.app_name,
        fields.procid,
        print_ascii(&alert.kind, MAX_MSGID)
    );
    let params = [
        ("kind", alert.kind.clone()),
        ("severity", alert.severity.name().to_string()),
        ("id", alert.id.to_string()),
        ("src", join(&alert.sources)),
        ("dst", join(&alert.targets)),
        ("start", rfc3339_millis(alert.start_ts)),
    ];
    for (name, value) in params {
        out.push(' ');
        out.push_str(name);
        out.push_str("=\"");
        push_sd_value(&mut out, &value);
        out.push('"');
    }
    out.push_str("] ");
    for c in alert.message.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > max {
            break;
        }
        out.push(c);
    }
    out
}

/// Sends RFC 5424 messages to one receiver.
pub(crate) struct Syslog {
    address: String,
    transport: SyslogTransport,
    timeout: Duration,
    fields: Fields,
    stream: Option<TcpStream>,
}

impl Syslog {
    /// A channel for `config` (validated first). Nothing is connected until the first message.
    pub(crate) fn new(config: &SyslogConfig) -> Result<Self, NotifyError> {
        config.validate()?;
        Ok(Syslog {
            address: config.address.trim().to_string(),
            transport: config.transport,
            timeout: Duration::from_millis(config.timeout_ms),
            fields: Fields::new(config),
            stream: None,
        })
    }

    fn error(&self, message: impl Into<String>) -> DeliveryError {
        DeliveryError::Syslog {
            address: self.address.clone(),
            transport: self.transport.name(),
            message: message.into(),
        }
    }

    /// The receiver's addresses (resolved on each connection, so a changed name is followed).
    fn resolve(&self) -> Result<Vec<SocketAddr>, DeliveryError> {
        let addrs: Vec<SocketAddr> = self
            .address
            .to_socket_addrs()
            .map_err(|e| self.error(format!("cannot resolve the address: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(self.error("the address resolves to nothing"));
        }
        Ok(addrs)
    }

    fn send_udp(&self, message: &str) -> Result<(), DeliveryError> {
        let mut last = None;
        for addr in self.resolve()? {
            let local: SocketAddr = if addr.is_ipv4() {
                ([0, 0, 0, 0], 0).into()
            } else {
                ([0u16; 8], 0).into()
            };
            let sent = UdpSocket::bind(local).and_then(|s| s.send_to(message.as_bytes(), addr));
            match sent {
                Ok(_) => return Ok(()),
                Err(e) => last = Some(e),
            }
        }
        Err(self.error(last.map_or_else(|| "no address".to_string(), |e| e.to_string())))
    }

    /// The open connection, checked for a peer that has closed it, or a new one.
    fn connection(&mut self) -> Result<&mut TcpStream, DeliveryError> {
        if let Some(s) = self.stream.take()
            && peer_still_open(&s)
        {
            return Ok(self.stream.insert(s));
        }
        let mut last = None;
        for addr in self.resolve()? {
            match TcpStream::connect_timeout(&addr, self.timeout) {
                Ok(s) => {
                    s.set_write_timeout(Some(self.timeout))
                        .map_err(|e| self.error(e.to_string()))?;
                    let _ = s.set_nodelay(true);
                    return Ok(self.stream.insert(s));
                }
                Err(e) => last = Some(e),
            }
        }
        Err(self.error(last.map_or_else(
            || "no address".to_string(),
            |e| format!("cannot connect: {e}"),
        )))
    }

    fn send_tcp(&mut self, message: &str) -> Result<(), DeliveryError> {
        let frame = format!("{} {message}", message.len());
        let written = self.connection()?.write_all(frame.as_bytes());
        if let Err(e) = written {
            // The next attempt connects afresh.
            self.stream = None;
            return Err(self.error(format!("cannot write: {e}")));
        }
        Ok(())
    }
}

/// Whether the peer of `s` has not closed the connection: a write to a closed connection
/// can still succeed once and lose the message, so a kept-open connection is checked with a
/// non-blocking peek first (end of stream or an error: closed).
fn peer_still_open(s: &TcpStream) -> bool {
    if s.set_nonblocking(true).is_err() {
        return false;
    }
    let mut byte = [0u8; 1];
    let open = match s.peek(&mut byte) {
        Ok(0) => false,
        // The receiver sent something (syslog receivers do not); the connection is alive.
        Ok(_) => true,
        Err(e) => e.kind() == io::ErrorKind::WouldBlock,
    };
    open && s.set_nonblocking(false).is_ok()
}

impl Channel for Syslog {
    fn kind(&self) -> ChannelKind {
        ChannelKind::Syslog
    }

    fn send(&mut self, alert: &Alert) -> Result<(), DeliveryError> {
        let time = rfc3339_millis(now());
        match self.transport {
            SyslogTransport::Udp => {
                let message = format_message(alert, &self.fields, &time, MAX_UDP_BYTES);
                self.send_udp(&message)
            }
            SyslogTransport::Tcp => {
                let message = format_message(alert, &self.fields, &time, MAX_TCP_BYTES);
                self.send_tcp(&message)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::Timestamp;

    fn alert(message: &str) -> Alert {
        Alert {
            id: 7,
            kind: "port_scan".to_string(),
            severity: Severity::High,
            confidence: 0.9,
            start_ts: Timestamp::from_secs_nanos(1_484_673_025, 0),
            last_ts: Timestamp::from_secs_nanos(1_484_673_030, 0),
            updates: 0,
            sources: vec!["192.0.2.1".parse().unwrap()],
            targets: vec![
                "198.51.100.2".parse().unwrap(),
                "2001:db8::1".parse().unwrap(),
            ],
            ports: vec![22],
            message: message.to_string(),
            recommendation: String::new(),
            evidence: serde_json::Value::Null,
        }
    }

    fn fields() -> Fields {
        Fields {
            facility: 16,
            hostname: "sensor-1".to_string(),
            app_name: "wirewatch".to_string(),
            procid: "42".to_string(),
        }
    }

    #[test]
    fn formats_an_rfc5424_line() {
        let m = format_message(
            &alert("scan of 100 ports\nnext line"),
            &fields(),
            "2017-01-17T17:10:25.000Z",
            MAX_UDP_BYTES,
        );
        assert_eq!(
            m,
            "<131>1 2017-01-17T17:10:25.000Z sensor-1 wirewatch 42 port_scan \
             [wirewatch@32473 kind=\"port_scan\" severity=\"high\" id=\"7\" src=\"192.0.2.1\" \
             dst=\"198.51.100.2, 2001:db8::1\" start=\"2017-01-17T17:10:25.000Z\"] \
             scan of 100 ports next line"
        );
    }

    #[test]
    fn escapes_and_bounds_sd_values() {
        let mut s = String::new();
        push_sd_value(&mut s, "a\"b\\c]d\ne");
        assert_eq!(s, "a\\\"b\\\\c\\]d e");
        let mut s = String::new();
        push_sd_value(&mut s, &"\"".repeat(200));
        assert_eq!(s.len(), MAX_SD_VALUE_BYTES);
        assert!(s.ends_with("\\\""));
    }

    #[test]
    fn message_is_cut_to_the_bound_on_a_char_boundary() {
        let m = format_message(&alert(&"é".repeat(3000)), &fields(), "-", MAX_UDP_BYTES);
        assert!(m.len() <= MAX_UDP_BYTES && m.len() > MAX_UDP_BYTES - 2);
    }

    #[test]
    fn severity_mapping() {
        assert_eq!(syslog_severity(Severity::Critical), 2);
        assert_eq!(syslog_severity(Severity::Low), 5);
        assert_eq!(print_ascii("a b\u{1}é", 10), "ab");
        assert_eq!(print_ascii(" ", 10), "-");
    }
}
