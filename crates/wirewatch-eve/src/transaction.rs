//! Transactions as EVE events in Suricata's layout: `dns` (a `query` event and, when answered,
//! an `answer` event), `http`, `tls` and `quic`. The common fields (`flow_id`,
//! `community_id`, addresses, ports) are those of the transaction's flow, so a SIEM joins them
//! with its `flow` event.

use crate::community::{community_id_hash, flow_id_of, render};
use crate::record::{EveRecord, format_timestamp, proto_name};
use serde::{Deserialize, Serialize};
use wirewatch_core::{Transaction, TransactionDetails};

/// A DNS answer record (`dns.answers[]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveDnsAnswer {
    /// Owner name.
    pub rrname: String,
    /// Record type.
    pub rrtype: String,
    /// Time to live, seconds.
    pub ttl: u32,
    /// The data (address or name), when decoded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rdata: Option<String>,
}

/// The `dns` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveDns {
    /// Suricata's format version of `answer` events (2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<u8>,
    /// `query` or `answer`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The message id.
    pub id: u16,
    /// The question's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrname: Option<String>,
    /// The question's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rrtype: Option<String>,
    /// The response code (answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rcode: Option<String>,
    /// The answer records (answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answers: Option<Vec<EveDnsAnswer>>,
}

/// The `http` object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveHttp {
    /// `Host` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    /// Request target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    /// `User-Agent` header.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_user_agent: Option<String>,
    /// Request method.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_method: Option<String>,
    /// Response status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Response bytes seen in its first segment (headers included).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
}

/// The `tls` object of a `tls` event, and the `quic` object of a `quic` event (the same
/// fields: what the client's hello says).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveHello {
    /// Server name indication.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sni: Option<String>,
    /// Version as Suricata writes it (`TLS 1.3`, `TLS 1.2`, `SSLv3`, ...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// The first part of the JA4 fingerprint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4_a: Option<String>,
    /// The whole JA4 fingerprint (Suricata's `tls.ja4`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ja4: Option<String>,
    /// ALPN protocols the client offered.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub client_alpns: Vec<String>,
}

/// `TLSv1.3` → `TLS 1.3` (Suricata's spelling); others unchanged.
fn suricata_version(v: &str) -> String {
    match v.strip_prefix("TLSv") {
        Some(n) => format!("TLS {n}"),
        None => v.to_string(),
    }
}

/// The EVE events of a transaction: a DNS query and its answer are two events (the answer
/// travels server → client), every other transaction one.
pub fn from_transaction(t: &Transaction, seed: u16) -> Vec<EveRecord> {
    let digest = community_id_hash(t.ip_proto, t.src_ip, t.dst_ip, t.src_port, t.dst_port, seed);
    let base = |event_type: &str, ts, reverse: bool| {
        let (src, dst) = if reverse {
            ((t.dst_ip, t.dst_port), (t.src_ip, t.src_port))
        } else {
            ((t.src_ip, t.src_port), (t.dst_ip, t.dst_port))
        };
        EveRecord {
            timestamp: format_timestamp(ts),
            flow_id: Some(flow_id_of(&digest)),
            event_type: event_type.to_string(),
            src_ip: Some(src.0),
            src_port: Some(src.1),
            dest_ip: Some(dst.0),
            dest_port: Some(dst.1),
            proto: Some(proto_name(t.ip_proto).into_owned()),
            community_id: Some(render(&digest)),
            app_proto: Some(event_type.to_string()),
            ..EveRecord::default()
        }
    };
    match &t.details {
        TransactionDetails::Dns(d) => {
            let mut out = Vec::with_capacity(2);
            if d.query_seen {
                let mut q = base("dns", t.ts, false);
                q.dns = Some(EveDns {
                    version: None,
                    kind: "query".into(),
                    id: d.id,
                    rrname: d.query.clone(),
                    rrtype: d.qtype.clone(),
                    rcode: None,
                    answers: None,
                });
                out.push(q);
            }
            if d.rcode.is_some() {
                let answered_at = d
                    .latency_ms
                    .map_or(t.ts, |ms| t.ts.plus((ms * 1e6).round() as u64));
                let mut a = base("dns", answered_at, true);
                a.dns = Some(EveDns {
                    version: Some(2),
                    kind: "answer".into(),
                    id: d.id,
                    rrname: d.query.clone(),
                    rrtype: d.qtype.clone(),
                    rcode: d.rcode.clone(),
                    answers: (!d.answers.is_empty()).then(|| {
                        d.answers
                            .iter()
                            .map(|r| EveDnsAnswer {
                                rrname: r.name.clone(),
                                rrtype: r.rrtype.clone(),
                                ttl: r.ttl,
                                rdata: (!r.data.is_empty()).then(|| r.data.clone()),
                            })
                            .collect()
                    }),
                });
                out.push(a);
            }
            out
        }
        TransactionDetails::Http(h) => {
            let mut r = base("http", t.ts, false);
            r.http = Some(EveHttp {
                hostname: h.host.clone(),
                url: h.uri.clone(),
                http_user_agent: h.user_agent.clone(),
                http_method: h.method.clone(),
                status: h.status,
                length: (h.response_bytes > 0).then_some(h.response_bytes),
            });
            vec![r]
        }
        TransactionDetails::Tls(tls) => {
            let hello = EveHello {
                sni: tls.sni.clone(),
                version: tls.version.as_deref().map(suricata_version),
                ja4_a: tls.ja4_a.clone(),
                ja4: tls.ja4.clone(),
                client_alpns: tls.alpn.clone(),
            };
            let mut r = base(if tls.quic { "quic" } else { "tls" }, t.ts, false);
            if tls.quic {
                r.quic = Some(hello);
            } else {
                r.tls = Some(hello);
            }
            vec![r]
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::{DnsAnswerRecord, DnsTransaction, Timestamp, TlsTransaction};

    fn transaction(details: TransactionDetails) -> Transaction {
        Transaction {
            ts: Timestamp(1_700_000_000_000_000_000),
            ip_proto: 17,
            src_ip: "10.0.0.1".parse().unwrap(),
            src_port: 40000,
            dst_ip: "10.0.0.53".parse().unwrap(),
            dst_port: 53,
            details,
        }
    }

    #[test]
    fn an_answered_query_is_a_query_and_an_answer_in_suricata_layout() {
        let t = transaction(TransactionDetails::Dns(DnsTransaction {
            id: 9,
            query: Some("example.org".into()),
            qtype: Some("A".into()),
            query_seen: true,
            rcode: Some("NOERROR".into()),
            answers: vec![DnsAnswerRecord {
                name: "example.org".into(),
                rrtype: "A".into(),
                ttl: 300,
                data: "192.0.2.7".into(),
            }],
            answers_omitted: 0,
            latency_ms: Some(12.5),
        }));
        let events = from_transaction(&t, 0);
        assert_eq!(events.len(), 2);
        let q = serde_json::to_value(&events[0]).unwrap();
        let a = serde_json::to_value(&events[1]).unwrap();
        assert_eq!(q["event_type"], "dns");
        assert_eq!(q["dns"]["type"], "query");
        assert_eq!(q["dns"]["rrname"], "example.org");
        assert_eq!(q["src_ip"], "10.0.0.1");
        assert_eq!(a["dns"]["type"], "answer");
        assert_eq!(a["dns"]["rcode"], "NOERROR");
        assert_eq!(a["dns"]["answers"][0]["rdata"], "192.0.2.7");
        assert_eq!(
            a["src_ip"], "10.0.0.53",
            "the answer travels server → client"
        );
        assert_eq!(q["flow_id"], a["flow_id"]);
        assert_eq!(a["timestamp"], "2023-11-14T22:13:20.012500+0000");
    }

    #[test]
    fn tls_names_its_sni_where_siems_look_for_it() {
        let mut t = transaction(TransactionDetails::Tls(TlsTransaction {
            sni: Some("example.org".into()),
            version: Some("TLSv1.3".into()),
            ..TlsTransaction::default()
        }));
        t.ip_proto = 6;
        let v = serde_json::to_value(&from_transaction(&t, 0)[0]).unwrap();
        assert_eq!(v["event_type"], "tls");
        assert_eq!(v["tls"]["sni"], "example.org");
        assert_eq!(v["tls"]["version"], "TLS 1.3");
        assert_eq!(v["proto"], "TCP");
    }
}
