//! Application transactions: every DNS query and its answer, every HTTP request and its
//! response, every TLS or QUIC handshake a flow carried — what Zeek writes to `dns.log`,
//! `http.log` and `ssl.log` and Suricata to its `dns`, `http` and `tls` events.
//!
//! Owns the vocabulary only; finding transactions in payloads is the flow crate's job. Every
//! string came off the network (escaped to printable text by the decoder) and is still
//! attacker-chosen: render it as text, never as markup, SQL or a formula.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;

/// One transaction, oriented client → server (the flow's initiator → responder).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transaction {
    /// When it started (the request; the response when no request was seen); JSON: seconds.
    #[serde(with = "crate::time::secs")]
    pub ts: Timestamp,
    /// IP protocol of the flow (6 TCP, 17 UDP).
    pub ip_proto: u8,
    /// The client's address.
    pub src_ip: IpAddr,
    /// The client's port.
    pub src_port: u16,
    /// The server's address.
    pub dst_ip: IpAddr,
    /// The server's port.
    pub dst_port: u16,
    /// What was asked and answered.
    #[serde(flatten)]
    pub details: TransactionDetails,
}

impl Transaction {
    /// `dns`, `http` or `tls`.
    pub fn kind(&self) -> &'static str {
        match self.details {
            TransactionDetails::Dns(_) => "dns",
            TransactionDetails::Http(_) => "http",
            TransactionDetails::Tls(_) => "tls",
        }
    }

    /// The name it concerns: the DNS query name, the HTTP host, the TLS/QUIC server name.
    pub fn name(&self) -> Option<&str> {
        match &self.details {
            TransactionDetails::Dns(d) => d.query.as_deref(),
            TransactionDetails::Http(h) => h.host.as_deref(),
            TransactionDetails::Tls(t) => t.sni.as_deref(),
        }
    }
}

/// The protocol part of a transaction (JSON: `"type": "dns"` with a `dns` object, ...).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum TransactionDetails {
    /// A DNS query and its response.
    Dns(DnsTransaction),
    /// An HTTP request and its response.
    Http(HttpTransaction),
    /// A TLS or QUIC handshake.
    Tls(TlsTransaction),
}

/// Answers kept per DNS transaction (the rest are counted in `answers_omitted`).
pub const MAX_DNS_ANSWERS: usize = 16;

/// A DNS query and its response (matched by message id within the flow).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct DnsTransaction {
    /// The message id.
    pub id: u16,
    /// The first question's name (`None` when it was cut by the capture or absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub query: Option<String>,
    /// The first question's type (`A`, `AAAA`, `TXT`, ... or `TYPE65` for others).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub qtype: Option<String>,
    /// The query was seen.
    pub query_seen: bool,
    /// The response's code (`NOERROR`, `NXDOMAIN`, ...); `None` when no response was seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcode: Option<String>,
    /// The response's answers, at most [`MAX_DNS_ANSWERS`].
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub answers: Vec<DnsAnswerRecord>,
    /// Answers beyond [`MAX_DNS_ANSWERS`], or announced but not decoded.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub answers_omitted: u32,
    /// Query to response, in milliseconds of packet time (both seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// One answer record of a DNS response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsAnswerRecord {
    /// The owner name.
    pub name: String,
    /// The record type (`A`, `AAAA`, `CNAME`, ...).
    pub rrtype: String,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The data: an address, a name, or empty for types not decoded.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub data: String,
}

/// An HTTP/1.x request and its response.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HttpTransaction {
    /// Request method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// `Host` header (port included when given).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// Request target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uri: Option<String>,
    /// `User-Agent` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Response status code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Request payload bytes seen in the request's segment (headers included).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub request_bytes: u32,
    /// Response payload bytes seen in the response's segment (headers included).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub response_bytes: u32,
}

/// A TLS (over TCP) or QUIC handshake as the hellos show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TlsTransaction {
    /// QUIC rather than TLS over TCP.
    pub quic: bool,
    /// Server name indication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// The version the server chose (`TLSv1.3`, ...), else the highest the client offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// ALPN protocols the client offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alpn: Vec<String>,
    /// The cipher suite the server chose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cipher: Option<u16>,
    /// The JA4 fingerprint's first part (protocol, version, SNI, counts, ALPN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4_a: Option<String>,
    /// The whole JA4 fingerprint, when the hello's lists were captured whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    /// The server's hello was seen.
    pub server_hello_seen: bool,
}

fn is_zero<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// The name of a DNS record type (RFC 1035 and successors); others as `TYPE<n>` (RFC 3597).
pub fn dns_type_name(t: u16) -> String {
    let name = match t {
        1 => "A",
        2 => "NS",
        5 => "CNAME",
        6 => "SOA",
        12 => "PTR",
        13 => "HINFO",
        15 => "MX",
        16 => "TXT",
        28 => "AAAA",
        33 => "SRV",
        35 => "NAPTR",
        39 => "DNAME",
        41 => "OPT",
        43 => "DS",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        50 => "NSEC3",
        52 => "TLSA",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        252 => "AXFR",
        255 => "ANY",
        257 => "CAA",
        other => return format!("TYPE{other}"),
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_says_the_type_and_keeps_the_fields_flat() {
        let t = Transaction {
            ts: Timestamp(1_000_000_000),
            ip_proto: 17,
            src_ip: "10.0.0.1".parse().unwrap(),
            src_port: 40000,
            dst_ip: "10.0.0.53".parse().unwrap(),
            dst_port: 53,
            details: TransactionDetails::Dns(DnsTransaction {
                id: 7,
                query: Some("example.org".into()),
                qtype: Some(dns_type_name(1)),
                query_seen: true,
                rcode: Some("NOERROR".into()),
                answers: vec![DnsAnswerRecord {
                    name: "example.org".into(),
                    rrtype: dns_type_name(1),
                    ttl: 60,
                    data: "192.0.2.1".into(),
                }],
                answers_omitted: 0,
                latency_ms: Some(1.5),
            }),
        };
        let v = serde_json::to_value(&t).unwrap();
        assert_eq!(v["type"], "dns");
        assert_eq!(v["query"], "example.org");
        assert_eq!(v["answers"][0]["data"], "192.0.2.1");
        assert!(v.get("answers_omitted").is_none());
        assert_eq!(t.kind(), "dns");
        assert_eq!(t.name(), Some("example.org"));
        let back: Transaction = serde_json::from_value(v).unwrap();
        assert_eq!(back, t);
    }

    #[test]
    fn unknown_record_types_are_named_by_number() {
        assert_eq!(dns_type_name(28), "AAAA");
        assert_eq!(dns_type_name(65), "HTTPS");
        assert_eq!(dns_type_name(4242), "TYPE4242");
    }
}
