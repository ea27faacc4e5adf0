//! Application classification through the flow table, on hand-built payloads.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use proptest::prelude::*;
use wirewatch_core::proto::tcp_flags::{ACK, PSH, SYN};
use wirewatch_core::{AppProto, AppSource, FlowRecord, NameSource, Timestamp};
use wirewatch_decode::Packet;
use wirewatch_flow::{FlowConfig, FlowTable, MAX_INSPECTED_PAYLOADS};

mod common;
use common::{ip, tcp, udp};

fn ts(ms: u64) -> Timestamp {
    Timestamp(ms * 1_000_000)
}

/// A TLS extension: type, length, body.
fn ext(kind: u16, body: &[u8]) -> Vec<u8> {
    let mut e = kind.to_be_bytes().to_vec();
    e.extend_from_slice(&(body.len() as u16).to_be_bytes());
    e.extend_from_slice(body);
    e
}

/// A handshake record around a handshake message of type `hs`.
fn record(hs: u8, body: &[u8]) -> Vec<u8> {
    let mut msg = vec![hs, 0, 0, 0];
    msg[1..4].copy_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend_from_slice(body);
    let mut r = vec![0x16, 0x03, 0x01];
    r.extend_from_slice(&(msg.len() as u16).to_be_bytes());
    r.extend_from_slice(&msg);
    r
}

fn client_hello(sni: &[u8], alpn: &[u8]) -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(&[7; 32]); // random
    b.push(0); // session id
    b.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02]); // ciphers
    b.extend_from_slice(&[1, 0]); // compression
    let mut name = vec![0];
    name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    name.extend_from_slice(sni);
    let mut list = (name.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&name);
    let mut protos = vec![alpn.len() as u8];
    protos.extend_from_slice(alpn);
    let mut alpn_list = (protos.len() as u16).to_be_bytes().to_vec();
    alpn_list.extend_from_slice(&protos);
    let exts = [
        ext(0, &list),
        ext(16, &alpn_list),
        ext(43, &[2, 0x03, 0x04]),
    ]
    .concat();
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    record(1, &b)
}

fn server_hello() -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(&[9; 32]);
    b.push(0);
    b.extend_from_slice(&[0x13, 0x01, 0]);
    let exts = ext(43, &[0x03, 0x04]);
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    record(2, &b)
}

/// A DNS message: one question for `name` (type A), and an A answer with `answer` if given.
fn dns(id: u16, name: &str, answer: Option<[u8; 4]>, rcode: u8) -> Vec<u8> {
    let flags: u16 = if answer.is_some() || rcode != 0 {
        0x8180 | u16::from(rcode)
    } else {
        0x0100
    };
    let mut m = id.to_be_bytes().to_vec();
    m.extend_from_slice(&flags.to_be_bytes());
    m.extend_from_slice(&[0, 1, 0, u8::from(answer.is_some()), 0, 0, 0, 0]);
    for label in name.split('.') {
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    m.extend_from_slice(&[0, 0, 1, 0, 1]);
    if let Some(a) = answer {
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
        m.extend_from_slice(&a);
    }
    m
}

fn feed(t: &mut FlowTable, p: &Packet, payload: &[u8], ms: u64) -> AppProto {
    t.ingest_with_payload(p, payload, 60 + payload.len() as u32, ts(ms))
        .expect("the packet belongs to a flow")
        .app
}

fn finish(t: &mut FlowTable) -> Vec<FlowRecord> {
    t.finish_all();
    t.drain_finished().collect()
}

#[test]
fn tls_handshake_names_the_flow_and_upgrades_the_port_guess() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, s) = ("10.0.0.1", "192.0.2.10");
    assert_eq!(
        feed(&mut t, &tcp(c, 40000, s, 443, SYN, 0), &[], 0),
        AppProto::Tls
    );
    feed(&mut t, &tcp(s, 443, c, 40000, SYN | ACK, 0), &[], 1);
    let ch = client_hello(b"www.example.org", b"h2");
    feed(&mut t, &tcp(c, 40000, s, 443, ACK | PSH, ch.len()), &ch, 2);
    let sh = server_hello();
    feed(&mut t, &tcp(s, 443, c, 40000, ACK | PSH, sh.len()), &sh, 3);
    let flows = finish(&mut t);
    assert_eq!(flows.len(), 1);
    let f = &flows[0];
    assert_eq!(
        (f.app.proto, f.app.source),
        (AppProto::Tls, AppSource::Payload)
    );
    let d = f.details.as_ref().expect("details");
    assert_eq!(d.server_name.as_deref(), Some("www.example.org"));
    assert_eq!(d.server_name_source, Some(NameSource::TlsSni));
    let tls = d.tls.as_ref().expect("tls summary");
    assert_eq!(tls.version.as_deref(), Some("TLSv1.3"));
    assert_eq!(tls.alpn, vec!["h2".to_string()]);
    assert_eq!(tls.cipher, Some(0x1301));
    assert_eq!(tls.ja4_a.as_deref(), Some("t13d0203h2"));
}

/// A client segment with sequence number `seq` carrying `payload`.
fn client_segment(seq: u32, payload: &[u8]) -> Packet {
    let mut p = tcp(
        "10.0.0.1",
        40000,
        "192.0.2.10",
        443,
        ACK | PSH,
        payload.len(),
    );
    if let wirewatch_decode::Transport::Tcp(t) = &mut p.transport {
        t.seq = seq;
    }
    p
}

/// A hello whose server name sits past the first segment (a long extension first, as a
/// post-quantum key share makes it), fed in `cuts`-sized segments in the order `order`, then
/// (optionally) the server's hello: the server names and JA4s the flow's transactions carry.
fn split_hello(cuts: usize, order: &[usize], server_reply: bool) -> Vec<(Option<String>, bool)> {
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, s) = ("10.0.0.1", "192.0.2.10");
    feed(&mut t, &tcp(c, 40000, s, 443, SYN, 0), &[], 0);
    feed(&mut t, &tcp(s, 443, c, 40000, SYN | ACK, 0), &[], 1);
    let ch = long_client_hello(b"split.example.org");
    let segments: Vec<&[u8]> = ch.chunks(ch.len().div_ceil(cuts)).collect();
    let offsets: Vec<u32> = segments
        .iter()
        .scan(1000u32, |at, s| {
            let here = *at;
            *at += s.len() as u32;
            Some(here)
        })
        .collect();
    for (i, &k) in order.iter().enumerate() {
        let p = client_segment(offsets[k], segments[k]);
        feed(&mut t, &p, segments[k], 2 + i as u64);
    }
    if server_reply {
        let sh = server_hello();
        feed(&mut t, &tcp(s, 443, c, 40000, ACK | PSH, sh.len()), &sh, 20);
    }
    t.finish_all();
    let _ = t.drain_finished().count();
    t.drain_transactions()
        .filter_map(|tx| match tx.details {
            wirewatch_core::TransactionDetails::Tls(tls) => Some((tls.sni, tls.ja4.is_some())),
            _ => None,
        })
        .collect()
}

/// A client hello of about 2,500 bytes: a 2,000-byte extension, then the server name.
fn long_client_hello(sni: &[u8]) -> Vec<u8> {
    let mut b = vec![0x03, 0x03];
    b.extend_from_slice(&[7; 32]);
    b.push(0);
    b.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0]);
    let mut name = vec![0];
    name.extend_from_slice(&(sni.len() as u16).to_be_bytes());
    name.extend_from_slice(sni);
    let mut list = (name.len() as u16).to_be_bytes().to_vec();
    list.extend_from_slice(&name);
    let exts = [ext(51, &[0x11; 2000]), ext(0, &list), ext(43, &[2, 3, 4])].concat();
    b.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    b.extend_from_slice(&exts);
    record(1, &b)
}

#[test]
fn a_client_hello_split_over_segments_is_read_whole() {
    let whole = Some("split.example.org".to_string());
    // In order, in two or five segments: one transaction, with the name and the whole JA4.
    assert_eq!(split_hello(2, &[0, 1], true), vec![(whole.clone(), true)]);
    assert_eq!(
        split_hello(5, &[0, 1, 2, 3, 4], true),
        vec![(whole.clone(), true)]
    );
    // A retransmitted segment is skipped.
    assert_eq!(split_hello(3, &[0, 1, 1, 2], true), vec![(whole, true)]);
    // A gap: what arrived is parsed (the name lies in the missing part), once.
    assert_eq!(split_hello(3, &[0, 2], true), vec![(None, false)]);
    // The flow ends before the rest arrives: parsed as far as it came, once.
    assert_eq!(split_hello(2, &[0], false), vec![(None, false)]);
}

#[test]
fn a_syn_only_flow_keeps_its_port_guess_and_unknown_ports_stay_unknown() {
    let mut t = FlowTable::new(&FlowConfig::default());
    feed(
        &mut t,
        &tcp("10.0.0.1", 40000, "10.0.0.2", 22, SYN, 0),
        &[],
        0,
    );
    feed(
        &mut t,
        &tcp("10.0.0.1", 40001, "10.0.0.2", 41000, SYN, 0),
        &[],
        0,
    );
    let flows = finish(&mut t);
    let ssh = flows.iter().find(|f| f.dst_port == 22).unwrap();
    assert_eq!(
        (ssh.app.proto, ssh.app.source),
        (AppProto::Ssh, AppSource::Port)
    );
    assert!(ssh.details.is_none());
    let other = flows.iter().find(|f| f.dst_port == 41000).unwrap();
    assert_eq!(other.app.source, AppSource::None);
    assert_eq!(other.app.proto, AppProto::Unknown);
}

#[test]
fn tls_on_the_imaps_port_stays_imaps_confirmed_by_the_payload() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let ch = client_hello(b"mail.example.org", b"imap");
    feed(
        &mut t,
        &tcp("10.0.0.1", 40000, "192.0.2.1", 993, ACK, ch.len()),
        &ch,
        0,
    );
    let f = &finish(&mut t)[0];
    assert_eq!(
        (f.app.proto, f.app.source),
        (AppProto::Imaps, AppSource::Payload)
    );
    assert_eq!(f.server_name(), Some("mail.example.org"));
}

#[test]
fn http_on_any_port_with_host_agent_and_status() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, s) = ("10.0.0.1", "192.0.2.7");
    let req = b"GET /index.html?q=1 HTTP/1.1\r\nHost: intranet.example:8081\r\nUser-Agent: curl/8.5.0\r\n\r\n";
    let app = feed(
        &mut t,
        &tcp(c, 40000, s, 8081, ACK | PSH, req.len()),
        req,
        0,
    );
    assert_eq!(
        app,
        AppProto::Http,
        "the packet that names the flow counts as HTTP"
    );
    let resp = b"HTTP/1.1 404 Not Found\r\nServer: test\r\nContent-Length: 0\r\n\r\n";
    feed(
        &mut t,
        &tcp(s, 8081, c, 40000, ACK | PSH, resp.len()),
        resp,
        1,
    );
    let f = &finish(&mut t)[0];
    assert_eq!(
        (f.app.proto, f.app.source),
        (AppProto::Http, AppSource::Payload)
    );
    let d = f.details.as_ref().unwrap();
    let h = d.http.as_ref().unwrap();
    assert_eq!(h.method.as_deref(), Some("GET"));
    assert_eq!(h.path.as_deref(), Some("/index.html?q=1"));
    assert_eq!(h.host.as_deref(), Some("intranet.example:8081"));
    assert_eq!(h.user_agent.as_deref(), Some("curl/8.5.0"));
    assert_eq!(h.status, Some(404));
    assert_eq!(
        d.server_name.as_deref(),
        Some("intranet.example"),
        "the port is not part of the name"
    );
    assert_eq!(d.server_name_source, Some(NameSource::HttpHost));
}

#[test]
fn ssh_banners_of_both_sides() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, s) = ("10.0.0.1", "192.0.2.22");
    let sb = b"SSH-2.0-OpenSSH_9.2p1 Debian-2\r\n";
    feed(&mut t, &tcp(s, 2222, c, 40000, ACK | PSH, sb.len()), sb, 0);
    let cb = b"SSH-2.0-libssh_0.10.6\r\n";
    feed(&mut t, &tcp(c, 40000, s, 2222, ACK | PSH, cb.len()), cb, 1);
    let f = &finish(&mut t)[0];
    assert_eq!(
        (f.app.proto, f.app.source),
        (AppProto::Ssh, AppSource::Payload)
    );
    let ssh = f.details.as_ref().unwrap().ssh.as_ref().unwrap();
    // Picked up mid-stream, the server spoke first: the table took it as the initiator.
    let mut both = [ssh.client.clone(), ssh.server.clone()];
    both.sort();
    assert_eq!(
        both,
        [
            Some("OpenSSH_9.2p1".to_string()),
            Some("libssh_0.10.6".to_string())
        ]
    );
}

#[test]
fn dns_answers_name_later_flows_and_talkers() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, r) = ("10.0.0.1", "10.0.0.53");
    let q = dns(7, "files.example.net", None, 0);
    feed(&mut t, &udp(c, 50000, r, 53, q.len()), &q, 0);
    let msg = t
        .take_dns()
        .expect("the query is handed out for the detectors");
    assert!(!msg.response);
    let a = dns(7, "files.example.net", Some([198, 51, 100, 9]), 0);
    feed(&mut t, &udp(r, 53, c, 50000, a.len()), &a, 1);
    assert!(t.take_dns().is_some_and(|m| m.response));
    assert_eq!(t.host_name(ip("198.51.100.9")), Some("files.example.net"));
    let nx = dns(8, "nope.example.net", None, 3);
    feed(&mut t, &udp(r, 53, c, 50001, nx.len()), &nx, 2);
    // A connection to the resolved address without SNI gets the learned name.
    feed(&mut t, &tcp(c, 40000, "198.51.100.9", 8443, SYN, 0), &[], 3);
    assert!(t.take_dns().is_none(), "a non-DNS packet clears the slot");
    let flows = finish(&mut t);
    let d = flows.iter().find(|f| f.dst_port == 8443).unwrap();
    let details = d.details.as_ref().unwrap();
    assert_eq!(details.server_name.as_deref(), Some("files.example.net"));
    assert_eq!(details.server_name_source, Some(NameSource::PassiveDns));
    let q = flows
        .iter()
        .find(|f| f.src_port == 50000 || f.dst_port == 50000)
        .unwrap();
    assert_eq!(
        (q.app.proto, q.app.source),
        (AppProto::Dns, AppSource::Payload)
    );
    let qd = q.details.as_ref().unwrap();
    assert_eq!(qd.dns_queries, vec!["files.example.net".to_string()]);
    assert_eq!(qd.dns_rcodes.get("NOERROR"), Some(&1));
    assert_eq!(qd.server_name_source, Some(NameSource::DnsQuery));
    let nxf = flows
        .iter()
        .find(|f| f.src_port == 50001 || f.dst_port == 50001)
        .unwrap();
    assert_eq!(
        nxf.details.as_ref().unwrap().dns_rcodes.get("NXDOMAIN"),
        Some(&1)
    );
    assert_eq!(t.stats().host_names, 1);
}

#[test]
fn only_the_first_payloads_are_inspected() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let junk = [0xabu8; 40];
    for i in 0..u64::from(MAX_INSPECTED_PAYLOADS) {
        feed(
            &mut t,
            &tcp("10.0.0.1", 40000, "192.0.2.1", 9000, ACK, junk.len()),
            &junk,
            i,
        );
    }
    let ch = client_hello(b"late.example", b"h2");
    feed(
        &mut t,
        &tcp("10.0.0.1", 40000, "192.0.2.1", 9000, ACK, ch.len()),
        &ch,
        99,
    );
    let f = &finish(&mut t)[0];
    assert_eq!(
        f.app.source,
        AppSource::None,
        "a hello after the cap is not looked at"
    );
    assert!(f.details.is_none());
}

#[test]
fn hostile_names_come_out_escaped() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let ch = client_hello(b"<script>\x1b[31m", b"h2");
    feed(
        &mut t,
        &tcp("10.0.0.1", 40000, "192.0.2.1", 443, ACK, ch.len()),
        &ch,
        0,
    );
    let f = &finish(&mut t)[0];
    assert_eq!(f.server_name(), Some("<script>\\x1b[31m"));
}

#[test]
fn without_app_decoding_flows_carry_only_the_port_guess() {
    let config = FlowConfig {
        app_decoding: false,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(&config);
    let a = dns(7, "files.example.net", Some([198, 51, 100, 9]), 0);
    feed(
        &mut t,
        &udp("10.0.0.53", 53, "10.0.0.1", 50000, a.len()),
        &a,
        0,
    );
    assert!(t.take_dns().is_none());
    assert_eq!(t.host_name(ip("198.51.100.9")), None);
    let f = &finish(&mut t)[0];
    assert_eq!(
        (f.app.proto, f.app.source),
        (AppProto::Dns, AppSource::Port)
    );
    assert!(f.details.is_none());
}

proptest! {
    #[test]
    fn random_payloads_on_any_port_never_panic(
        payloads in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..400), 1..12),
        ports in (any::<u16>(), prop_oneof![Just(53u16), Just(443), Just(80), Just(22), Just(5353), any::<u16>()]),
        udp_flow in any::<bool>(),
    ) {
        let mut t = FlowTable::new(&FlowConfig::default());
        for (i, p) in payloads.iter().enumerate() {
            let (a, b) = if i % 2 == 0 { ("10.0.0.1", "10.0.0.2") } else { ("10.0.0.2", "10.0.0.1") };
            let (sp, dp) = if i % 2 == 0 { ports } else { (ports.1, ports.0) };
            let pkt = if udp_flow { udp(a, sp, b, dp, p.len()) } else { tcp(a, sp, b, dp, ACK, p.len()) };
            t.ingest_with_payload(&pkt, p, 100, ts(i as u64));
            let _ = t.take_dns();
        }
        let flows = finish(&mut t);
        prop_assert_eq!(flows.len(), 1);
        if let Some(d) = &flows[0].details {
            prop_assert!(d.dns_queries.len() <= wirewatch_core::app::MAX_DNS_QUERIES_PER_FLOW);
            for name in d.server_name.iter().chain(d.dns_queries.iter()) {
                prop_assert!(name.bytes().all(|b| (0x20..0x7f).contains(&b)));
            }
        }
    }
}
