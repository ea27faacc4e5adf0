//! Transactions of a flow: each DNS query matched with its response (by message id), each
//! HTTP request with its response, each TLS or QUIC handshake — handed to the engine as they
//! complete, and the halves still waiting when the flow ends.
//!
//! Bounded: a flow keeps at most [`MAX_PENDING_DNS`] unanswered queries (the oldest is logged
//! unanswered to make room) and one pending HTTP request and TLS handshake; it logs at most
//! `flows.max_transactions_per_flow` transactions, the rest counted. The table's outbox is
//! drained by the engine after every packet.

use std::collections::VecDeque;
use std::net::IpAddr;
use wirewatch_core::transaction::{MAX_DNS_ANSWERS, dns_type_name};
use wirewatch_core::{
    DnsAnswerRecord, DnsTransaction, HttpTransaction, Timestamp, TlsTransaction, Transaction,
    TransactionDetails,
};
use wirewatch_decode::app::dns::{self, DnsMessage, RData};

/// Unanswered DNS queries remembered per flow.
pub const MAX_PENDING_DNS: usize = 32;

/// Half-done transactions remembered in the whole table (about 300 bytes each): beyond it a new
/// request is logged at once, unanswered, instead of waiting for its answer.
pub const MAX_PENDING_TOTAL: usize = 65_536;

/// The two ends of a flow, client (initiator) first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ends {
    /// IP protocol.
    pub ip_proto: u8,
    /// The initiator's address and port.
    pub client: (IpAddr, u16),
    /// The responder's address and port.
    pub server: (IpAddr, u16),
}

/// The table's transactions: those ready for the engine, and the bounds every flow shares.
#[derive(Debug)]
pub(crate) struct TransactionLog {
    /// Ready for the engine (drained after every packet).
    ready: Vec<Transaction>,
    /// The most a flow logs.
    max_per_flow: u32,
    /// Half-done transactions held by all flows together (at most [`MAX_PENDING_TOTAL`]).
    pending: usize,
    /// Transactions handed to the engine.
    pub logged: u64,
    /// Transactions not logged because their flow reached `max_per_flow`.
    pub omitted: u64,
}

impl TransactionLog {
    /// An empty log; a flow logs at most `max_per_flow` transactions.
    pub(crate) fn new(max_per_flow: u32) -> Self {
        TransactionLog {
            ready: Vec::new(),
            max_per_flow,
            pending: 0,
            logged: 0,
            omitted: 0,
        }
    }

    /// Where the transactions of a packet seen at `ts` in the flow between `ends` go.
    pub(crate) fn outbox(&mut self, ts: Timestamp, ends: Ends) -> Outbox<'_> {
        Outbox {
            log: self,
            ts,
            ends,
        }
    }

    /// The transactions ready since the last call, oldest first.
    pub(crate) fn drain(&mut self) -> std::vec::Drain<'_, Transaction> {
        self.logged += self.ready.len() as u64;
        self.ready.drain(..)
    }
}

/// Where one packet's transactions go: the table's log, with the packet's time and flow.
pub(crate) struct Outbox<'a> {
    log: &'a mut TransactionLog,
    /// The packet's time.
    ts: Timestamp,
    /// The flow's ends.
    ends: Ends,
}

impl Outbox<'_> {
    /// Takes a place for a half-done transaction; false when the table holds all it may.
    fn hold(&mut self) -> bool {
        if self.log.pending >= MAX_PENDING_TOTAL {
            return false;
        }
        self.log.pending += 1;
        true
    }

    /// Gives a half-done transaction's place back.
    fn release(&mut self) {
        self.log.pending = self.log.pending.saturating_sub(1);
    }
}

/// A query waiting for its response.
#[derive(Debug, Clone)]
struct PendingDns {
    ts: Timestamp,
    tx: DnsTransaction,
}

/// Per-flow transaction state (allocated at the flow's first transaction).
#[derive(Debug, Clone, Default)]
pub(crate) struct FlowTransactions {
    dns: VecDeque<PendingDns>,
    http: Option<(Timestamp, HttpTransaction)>,
    tls: Option<(Timestamp, TlsTransaction)>,
    /// Transactions logged so far.
    logged: u32,
}

impl FlowTransactions {
    fn emit(&mut self, out: &mut Outbox<'_>, ts: Timestamp, details: TransactionDetails) {
        if self.logged >= out.log.max_per_flow {
            out.log.omitted += 1;
            return;
        }
        self.logged += 1;
        out.log.ready.push(Transaction {
            ts,
            ip_proto: out.ends.ip_proto,
            src_ip: out.ends.client.0,
            src_port: out.ends.client.1,
            dst_ip: out.ends.server.0,
            dst_port: out.ends.server.1,
            details,
        });
    }

    /// A DNS message of this flow.
    pub(crate) fn dns(&mut self, msg: &DnsMessage, out: &mut Outbox<'_>) {
        if !msg.response {
            if self.dns.len() >= MAX_PENDING_DNS
                && let Some(old) = self.dns.pop_front()
            {
                out.release();
                self.emit(out, old.ts, TransactionDetails::Dns(old.tx));
            }
            let mut tx = question(msg);
            tx.query_seen = true;
            if out.hold() {
                self.dns.push_back(PendingDns { ts: out.ts, tx });
            } else {
                self.emit(out, out.ts, TransactionDetails::Dns(tx));
            }
            return;
        }
        let asked = self
            .dns
            .iter()
            .position(|p| p.tx.id == msg.id)
            .and_then(|i| self.dns.remove(i));
        let (ts, mut tx) = match asked {
            Some(p) => {
                out.release();
                let mut tx = p.tx;
                tx.latency_ms = Some(out.ts.since(p.ts) as f64 / 1e6);
                if tx.query.is_none() {
                    let answered = question(msg);
                    tx.query = answered.query;
                    tx.qtype = answered.qtype;
                }
                (p.ts, tx)
            }
            None => (out.ts, question(msg)),
        };
        tx.rcode = Some(dns::rcode_name(msg.rcode).to_string());
        for a in msg.answers.iter().take(MAX_DNS_ANSWERS) {
            tx.answers.push(DnsAnswerRecord {
                name: a.name.to_string_lossy().into_owned(),
                rrtype: dns_type_name(a.rtype),
                ttl: a.ttl,
                data: match &a.data {
                    RData::A(v4) => v4.to_string(),
                    RData::Aaaa(v6) => v6.to_string(),
                    RData::Cname(name) => name.to_string_lossy().into_owned(),
                    RData::Other { .. } => String::new(),
                },
            });
        }
        let decoded = u32::try_from(tx.answers.len()).unwrap_or(u32::MAX);
        tx.answers_omitted = u32::from(msg.answer_count).saturating_sub(decoded);
        self.emit(out, ts, TransactionDetails::Dns(tx));
    }

    /// An HTTP request: a pending one is logged without its response first.
    pub(crate) fn http_request(&mut self, req: HttpTransaction, out: &mut Outbox<'_>) {
        if let Some((ts, old)) = self.http.take() {
            out.release();
            self.emit(out, ts, TransactionDetails::Http(old));
        }
        if out.hold() {
            self.http = Some((out.ts, req));
        } else {
            self.emit(out, out.ts, TransactionDetails::Http(req));
        }
    }

    /// An HTTP response: completes the pending request (or is logged alone).
    pub(crate) fn http_response(&mut self, status: u16, bytes: u32, out: &mut Outbox<'_>) {
        let (ts, mut tx) = self
            .http
            .take()
            .unwrap_or((out.ts, HttpTransaction::default()));
        tx.status = Some(status);
        tx.response_bytes = bytes;
        self.emit(out, ts, TransactionDetails::Http(tx));
    }

    /// A TLS client hello (over TCP: waits for the server's hello) or a QUIC one (logged at
    /// once: the server's hello is encrypted).
    pub(crate) fn tls_client_hello(&mut self, hello: TlsTransaction, out: &mut Outbox<'_>) {
        if let Some((ts, old)) = self.tls.take() {
            out.release();
            self.emit(out, ts, TransactionDetails::Tls(old));
        }
        if !hello.quic && out.hold() {
            self.tls = Some((out.ts, hello));
        } else {
            self.emit(out, out.ts, TransactionDetails::Tls(hello));
        }
    }

    /// A TLS server hello: completes the handshake (or is logged alone).
    pub(crate) fn tls_server_hello(&mut self, version: String, cipher: u16, out: &mut Outbox<'_>) {
        let (ts, mut tx) = self
            .tls
            .take()
            .unwrap_or((out.ts, TlsTransaction::default()));
        tx.version = Some(version);
        tx.cipher = Some(cipher);
        tx.server_hello_seen = true;
        self.emit(out, ts, TransactionDetails::Tls(tx));
    }

    /// The flow ended: what still waits for its other half is logged as it is.
    pub(crate) fn flush(&mut self, out: &mut Outbox<'_>) {
        while let Some(p) = self.dns.pop_front() {
            out.release();
            self.emit(out, p.ts, TransactionDetails::Dns(p.tx));
        }
        if let Some((ts, tx)) = self.http.take() {
            out.release();
            self.emit(out, ts, TransactionDetails::Http(tx));
        }
        if let Some((ts, tx)) = self.tls.take() {
            out.release();
            self.emit(out, ts, TransactionDetails::Tls(tx));
        }
    }
}

/// The question part of a DNS message as a transaction (a name cut by the capture is not the
/// name that was asked: it is left out).
fn question(msg: &DnsMessage) -> DnsTransaction {
    let q = msg.questions.first();
    DnsTransaction {
        id: msg.id,
        query: q
            .filter(|q| !q.name.truncated)
            .map(|q| q.name.to_string_lossy().into_owned()),
        qtype: q.map(|q| dns_type_name(q.qtype)),
        ..DnsTransaction::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ends() -> Ends {
        Ends {
            ip_proto: 17,
            client: ("10.0.0.1".parse().unwrap(), 40000),
            server: ("10.0.0.53".parse().unwrap(), 53),
        }
    }

    fn dns(id: u16, response: bool) -> DnsMessage {
        let q = wirewatch_decode::app::dns::DnsQuestion {
            name: wirewatch_decode::app::dns::DnsName::from_labels([&b"example"[..], b"org"]),
            qtype: 1,
            qclass: 1,
        };
        DnsMessage {
            id,
            response,
            opcode: 0,
            rcode: if response { 3 } else { 0 },
            truncated: false,
            question_count: 1,
            answer_count: 0,
            questions: vec![q],
            answers: Vec::new(),
            error: None,
        }
    }

    fn drive(
        f: &mut FlowTransactions,
        log: &mut TransactionLog,
        secs: u64,
        act: impl FnOnce(&mut FlowTransactions, &mut Outbox<'_>),
    ) {
        act(
            f,
            &mut log.outbox(Timestamp::from_secs_nanos(secs, 0), ends()),
        );
    }

    #[test]
    fn a_query_and_its_response_are_one_transaction_with_latency() {
        let mut f = FlowTransactions::default();
        let mut log = TransactionLog::new(100);
        drive(&mut f, &mut log, 10, |f, o| f.dns(&dns(7, false), o));
        assert!(log.ready.is_empty(), "waits for its response");
        drive(&mut f, &mut log, 12, |f, o| f.dns(&dns(7, true), o));
        assert_eq!(log.ready.len(), 1);
        let t = &log.ready[0];
        assert_eq!(t.ts, Timestamp::from_secs_nanos(10, 0));
        let TransactionDetails::Dns(d) = &t.details else {
            panic!("not dns: {t:?}");
        };
        assert_eq!(d.query.as_deref(), Some("example.org"));
        assert_eq!(d.qtype.as_deref(), Some("A"));
        assert_eq!(d.rcode.as_deref(), Some("NXDOMAIN"));
        assert_eq!(d.latency_ms, Some(2000.0));
        assert!(d.query_seen);
    }

    #[test]
    fn the_table_wide_cap_logs_new_requests_at_once_instead_of_holding_them() {
        let mut f = FlowTransactions::default();
        let mut log = TransactionLog::new(100);
        log.pending = MAX_PENDING_TOTAL;
        drive(&mut f, &mut log, 1, |f, o| f.dns(&dns(1, false), o));
        assert_eq!(log.pending, MAX_PENDING_TOTAL, "nothing more is held");
        assert_eq!(log.ready.len(), 1, "logged at once, unanswered");
        assert!(f.dns.is_empty());
    }

    #[test]
    fn unanswered_queries_are_logged_when_the_flow_ends_and_when_too_many_wait() {
        let mut f = FlowTransactions::default();
        let mut log = TransactionLog::new(1_000);
        for id in 0..(MAX_PENDING_DNS as u16 + 3) {
            drive(&mut f, &mut log, 1, |f, o| f.dns(&dns(id, false), o));
        }
        assert_eq!(log.ready.len(), 3, "the oldest make room");
        drive(&mut f, &mut log, 2, |f, o| f.flush(o));
        assert_eq!(log.ready.len(), MAX_PENDING_DNS + 3);
        assert!(log.ready.iter().all(|t| matches!(
            &t.details,
            TransactionDetails::Dns(d) if d.rcode.is_none() && d.latency_ms.is_none()
        )));
    }

    #[test]
    fn the_per_flow_cap_counts_what_it_leaves_out() {
        let mut f = FlowTransactions::default();
        let mut log = TransactionLog::new(4);
        for id in 0..10 {
            drive(&mut f, &mut log, 1, |f, o| f.dns(&dns(id, true), o));
        }
        assert_eq!(log.ready.len(), 4);
        assert_eq!(log.omitted, 6);
    }

    #[test]
    fn http_and_tls_pair_their_halves() {
        let mut f = FlowTransactions::default();
        let mut log = TransactionLog::new(100);
        drive(&mut f, &mut log, 1, |f, o| {
            f.http_request(
                HttpTransaction {
                    method: Some("GET".into()),
                    ..HttpTransaction::default()
                },
                o,
            );
            f.http_response(200, 512, o);
            f.tls_client_hello(
                TlsTransaction {
                    sni: Some("example.org".into()),
                    ..TlsTransaction::default()
                },
                o,
            );
        });
        assert_eq!(
            log.ready.len(),
            1,
            "TLS over TCP waits for the server's hello"
        );
        drive(&mut f, &mut log, 2, |f, o| {
            f.tls_server_hello("TLSv1.3".into(), 0x1301, o)
        });
        assert_eq!(log.ready.len(), 2);
        let TransactionDetails::Http(h) = &log.ready[0].details else {
            panic!("not http");
        };
        assert_eq!((h.method.as_deref(), h.status), (Some("GET"), Some(200)));
        let TransactionDetails::Tls(t) = &log.ready[1].details else {
            panic!("not tls");
        };
        assert_eq!(t.sni.as_deref(), Some("example.org"));
        assert_eq!(t.version.as_deref(), Some("TLSv1.3"));
        assert_eq!(log.ready[1].ts, Timestamp::from_secs_nanos(1, 0));
        assert!(t.server_hello_seen);
    }
}
