//! Contract checks on transactions: every kind round-trips, every filter selects exactly what
//! it should, sorting and paging work.

use super::{T0, TempDir, bad_query, ip, q, ts, write};
use crate::query::{Query, parse_ip_filter};
use crate::transactions::TransactionRow;
use crate::{Record, Store};
use std::path::Path;
use wirewatch_core::{
    DnsAnswerRecord, DnsTransaction, HttpTransaction, TlsTransaction, Transaction,
    TransactionDetails,
};

/// A transaction number `i` of `kind` (`dns`, `http`, `tls` or `quic`) from `src` to `dst`
/// at `T0 + at_s`, about `name` (the query, host or server name), with details derived from
/// `i`: DNS `A` queries answered `NOERROR` with one address (a name containing `backup` is a
/// `TXT` query answered `NXDOMAIN`), HTTP `GET /page/{i}` answered 200, TLS 1.3 offering `h2`.
pub fn sample_transaction(
    kind: &str,
    i: u64,
    (src, dst): (&str, &str),
    at_s: u64,
    name: Option<&str>,
) -> Transaction {
    let name = name.map(str::to_string);
    let (ip_proto, dst_port, details) = match kind {
        "dns" => {
            let missing = name.as_deref().is_some_and(|n| n.contains("backup"));
            let answers = if missing {
                Vec::new()
            } else {
                vec![DnsAnswerRecord {
                    name: name.clone().unwrap_or_default(),
                    rrtype: "A".into(),
                    ttl: 60 + i as u32,
                    data: format!("93.184.216.{}", 30 + i % 200),
                }]
            };
            let d = DnsTransaction {
                id: (i as u16).wrapping_add(1000),
                query: name,
                qtype: Some(if missing { "TXT" } else { "A" }.into()),
                query_seen: true,
                rcode: Some(if missing { "NXDOMAIN" } else { "NOERROR" }.into()),
                answers,
                answers_omitted: (i % 3) as u32,
                latency_ms: Some(1.25 * (i + 1) as f64),
            };
            (17, 53, TransactionDetails::Dns(d))
        }
        "http" => {
            let h = HttpTransaction {
                method: Some("GET".into()),
                host: name,
                uri: Some(format!("/page/{i}?q=1")),
                user_agent: Some("curl/8.5.0".into()),
                status: Some(200),
                request_bytes: 80 + i as u32,
                response_bytes: 1_000 + i as u32,
            };
            (6, 80, TransactionDetails::Http(h))
        }
        _ => {
            let quic = kind == "quic";
            let t = TlsTransaction {
                quic,
                sni: name,
                version: Some("TLSv1.3".into()),
                alpn: if quic {
                    vec!["h3".into()]
                } else {
                    vec!["h2".into(), "http/1.1".into()]
                },
                cipher: Some(0x1301),
                ja4_a: Some(if quic { "q13d0310h3" } else { "t13d1516h2" }.into()),
                ja4: (!quic).then(|| "t13d1516h2_8daaf6152771_e5627efa2ab1".into()),
                server_hello_seen: !i.is_multiple_of(2),
            };
            (if quic { 17 } else { 6 }, 443, TransactionDetails::Tls(t))
        }
    };
    Transaction {
        ts: ts(T0 + at_s, 250_000_000 + i),
        ip_proto,
        src_ip: ip(src),
        src_port: (i as u16).wrapping_add(40_000),
        dst_ip: ip(dst),
        dst_port,
        details,
    }
}

/// The transactions the checks use, of every kind, some with hostile names.
fn filter_transactions() -> Vec<Transaction> {
    let mut http = sample_transaction(
        "http",
        3,
        ("10.3.0.7", "192.0.2.81"),
        30,
        Some("%' OR 1=1 --.evil"),
    );
    if let TransactionDetails::Http(h) = &mut http.details {
        h.method = Some("POST".into());
        h.uri = Some("/login?next=<script>alert(1)</script>".into());
        h.user_agent = Some("=cmd|' /C calc'!A0".into());
        h.status = Some(403);
    }
    http.dst_port = 8080;
    vec![
        sample_transaction("dns", 0, ("10.1.0.5", "10.2.0.53"), 0, Some("example.com")),
        sample_transaction(
            "dns",
            1,
            ("2001:db8::1", "2001:db8::53"),
            10,
            Some("db_backup.internal"),
        ),
        sample_transaction(
            "http",
            2,
            ("10.1.0.5", "192.0.2.80"),
            20,
            Some("www.Example.com"),
        ),
        http,
        sample_transaction(
            "tls",
            4,
            ("10.1.200.7", "93.184.216.34"),
            40,
            Some("example.com"),
        ),
        sample_transaction(
            "quic",
            5,
            ("2001:db9::1", "192.0.2.1"),
            50,
            Some("dbxbackup.internal"),
        ),
        // A DNS response whose question the capture cut: no name.
        sample_transaction("dns", 6, ("10.9.9.9", "10.2.0.53"), 60, None),
    ]
}

/// Transactions of every kind come back exactly; every filter selects exactly the
/// transactions it should; sorting and paging work.
pub fn transactions_round_trip_and_filters(make: &dyn Fn(&Path) -> Box<dyn Store>) {
    let dir = TempDir::new("contract-transactions");
    let store = make(dir.path());
    let all = filter_transactions();
    write(
        &*store,
        all.iter().map(|t| Record::Transaction(t.clone())).collect(),
    );
    let expected: Vec<TransactionRow> = all.iter().map(TransactionRow::from_transaction).collect();
    let page = store.transactions(&q()).unwrap();
    assert_eq!(page.total, 7);
    assert_eq!(page.rows, expected, "every kind round-trips, in time order");
    let quic = &page.rows[5];
    assert_eq!(
        (quic.kind.as_str(), quic.proto.as_str(), quic.quic),
        ("tls", "udp", Some(true))
    );
    assert_eq!(page.rows[0].dns_answers[0].data, "93.184.216.30");
    assert_eq!(page.rows[6].name, None);

    // Which sample transactions (by index) a query returns, in time order.
    let pick = |query: Query| -> Vec<usize> {
        let page = store.transactions(&query).unwrap();
        assert_eq!(page.total as usize, page.rows.len(), "{query:?}");
        page.rows
            .iter()
            .map(|r| expected.iter().position(|e| e == r).unwrap())
            .collect()
    };
    let kind = |k: &str| Query {
        kind: Some(k.to_string()),
        ..q()
    };
    assert_eq!(pick(kind("dns")), vec![0, 1, 6]);
    assert_eq!(pick(kind("http")), vec![2, 3]);
    assert_eq!(pick(kind("tls")), vec![4, 5]);
    bad_query(store.transactions(&kind("ssh")), "use dns, http or tls");

    let net = |s: &str| Query {
        ip: Some(parse_ip_filter(s).unwrap()),
        ..q()
    };
    assert_eq!(pick(net("10.1.0.0/16")), vec![0, 2, 4]);
    assert_eq!(pick(net("10.1.0.5")), vec![0, 2]);
    assert_eq!(pick(net("2001:db8::/32")), vec![1]);
    assert_eq!(pick(net("192.0.2.0/24")), vec![2, 3, 5]);
    // Addresses in DNS answers are not endpoints: only the TLS server's own address matches.
    assert_eq!(pick(net("93.184.216.34")), vec![4]);
    assert_eq!(pick(net("172.16.0.0/12")), Vec::<usize>::new());

    let port = |p: u16| Query {
        port: Some(p),
        ..q()
    };
    assert_eq!(pick(port(53)), vec![0, 1, 6]);
    assert_eq!(pick(port(443)), vec![4, 5]);
    assert_eq!(pick(port(8080)), vec![3]);
    assert_eq!(pick(port(40_002)), vec![2], "source ports count too");
    let proto = |p: u8| Query {
        proto: Some(p),
        ..q()
    };
    assert_eq!(pick(proto(17)), vec![0, 1, 5, 6]);
    assert_eq!(pick(proto(6)), vec![2, 3, 4]);

    let name = |s: &str| Query {
        name: Some(s.to_string()),
        ..q()
    };
    assert_eq!(pick(name("EXAMPLE.com")), vec![0, 2, 4]);
    assert_eq!(pick(name("backup")), vec![1, 5]);
    // Hostile names: bound, and LIKE wildcards escaped.
    assert_eq!(pick(name("%' OR 1=1 --")), vec![3]);
    assert_eq!(pick(name("' OR '1'='1")), Vec::<usize>::new());
    assert_eq!(pick(name("_")), vec![1]);
    assert_eq!(pick(name("\\")), Vec::<usize>::new());

    let text = |s: &str| Query {
        text: Some(s.to_string()),
        ..q()
    };
    assert_eq!(pick(text("curl/")), vec![2], "user agents");
    assert_eq!(pick(text("<script>")), vec![3], "URIs");
    assert_eq!(pick(text("nxdomain")), vec![1], "response codes");
    assert_eq!(pick(text("93.184.216.30")), vec![0], "DNS answers");
    assert_eq!(pick(text("h2")), vec![4], "ALPN and JA4");
    assert_eq!(pick(text("backup")), vec![1, 5], "names");

    // A transaction is a point in time: the range holds it or not.
    let range = |from: u64, to: u64| Query {
        from: Some(ts(T0 + from, 0)),
        to: Some(ts(T0 + to, 0)),
        ..q()
    };
    assert_eq!(pick(range(10, 41)), vec![1, 2, 3, 4]);
    assert_eq!(pick(range(1, 9)), Vec::<usize>::new());
    assert_eq!(
        pick(Query {
            from: Some(ts(T0 + 20, 250_000_002)),
            to: Some(ts(T0 + 20, 250_000_002)),
            ..q()
        }),
        vec![2]
    );
    // Filters combine.
    assert_eq!(
        pick(Query {
            kind: Some("dns".into()),
            ip: Some(parse_ip_filter("10.0.0.0/8").unwrap()),
            ..range(0, 100)
        }),
        vec![0, 6]
    );

    // Sorting on kind-specific columns, and paging.
    let sorted = |sort: &str, descending: bool, query: Query| -> Vec<usize> {
        pick(Query {
            sort: Some(sort.to_string()),
            descending,
            ..query
        })
    };
    assert_eq!(sorted("http_status", true, kind("http")), vec![3, 2]);
    assert_eq!(sorted("dns_latency_ms", true, kind("dns")), vec![6, 1, 0]);
    assert_eq!(sorted("ts", true, kind("tls")), vec![5, 4]);
    assert_eq!(sorted("src_ip", false, kind("http")), vec![2, 3]);
    let page = store
        .transactions(&Query {
            limit: 2,
            offset: 2,
            ..q()
        })
        .unwrap();
    assert_eq!((page.total, page.rows.len()), (7, 2));
    assert_eq!(page.rows, expected[2..4].to_vec());
    bad_query(
        store.transactions(&Query {
            sort: Some("bytes".into()),
            ..q()
        }),
        "transactions cannot be sorted by \"bytes\"; use one of: ts, kind",
    );
}
