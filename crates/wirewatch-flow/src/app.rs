//! Application classification of a flow from its first payloads.
//!
//! Owns the per-flow application state: the label (port guess until a payload confirms a
//! protocol), the names found (TLS/QUIC SNI, HTTP host, DNS queries) and the QUIC handshake
//! reassembly. Only the first [`MAX_INSPECTED_PAYLOADS`] payload-carrying packets of a flow are
//! looked at, which keeps the cost per packet small on bulk transfers; DNS packets are the
//! exception (each is decoded, because every answer feeds the passive host-name cache and the
//! DNS detectors). It calls the decode crate's pure parsers and does no I/O.

use crate::hostnames::HostNames;
use crate::transactions::{FlowTransactions, Outbox};
use wirewatch_core::app::{HttpSummary, SshSummary, TlsSummary};
use wirewatch_core::{AppDetails, AppLabel, AppProto, AppSource, NameSource};
use wirewatch_core::{HttpTransaction, TlsTransaction};
use wirewatch_decode::app::dns::{self, DnsMessage, RData};
use wirewatch_decode::app::{http, quic, ssh, tls};

/// Payload-carrying packets inspected per flow (both directions together). A TLS or QUIC
/// handshake, an HTTP request/response pair and both SSH banners all show up within the first
/// few; eight leaves room for retransmissions and split hellos.
pub const MAX_INSPECTED_PAYLOADS: u8 = 8;

/// Application state of one live flow (32 bytes inline; details are allocated only once a
/// flow yields something worth keeping).
#[derive(Debug, Clone, Default)]
pub(crate) struct AppState {
    /// The current label.
    pub label: AppLabel,
    /// Payload packets inspected so far.
    inspected: u8,
    /// Nothing more to learn: stop inspecting.
    done: bool,
    /// Names and details found.
    pub details: Option<Box<AppDetails>>,
    /// QUIC client Initial reassembly (only for flows that start like QUIC).
    quic: Option<Box<quic::ClientInitials>>,
    /// Transactions waiting for their other half (allocated at the first transaction).
    tx: Option<Box<FlowTransactions>>,
    /// A TLS ClientHello longer than its first segment, being gathered.
    split_hello: Option<Box<SplitHello>>,
}

/// A TLS ClientHello record split over TCP segments (a post-quantum key share makes a hello
/// longer than one segment, and browsers shuffle their extensions, so the server name is as
/// often in the second segment as in the first): the client's segments are gathered in
/// sequence order until the record is whole, then parsed once. A gap, a reply from the
/// server or the end of the flow parses what arrived.
#[derive(Debug, Clone)]
struct SplitHello {
    /// The record's bytes so far.
    bytes: Vec<u8>,
    /// The record's length (header included; at most a legal record, 18 KiB).
    need: usize,
    /// The sequence number the next segment must carry.
    next_seq: u32,
}

/// One payload to look at.
pub(crate) struct Payload<'a> {
    /// IP protocol number.
    pub ip_proto: u8,
    /// Source and destination ports of this packet.
    pub ports: (u16, u16),
    /// Whether the packet travels from the initiator to the responder.
    pub forward: bool,
    /// The captured transport payload.
    pub bytes: &'a [u8],
    /// TCP: the segment's sequence number.
    pub tcp_seq: Option<u32>,
}

/// Ports whose payloads are decoded as DNS, with the protocol they name.
fn dns_port(p: u16) -> Option<AppProto> {
    match p {
        53 => Some(AppProto::Dns),
        5353 => Some(AppProto::Mdns),
        5355 => Some(AppProto::Llmnr),
        _ => None,
    }
}

/// Protocols carried inside TLS on their own port: TLS on such a port keeps the port's name,
/// now confirmed by the payload.
fn tls_wrapped(p: AppProto) -> bool {
    matches!(
        p,
        AppProto::Imaps | AppProto::Pop3s | AppProto::Smtps | AppProto::Ldaps | AppProto::Mqtt
    )
}

impl AppState {
    /// A new flow's state: its port guess.
    pub(crate) fn new(ip_proto: u8, initiator_port: u16, responder_port: u16) -> AppState {
        AppState {
            label: AppLabel::from_ports(ip_proto, initiator_port, responder_port),
            ..AppState::default()
        }
    }

    /// Whether the next payload of this flow should be looked at.
    #[inline]
    pub(crate) fn wants(&self, ports: (u16, u16)) -> bool {
        (!self.done && self.inspected < MAX_INSPECTED_PAYLOADS)
            || self.split_hello.is_some()
            || self.http_confirmed()
            || dns_port(ports.0).is_some()
            || dns_port(ports.1).is_some()
    }

    /// A payload showed HTTP: every later request and response is a transaction to log.
    fn http_confirmed(&self) -> bool {
        self.label.proto == AppProto::Http && self.label.source == AppSource::Payload
    }

    fn transactions(&mut self) -> &mut FlowTransactions {
        self.tx.get_or_insert_with(Box::default)
    }

    /// The flow ended: its transactions still waiting are logged as they are (a hello still
    /// being gathered is parsed as far as it arrived).
    pub(crate) fn flush_transactions(&mut self, out: &mut Outbox<'_>) {
        self.finish_split_hello(out);
        if let Some(t) = &mut self.tx {
            t.flush(out);
        }
    }

    fn details(&mut self) -> &mut AppDetails {
        self.details.get_or_insert_with(Box::default)
    }

    fn confirm(&mut self, proto: AppProto) {
        if self.label.source != AppSource::Payload {
            self.label = AppLabel::payload(proto);
        }
    }

    /// Looks at one payload. A DNS message found is returned (for the detectors); its answers
    /// are learned into `names`.
    pub(crate) fn inspect(
        &mut self,
        p: &Payload<'_>,
        names: &mut HostNames,
        out: &mut Outbox<'_>,
    ) -> Option<DnsMessage> {
        if p.bytes.is_empty() {
            return None;
        }
        if let Some(proto) = dns_port(p.ports.1).or_else(|| dns_port(p.ports.0)) {
            let msg = match p.ip_proto {
                6 => dns::parse_tcp(p.bytes),
                17 => dns::parse_udp(p.bytes),
                _ => None,
            };
            if let Some(msg) = msg {
                self.on_dns(proto, &msg, names);
                self.transactions().dns(&msg, out);
                return Some(msg);
            }
        }
        if (self.done || self.inspected >= MAX_INSPECTED_PAYLOADS) && self.split_hello.is_none() {
            if self.http_confirmed() && p.ip_proto == 6 {
                self.inspect_http(p, out);
            }
            return None;
        }
        self.inspected += 1;
        match p.ip_proto {
            6 => self.inspect_tcp(p, out),
            17 => self.inspect_udp(p, out),
            _ => {}
        }
        None
    }

    fn on_dns(&mut self, proto: AppProto, msg: &DnsMessage, names: &mut HostNames) {
        self.confirm(proto);
        // A name cut by the capture is not the name that was asked: keep only whole ones.
        let question = msg
            .questions
            .first()
            .filter(|q| !q.name.truncated)
            .map(|q| q.name.to_string_lossy());
        let d = self.details();
        for q in msg.questions.iter().filter(|q| !q.name.truncated) {
            d.add_dns_query(&q.name.to_string_lossy());
        }
        if let Some(q) = &question {
            d.offer_server_name(q.to_string(), NameSource::DnsQuery);
        }
        if !msg.response {
            return;
        }
        d.add_dns_rcode(dns::rcode_name(msg.rcode));
        for a in &msg.answers {
            let ip = match a.data {
                RData::A(v4) => std::net::IpAddr::V4(v4),
                RData::Aaaa(v6) => std::net::IpAddr::V6(v6),
                _ => continue,
            };
            // The name asked for is what the user typed; CNAME owners are CDN internals.
            match &question {
                Some(q) => names.learn(ip, q),
                None if !a.name.truncated && msg.questions.is_empty() => {
                    names.learn(ip, &a.name.to_string_lossy());
                }
                None => {}
            }
        }
    }

    fn inspect_tcp(&mut self, p: &Payload<'_>, out: &mut Outbox<'_>) {
        if self.split_hello.is_some() {
            if p.forward && self.gather_hello(p, out) {
                return;
            }
            // The server answers only a whole hello: parse what arrived.
            self.finish_split_hello(out);
        }
        if let Some(ch) = tls::parse_client_hello(p.bytes) {
            if let (false, true, Some(seq), Some(need)) = (
                ch.complete,
                p.forward,
                p.tcp_seq,
                tls::client_hello_record_len(p.bytes),
            ) && need > p.bytes.len()
            {
                let mut bytes = Vec::with_capacity(need);
                bytes.extend_from_slice(p.bytes);
                self.split_hello = Some(Box::new(SplitHello {
                    bytes,
                    need,
                    next_seq: seq.wrapping_add(len32(p.bytes)),
                }));
                return;
            }
            self.on_client_hello(&ch, NameSource::TlsSni, AppProto::Tls, out);
        } else if let Some(sh) = tls::parse_server_hello(p.bytes) {
            self.confirm_tls();
            let t = self.details().tls.get_or_insert_with(TlsSummary::default);
            t.version = Some(tls_version_name(sh.version));
            t.cipher = Some(sh.cipher);
            self.done = true;
            self.transactions()
                .tls_server_hello(tls_version_name(sh.version), sh.cipher, out);
        } else if !self.inspect_http(p, out)
            && let Some(b) = ssh::parse_banner(p.bytes)
        {
            self.confirm(AppProto::Ssh);
            let s = self.details().ssh.get_or_insert_with(SshSummary::default);
            let side = if p.forward {
                &mut s.client
            } else {
                &mut s.server
            };
            side.get_or_insert(b.software);
            self.done = s.client.is_some() && s.server.is_some();
        }
    }

    /// Adds a client segment to the hello being gathered; parses it once whole. Returns false
    /// when the segment does not continue it (a gap, a segment out of order): the caller then
    /// parses what arrived. A retransmission of bytes already held is skipped.
    fn gather_hello(&mut self, p: &Payload<'_>, out: &mut Outbox<'_>) -> bool {
        let (Some(split), Some(seq)) = (self.split_hello.as_mut(), p.tcp_seq) else {
            return false;
        };
        // How far this segment starts behind the next byte wanted (0: exactly there).
        let behind = split.next_seq.wrapping_sub(seq) as usize;
        if behind > p.bytes.len() {
            // Wholly behind (a retransmission of bytes held): skip it and keep gathering. Ahead
            // of the next byte (the difference wrapped): a gap, stop waiting.
            return behind < (1 << 30);
        }
        let fresh = p.bytes.get(behind..).unwrap_or_default();
        let take = fresh.len().min(split.need - split.bytes.len());
        split.bytes.extend_from_slice(&fresh[..take]);
        split.next_seq = split.next_seq.wrapping_add(len32(&fresh[..take]));
        if split.bytes.len() >= split.need {
            self.finish_split_hello(out);
        }
        true
    }

    /// Parses the hello gathered so far (whole, or as far as it arrived) and forgets it.
    fn finish_split_hello(&mut self, out: &mut Outbox<'_>) {
        if let Some(split) = self.split_hello.take()
            && let Some(ch) = tls::parse_client_hello(&split.bytes)
        {
            self.on_client_hello(&ch, NameSource::TlsSni, AppProto::Tls, out);
        }
    }

    /// An HTTP request or response at the start of this payload: the flow's details (its first
    /// request) and a transaction. Returns whether it was HTTP.
    fn inspect_http(&mut self, p: &Payload<'_>, out: &mut Outbox<'_>) -> bool {
        let bytes = u32::try_from(p.bytes.len()).unwrap_or(u32::MAX);
        if let Some(req) = http::parse_request(p.bytes) {
            self.confirm(AppProto::Http);
            let d = self.details();
            if let Some(host) = &req.host {
                let host = host.to_string_lossy();
                d.offer_server_name(host_without_port(&host).to_string(), NameSource::HttpHost);
            }
            let tx = HttpTransaction {
                method: Some(req.method.to_string_lossy()),
                host: req.host.as_ref().map(http::HttpText::to_string_lossy),
                uri: Some(req.path.to_string_lossy()),
                user_agent: req.user_agent.as_ref().map(http::HttpText::to_string_lossy),
                request_bytes: bytes,
                ..HttpTransaction::default()
            };
            let h = d.http.get_or_insert_with(HttpSummary::default);
            if h.method.is_none() {
                h.method.clone_from(&tx.method);
                h.path.clone_from(&tx.uri);
                h.host.clone_from(&tx.host);
                h.user_agent.clone_from(&tx.user_agent);
            }
            self.transactions().http_request(tx, out);
            true
        } else if let Some(resp) = http::parse_response(p.bytes) {
            self.confirm(AppProto::Http);
            let h = self.details().http.get_or_insert_with(HttpSummary::default);
            h.status.get_or_insert(resp.status);
            self.done = h.method.is_some();
            self.transactions().http_response(resp.status, bytes, out);
            true
        } else {
            false
        }
    }

    fn confirm_tls(&mut self) {
        let proto = if tls_wrapped(self.label.proto) {
            self.label.proto
        } else {
            AppProto::Tls
        };
        self.confirm(proto);
    }

    fn on_client_hello(
        &mut self,
        ch: &tls::ClientHello,
        source: NameSource,
        proto: AppProto,
        out: &mut Outbox<'_>,
    ) {
        if proto == AppProto::Tls {
            self.confirm_tls();
        } else {
            self.confirm(proto);
        }
        let d = self.details();
        if let Some(sni) = &ch.sni {
            d.offer_server_name(sni.to_string_lossy(), source);
        }
        let t = d.tls.get_or_insert_with(TlsSummary::default);
        if t.version.is_none() {
            t.version = Some(tls_version_name(ch.max_version()));
        }
        if t.alpn.is_empty() {
            t.alpn = ch
                .alpn
                .iter()
                .flatten()
                .map(tls::TlsName::to_string_lossy)
                .collect();
        }
        // A QUIC handshake is fingerprinted with a leading `q` (JA4 spec).
        let transport = |s: &str| {
            if proto == AppProto::Quic {
                format!("q{}", s.get(1..).unwrap_or_default())
            } else {
                s.to_string()
            }
        };
        if t.ja4_a.is_none() {
            t.ja4_a = ch.ja4_a().map(transport);
        }
        if t.ja4.is_none() {
            t.ja4 = ch.ja4_full().as_deref().map(transport);
        }
        let hello = TlsTransaction {
            quic: proto == AppProto::Quic,
            sni: ch.sni.as_ref().map(tls::TlsName::to_string_lossy),
            version: t.version.clone(),
            alpn: t.alpn.clone(),
            ja4_a: t.ja4_a.clone(),
            ja4: t.ja4.clone(),
            ..TlsTransaction::default()
        };
        self.transactions().tls_client_hello(hello, out);
    }

    fn inspect_udp(&mut self, p: &Payload<'_>, out: &mut Outbox<'_>) {
        if let Some(h) = quic::parse_long_header(p.bytes) {
            let known = matches!(
                h.version,
                quic::VERSION_1 | quic::VERSION_2 | quic::VERSION_DRAFT_29
            );
            if known && h.is_initial() && p.forward {
                let state = self.quic.get_or_insert_with(Box::default);
                if state.feed(p.bytes) {
                    let hello = state.client_hello();
                    self.confirm(AppProto::Quic);
                    self.details().quic_version = Some(h.version);
                    if let Some(ch) = hello {
                        let found = ch.sni.is_some();
                        self.on_client_hello(&ch, NameSource::QuicSni, AppProto::Quic, out);
                        if found {
                            self.done = true;
                            self.quic = None;
                        }
                    }
                    return;
                }
            }
        }
        if let Some(g) = quic::gquic_client_hello(p.bytes) {
            self.confirm(AppProto::Quic);
            let d = self.details();
            d.quic_version = Some(g.version);
            if let Some(sni) = &g.sni {
                d.offer_server_name(sni.to_string_lossy(), NameSource::QuicSni);
                self.done = true;
            }
        }
    }

    /// Fills in the server name from the passive host-name cache when the payloads gave none.
    pub(crate) fn name_from_cache(&mut self, responder: std::net::IpAddr, names: &HostNames) {
        let has_name = self
            .details
            .as_ref()
            .is_some_and(|d| d.server_name.is_some());
        if !has_name && let Some(name) = names.get(responder) {
            self.details()
                .offer_server_name(name.to_string(), NameSource::PassiveDns);
        }
    }
}

/// The host part of an HTTP `Host` value: `example.org:8080` → `example.org`,
/// `[2001:db8::1]:80` → `[2001:db8::1]`; a value that is not `host:port` is returned whole.
/// A payload's length as a TCP sequence-number step (payloads are far below 4 GiB).
fn len32(bytes: &[u8]) -> u32 {
    u32::try_from(bytes.len()).unwrap_or(u32::MAX)
}

fn host_without_port(host: &str) -> &str {
    match host.rsplit_once(':') {
        Some((h, port))
            if !port.is_empty()
                && port.bytes().all(|b| b.is_ascii_digit())
                && (!h.contains(':') || (h.starts_with('[') && h.ends_with(']'))) =>
        {
            h
        }
        _ => host,
    }
}

/// `TLSv1.3`-style name of a TLS version number.
fn tls_version_name(v: u16) -> String {
    match v {
        0x0304 => "TLSv1.3".into(),
        0x0303 => "TLSv1.2".into(),
        0x0302 => "TLSv1.1".into(),
        0x0301 => "TLSv1.0".into(),
        0x0300 => "SSLv3".into(),
        other => format!("0x{other:04x}"),
    }
}

#[cfg(test)]
mod tests {
    use super::host_without_port;

    #[test]
    fn host_values_lose_only_a_port() {
        assert_eq!(host_without_port("example.org:8080"), "example.org");
        assert_eq!(host_without_port("example.org"), "example.org");
        assert_eq!(host_without_port("[2001:db8::1]:80"), "[2001:db8::1]");
        assert_eq!(host_without_port("2001:db8::1"), "2001:db8::1");
        assert_eq!(host_without_port("example.org:"), "example.org:");
        assert_eq!(host_without_port("a:b"), "a:b");
    }
}
