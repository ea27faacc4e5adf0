//! Stored application transactions (backend-independent): the row a query returns, the
//! columns it sorts by, the kinds it filters by.
//!
//! A row is one [`Transaction`] as flat columns: what every kind has (time, kind, endpoints,
//! name), then the columns of each kind, prefixed by it (`dns_`, `http_`, `tls_`) and empty
//! for the others, so every row has the same columns and CSV rows line up. Every string came
//! off the network and is attacker-chosen: show it as text only.

use crate::query::canonical_ip;
use serde::Serialize;
use std::net::IpAddr;
use wirewatch_core::{DnsAnswerRecord, Transaction, TransactionDetails};

/// The kinds of transaction, as `Transaction::kind` names them (the `kind` filter).
pub const TRANSACTION_KINDS: [&str; 3] = ["dns", "http", "tls"];

/// The columns transactions can be sorted by (the first is the default): row field names.
pub(crate) const SORT_COLUMNS: &[&str] = &[
    "ts",
    "kind",
    "proto",
    "src_ip",
    "src_port",
    "dst_ip",
    "dst_port",
    "name",
    "dns_qtype",
    "dns_rcode",
    "dns_latency_ms",
    "http_method",
    "http_uri",
    "http_status",
    "tls_version",
    "ja4",
];

/// One stored transaction, client first. Field names follow the flow rows' application
/// columns (`http_method`, `tls_version`, `ja4_a`, ...).
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct TransactionRow {
    /// When it started (the request; the response when no request was seen), seconds.
    pub ts: f64,
    /// `dns`, `http` or `tls` (TLS over TCP and QUIC alike; see `quic`).
    pub kind: String,
    /// `tcp`, `udp` or the IP protocol number.
    pub proto: String,
    /// The client's address.
    pub src_ip: IpAddr,
    /// The client's port.
    pub src_port: u16,
    /// The server's address.
    pub dst_ip: IpAddr,
    /// The server's port.
    pub dst_port: u16,
    /// The name it concerns: the DNS query name, the HTTP `Host`, the TLS/QUIC server name.
    pub name: Option<String>,
    /// DNS message id.
    pub dns_id: Option<u16>,
    /// DNS query type (`A`, `AAAA`, `TXT`, ... or `TYPE65`).
    pub dns_qtype: Option<String>,
    /// Whether the DNS query was seen (false: only the response was).
    pub dns_query_seen: Option<bool>,
    /// DNS response code (`NOERROR`, `NXDOMAIN`, ...); empty when no response was seen.
    pub dns_rcode: Option<String>,
    /// DNS answers (at most 16; CSV: JSON text).
    pub dns_answers: Vec<DnsAnswerRecord>,
    /// DNS answers beyond those listed.
    pub dns_answers_omitted: Option<u32>,
    /// DNS query to response, milliseconds of packet time.
    pub dns_latency_ms: Option<f64>,
    /// HTTP request method.
    pub http_method: Option<String>,
    /// HTTP request target.
    pub http_uri: Option<String>,
    /// HTTP `User-Agent`.
    pub http_user_agent: Option<String>,
    /// HTTP response status.
    pub http_status: Option<u16>,
    /// HTTP request bytes seen (headers included).
    pub http_request_bytes: Option<u32>,
    /// HTTP response bytes seen (headers included).
    pub http_response_bytes: Option<u32>,
    /// TLS version (the server's choice, else the highest the client offered).
    pub tls_version: Option<String>,
    /// ALPN protocols the client offered (CSV: JSON text).
    pub tls_alpn: Vec<String>,
    /// Cipher suite the server chose.
    pub tls_cipher: Option<u16>,
    /// JA4 section a of the client hello.
    pub ja4_a: Option<String>,
    /// The whole JA4 fingerprint of the client hello, when its lists were captured whole.
    pub ja4: Option<String>,
    /// QUIC rather than TLS over TCP.
    pub quic: Option<bool>,
    /// Whether the server's hello was seen.
    pub tls_server_hello_seen: Option<bool>,
}

impl TransactionRow {
    /// The row a stored transaction reads back as.
    pub fn from_transaction(t: &Transaction) -> TransactionRow {
        let mut row = TransactionRow {
            ts: t.ts.as_secs_f64(),
            kind: t.kind().to_string(),
            proto: wirewatch_core::flow::ip_proto_name(t.ip_proto),
            src_ip: canonical_ip(t.src_ip),
            src_port: t.src_port,
            dst_ip: canonical_ip(t.dst_ip),
            dst_port: t.dst_port,
            name: t.name().map(str::to_string),
            dns_id: None,
            dns_qtype: None,
            dns_query_seen: None,
            dns_rcode: None,
            dns_answers: Vec::new(),
            dns_answers_omitted: None,
            dns_latency_ms: None,
            http_method: None,
            http_uri: None,
            http_user_agent: None,
            http_status: None,
            http_request_bytes: None,
            http_response_bytes: None,
            tls_version: None,
            tls_alpn: Vec::new(),
            tls_cipher: None,
            ja4_a: None,
            ja4: None,
            quic: None,
            tls_server_hello_seen: None,
        };
        match &t.details {
            TransactionDetails::Dns(d) => {
                row.dns_id = Some(d.id);
                row.dns_qtype = d.qtype.clone();
                row.dns_query_seen = Some(d.query_seen);
                row.dns_rcode = d.rcode.clone();
                row.dns_answers = d.answers.clone();
                row.dns_answers_omitted = Some(d.answers_omitted);
                row.dns_latency_ms = d.latency_ms;
            }
            TransactionDetails::Http(h) => {
                row.http_method = h.method.clone();
                row.http_uri = h.uri.clone();
                row.http_user_agent = h.user_agent.clone();
                row.http_status = h.status;
                row.http_request_bytes = Some(h.request_bytes);
                row.http_response_bytes = Some(h.response_bytes);
            }
            TransactionDetails::Tls(s) => {
                row.tls_version = s.version.clone();
                row.tls_alpn = s.alpn.clone();
                row.tls_cipher = s.cipher;
                row.ja4_a = s.ja4_a.clone();
                row.ja4 = s.ja4.clone();
                row.quic = Some(s.quic);
                row.tls_server_hello_seen = Some(s.server_hello_seen);
            }
        }
        row
    }
}

/// About how many bytes of memory a transaction owns beyond its own size (its strings and
/// answers), for [`crate::Record::approx_bytes`].
pub(crate) fn heap_bytes(t: &Transaction) -> usize {
    let s = |o: &Option<String>| o.as_ref().map_or(0, String::len);
    match &t.details {
        TransactionDetails::Dns(d) => {
            s(&d.query)
                + s(&d.qtype)
                + s(&d.rcode)
                + d.answers
                    .iter()
                    .map(|a| {
                        std::mem::size_of::<DnsAnswerRecord>()
                            + a.name.len()
                            + a.rrtype.len()
                            + a.data.len()
                    })
                    .sum::<usize>()
        }
        TransactionDetails::Http(h) => s(&h.method) + s(&h.host) + s(&h.uri) + s(&h.user_agent),
        TransactionDetails::Tls(t) => {
            s(&t.sni)
                + s(&t.version)
                + s(&t.ja4_a)
                + t.alpn.iter().map(|a| 24 + a.len()).sum::<usize>()
        }
    }
}
