//! Flow table behaviour on hand-made packets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use proptest::prelude::*;
use wirewatch_core::proto::tcp_flags::{ACK, FIN, PSH, RST, SYN};
use wirewatch_core::{EndReason, FlowRecord, TcpState, Timestamp};
use wirewatch_decode::{Fragment, IcmpInfo, Network, Packet, Transport};
use wirewatch_flow::{FlowConfig, FlowTable};

mod common;
use common::ip;

const SEC: u64 = 1_000_000_000;

fn tcp(src: &str, sp: u16, dst: &str, dp: u16, flags: u8) -> Packet {
    common::tcp(src, sp, dst, dp, flags, 10)
}

fn udp(src: &str, sp: u16, dst: &str, dp: u16) -> Packet {
    common::udp(src, sp, dst, dp, 12)
}

fn icmp(src: &str, dst: &str, icmp_type: u8, id: u16) -> Packet {
    Packet {
        class: wirewatch_core::ProtoClass::Icmp,
        network: Network::Ipv4,
        has_src: true,
        has_dst: true,
        src: ip(src),
        dst: ip(dst),
        ip_proto: 1,
        transport: Transport::Icmp(IcmpInfo {
            icmp_type,
            code: 0,
            echo: Some((id, 1)),
        }),
        ..Packet::default()
    }
}

fn ts(s: u64) -> Timestamp {
    Timestamp(s * SEC)
}

fn finished(t: &mut FlowTable) -> Vec<FlowRecord> {
    t.drain_finished().collect()
}

#[test]
fn handshake_data_fin_close_and_linger() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let c = "10.0.0.1";
    let s = "10.0.0.2";
    let first = t.ingest(&tcp(c, 40000, s, 80, SYN), 74, ts(1)).unwrap();
    assert!(first.new_flow && first.forward);
    let synack = t
        .ingest(&tcp(s, 80, c, 40000, SYN | ACK), 74, ts(1))
        .unwrap();
    assert!(!synack.new_flow && !synack.forward);
    assert_eq!(t.live_records(1)[0].state, TcpState::Handshake);
    assert!(synack.first_reply && !synack.handshake_completed);
    let ack = t.ingest(&tcp(c, 40000, s, 80, ACK), 66, ts(1)).unwrap();
    assert!(ack.handshake_completed && !ack.first_reply);
    assert_eq!(t.live_records(1)[0].state, TcpState::Established);
    let data = t
        .ingest(&tcp(c, 40000, s, 80, ACK | PSH), 100, ts(2))
        .unwrap();
    assert!(!data.handshake_completed, "once per connection");
    t.ingest(&tcp(s, 80, c, 40000, FIN | ACK), 66, ts(3));
    assert_eq!(t.live_records(1)[0].state, TcpState::Closing);
    t.ingest(&tcp(c, 40000, s, 80, FIN | ACK), 66, ts(3));
    t.ingest(&tcp(s, 80, c, 40000, ACK), 66, ts(3));
    assert_eq!(t.live_records(1)[0].state, TcpState::Closed);
    // Still lingering 5 s later, gone after the 10 s linger.
    assert_eq!(t.expire(ts(8)), 0);
    assert_eq!(t.expire(ts(13)), 1);
    let recs = finished(&mut t);
    assert_eq!(recs.len(), 1);
    let r = &recs[0];
    assert_eq!(
        (r.src_ip, r.src_port, r.dst_ip, r.dst_port),
        (ip(c), 40000, ip(s), 80)
    );
    assert_eq!((r.fwd.packets, r.fwd.bytes), (4, 74 + 66 + 100 + 66));
    assert_eq!((r.rev.packets, r.rev.bytes), (3, 74 + 66 + 66));
    assert_eq!(r.fwd.payload_bytes, 40);
    assert_eq!(r.fwd.tcp_flags, SYN | ACK | PSH | FIN);
    assert_eq!(r.end_reason, EndReason::Fin);
    assert_eq!((r.first_ts, r.last_ts), (ts(1), ts(3)));
    assert!(t.is_empty());
}

#[test]
fn a_handshake_completes_in_a_one_directional_capture_and_never_by_reset() {
    let mut t = FlowTable::new(&FlowConfig::default());
    // Inbound only: the client's SYN, then its ACK and data; the SYN-ACK went another way.
    t.ingest(&tcp("10.0.0.1", 40000, "10.0.0.2", 443, SYN), 74, ts(1));
    let ack = t
        .ingest(&tcp("10.0.0.1", 40000, "10.0.0.2", 443, ACK), 66, ts(1))
        .unwrap();
    assert!(ack.handshake_completed);
    let more = t
        .ingest(
            &tcp("10.0.0.1", 40000, "10.0.0.2", 443, ACK | PSH),
            200,
            ts(1),
        )
        .unwrap();
    assert!(!more.handshake_completed);
    // A SYN flood's client resets the SYN-ACK (SYN cookies): nothing completes.
    t.ingest(&tcp("10.0.0.9", 1234, "10.0.0.2", 80, SYN), 60, ts(2));
    t.ingest(&tcp("10.0.0.2", 80, "10.0.0.9", 1234, SYN | ACK), 60, ts(2));
    let rst = t
        .ingest(&tcp("10.0.0.9", 1234, "10.0.0.2", 80, RST), 60, ts(2))
        .unwrap();
    assert!(!rst.handshake_completed);
}

#[test]
fn synack_first_makes_its_receiver_the_initiator() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let r = t
        .ingest(
            &tcp("10.0.0.9", 443, "10.0.0.1", 50000, SYN | ACK),
            60,
            ts(1),
        )
        .unwrap();
    assert!(r.new_flow && !r.forward);
    t.finish_all();
    let rec = &finished(&mut t)[0];
    assert_eq!((rec.src_ip, rec.src_port), (ip("10.0.0.1"), 50000));
    assert_eq!(rec.rev.packets, 1);
    assert_eq!(rec.end_reason, EndReason::EndOfCapture);
}

#[test]
fn midstream_pickup_is_established_and_reset_ends() {
    let mut t = FlowTable::new(&FlowConfig::default());
    t.ingest(&tcp("10.0.0.1", 1, "10.0.0.2", 2, ACK), 60, ts(1));
    assert_eq!(t.live_records(1)[0].state, TcpState::Established);
    t.ingest(&tcp("10.0.0.2", 2, "10.0.0.1", 1, RST | ACK), 60, ts(2));
    assert_eq!(t.live_records(1)[0].state, TcpState::Reset);
    t.finish_all();
    assert_eq!(finished(&mut t)[0].end_reason, EndReason::Rst);
}

#[test]
fn syn_on_a_closed_connection_starts_a_new_flow() {
    let mut t = FlowTable::new(&FlowConfig::default());
    t.ingest(&tcp("10.0.0.1", 1000, "10.0.0.2", 22, SYN), 60, ts(1));
    t.ingest(&tcp("10.0.0.2", 22, "10.0.0.1", 1000, RST | ACK), 60, ts(1));
    let again = t
        .ingest(&tcp("10.0.0.1", 1000, "10.0.0.2", 22, SYN), 60, ts(2))
        .unwrap();
    assert!(again.new_flow);
    let recs = finished(&mut t);
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].end_reason, EndReason::PortReuse);
    assert_eq!(t.len(), 1);
}

#[test]
fn idle_timeouts_depend_on_protocol_and_state() {
    let mut t = FlowTable::new(&FlowConfig::default());
    t.ingest(&udp("10.0.0.1", 5353, "10.0.0.2", 53), 80, ts(0));
    t.ingest(&tcp("10.0.0.1", 3, "10.0.0.3", 80, SYN), 60, ts(0));
    t.ingest(&tcp("10.0.0.1", 4, "10.0.0.3", 80, ACK), 60, ts(0));
    t.ingest(&icmp("10.0.0.1", "10.0.0.4", 8, 7), 98, ts(0));
    // Expire once per second of packet time, as the engine does, and note when each ends.
    let mut ended = Vec::new();
    for s in 1..=400 {
        t.expire(ts(s));
        for r in t.drain_finished() {
            assert_eq!(r.end_reason, EndReason::IdleTimeout);
            ended.push((r.src_port, s));
        }
    }
    // Never early, and at most an eighth of the shortest timeout (30 s) late.
    let late = 30 / 8 + 1;
    let when = |port: u16| ended.iter().find(|(p, _)| *p == port).unwrap().1;
    for (port, timeout, what) in [
        (3, 30, "TCP handshake"),
        (7, 30, "ICMP"),
        (5353, 60, "UDP"),
        (4, 300, "TCP established"),
    ] {
        let at = when(port);
        assert!(
            (timeout..=timeout + late).contains(&at),
            "{what} ended at {at} s, timeout {timeout} s"
        );
    }
    assert!(t.is_empty());
}

#[test]
fn closed_connections_linger_then_end_on_time() {
    let mut t = FlowTable::new(&FlowConfig::default());
    t.ingest(&tcp("10.0.0.1", 9, "10.0.0.2", 80, SYN), 60, ts(0));
    t.ingest(&tcp("10.0.0.2", 80, "10.0.0.1", 9, RST | ACK), 60, ts(0));
    // A late packet on the reset connection pushes its end back.
    t.ingest(&tcp("10.0.0.1", 9, "10.0.0.2", 80, ACK), 60, ts(5));
    assert_eq!(t.expire(ts(10)), 0);
    assert_eq!(t.expire(ts(14)), 0);
    assert_eq!(t.expire(ts(15)), 1);
    let r = t.drain_finished().next().unwrap();
    assert_eq!(
        (r.end_reason, r.state, r.fwd.packets),
        (EndReason::Rst, TcpState::Reset, 2)
    );
}

#[test]
fn active_timeout_restarts_long_flows() {
    let cfg = FlowConfig {
        active_timeout_secs: 10,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(&cfg);
    for s in 0..25 {
        t.ingest(&udp("10.0.0.1", 1, "10.0.0.2", 2), 100, ts(s));
    }
    let recs = finished(&mut t);
    assert_eq!(recs.len(), 2);
    assert!(
        recs.iter()
            .all(|r| r.end_reason == EndReason::ActiveTimeout)
    );
    assert_eq!(recs[0].fwd.packets, 10);
    assert_eq!(t.stats().created, 3);
}

#[test]
fn cap_evicts_the_least_recently_active_flow() {
    let cfg = FlowConfig {
        max_flows: 3,
        ..FlowConfig::default()
    };
    let mut t = FlowTable::new(&cfg);
    for port in 1..=3 {
        t.ingest(
            &udp("10.0.0.1", port, "10.0.0.2", 53),
            60,
            ts(u64::from(port)),
        );
    }
    // Touch flow 1 so flow 2 becomes the oldest.
    t.ingest(&udp("10.0.0.2", 53, "10.0.0.1", 1), 60, ts(4));
    t.ingest(&udp("10.0.0.1", 9, "10.0.0.2", 53), 60, ts(5));
    assert_eq!(t.len(), 3);
    let recs = finished(&mut t);
    assert_eq!(recs.len(), 1);
    assert_eq!(
        (recs[0].src_port, recs[0].end_reason),
        (2, EndReason::Evicted)
    );
    assert_eq!(t.stats().evicted, 1);
}

#[test]
fn icmp_echo_request_and_reply_share_a_flow() {
    let mut t = FlowTable::new(&FlowConfig::default());
    t.ingest(&icmp("10.0.0.1", "10.0.0.2", 8, 77), 98, ts(1));
    let reply = t
        .ingest(&icmp("10.0.0.2", "10.0.0.1", 0, 77), 98, ts(1))
        .unwrap();
    assert!(!reply.new_flow && !reply.forward);
    t.ingest(&icmp("10.0.0.1", "10.0.0.2", 8, 78), 98, ts(2));
    assert_eq!(t.len(), 2);
}

#[test]
fn later_fragments_join_the_first_fragments_flow() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let mut first = udp("10.0.0.1", 5000, "10.0.0.2", 53);
    first.fragment = Some(Fragment {
        id: 99,
        offset: 0,
        more: true,
    });
    let mut second = Packet {
        transport: Transport::None,
        fragment: Some(Fragment {
            id: 99,
            offset: 1480,
            more: false,
        }),
        ..first
    };
    t.ingest(&first, 1514, ts(1));
    let r = t.ingest(&second, 200, ts(1)).unwrap();
    assert!(!r.new_flow);
    // An orphan fragment (first never seen) gets a portless flow of its own.
    second.fragment = Some(Fragment {
        id: 100,
        offset: 8,
        more: false,
    });
    assert!(t.ingest(&second, 200, ts(1)).unwrap().new_flow);
    t.finish_all();
    let recs = finished(&mut t);
    assert_eq!(recs.iter().map(|r| r.packets()).sum::<u64>(), 3);
    assert!(
        recs.iter()
            .any(|r| r.src_port == 5000 && r.fwd.packets == 2)
    );
}

#[test]
fn packets_without_a_flow() {
    let mut t = FlowTable::new(&FlowConfig::default());
    assert!(t.ingest(&Packet::default(), 60, ts(1)).is_none());
    let mut cut = tcp("10.0.0.1", 1, "10.0.0.2", 2, SYN);
    cut.transport = Transport::None;
    assert!(
        t.ingest(&cut, 60, ts(1)).is_none(),
        "TCP without its header"
    );
    let mut gre = cut;
    gre.ip_proto = 47;
    assert!(
        t.ingest(&gre, 60, ts(1)).is_some(),
        "other IP protocols are flows"
    );
}

#[test]
fn epochs_mark_the_first_packet_per_interval() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let p = udp("10.0.0.1", 1, "10.0.0.2", 2);
    assert!(t.ingest(&p, 60, ts(1)).unwrap().first_in_epoch);
    assert!(!t.ingest(&p, 60, ts(1)).unwrap().first_in_epoch);
    t.next_epoch();
    assert!(t.ingest(&p, 60, ts(2)).unwrap().first_in_epoch);
}

proptest! {
    #[test]
    fn every_packet_is_counted_once_and_the_cap_holds(
        pkts in proptest::collection::vec((0u8..6, 0u16..4, 0u16..4, 0u8..32, 0u64..100), 1..300),
        cap in 1usize..20,
    ) {
        let cfg = FlowConfig { max_flows: cap, active_timeout_secs: 50, ..FlowConfig::default() };
        let mut t = FlowTable::new(&cfg);
        let mut counted = 0u64;
        let mut now = 0u64;
        for (host, sp, dp, flags, dt) in pkts {
            now += dt;
            let src = format!("10.0.0.{host}");
            let p = if flags % 3 == 0 { udp(&src, sp, "10.0.0.200", dp) } else { tcp(&src, sp, "10.0.0.200", dp, flags) };
            if t.ingest(&p, 100, Timestamp(now * SEC / 10)).is_some() { counted += 1; }
            prop_assert!(t.len() <= cap);
            if now.is_multiple_of(7) { t.expire(Timestamp(now * SEC / 10)); }
        }
        t.finish_all();
        let recs: Vec<_> = t.drain_finished().collect();
        prop_assert_eq!(recs.iter().map(|r| r.packets()).sum::<u64>(), counted);
        prop_assert_eq!(recs.iter().map(|r| r.bytes()).sum::<u64>(), counted * 100);
        prop_assert_eq!(t.stats().finished, recs.len() as u64);
    }
}

#[test]
fn top_live_picks_the_flows_with_the_most_bytes() {
    let mut t = FlowTable::new(&FlowConfig::default());
    for (i, bytes) in [(1u16, 300u32), (2, 900), (3, 100), (4, 700), (5, 500)] {
        t.ingest(&udp("10.0.0.1", i, "10.0.0.2", 53), bytes, ts(1));
    }
    let top = t.top_live(2);
    let got: Vec<(u16, u64)> = top.iter().map(|f| (f.src_port, f.bytes())).collect();
    assert_eq!(got, vec![(2, 900), (4, 700)]);
    assert_eq!(t.top_live(0).len(), 0);
    assert_eq!(t.top_live(10).len(), 5);
    assert_eq!(t.len(), 5, "looking does not end flows");
}

#[test]
fn live_tcp_lists_the_recent_tcp_connections_without_ending_them() {
    let mut t = FlowTable::new(&FlowConfig::default());
    t.ingest(&tcp("10.0.0.1", 1000, "10.0.0.9", 80, SYN), 60, ts(1));
    t.ingest(&udp("10.0.0.1", 1001, "10.0.0.9", 53), 60, ts(20));
    // Answered by the server: the client is still the source.
    t.ingest(
        &tcp("10.0.0.9", 443, "10.0.0.2", 2000, SYN | ACK),
        60,
        ts(30),
    );
    t.ingest(&tcp("10.0.0.3", 3000, "10.0.0.9", 22, SYN), 60, ts(40));
    let since = |s| {
        t.live_tcp(ts(s))
            .map(|c| (c.src.to_string(), c.dst.to_string(), c.last_ts))
            .collect::<Vec<_>>()
    };
    assert_eq!(
        since(30),
        [
            ("10.0.0.3".into(), "10.0.0.9".into(), ts(40)),
            ("10.0.0.2".into(), "10.0.0.9".into(), ts(30)),
        ],
        "most recently active first, UDP and older ones left out"
    );
    assert_eq!(since(0).len(), 3);
    let c = t.live_tcp(ts(40)).next().unwrap();
    let record = t.live_record(&c.key).unwrap();
    assert_eq!((record.src_port, record.dst_port), (3000, 22));
    assert_eq!(record.tcp_health, Some(c.health));
    assert_eq!(t.len(), 4, "looking does not end flows");
}

/// A TCP segment with sequence and ACK numbers and `len` bytes of payload.
#[allow(clippy::too_many_arguments)] // a segment's fields, spelled out
fn seg(src: &str, sp: u16, dst: &str, dp: u16, flags: u8, seq: u32, ack: u32, len: u32) -> Packet {
    let mut p = common::tcp(src, sp, dst, dp, flags, 0);
    if let Transport::Tcp(t) = &mut p.transport {
        t.seq = seq;
        t.ack = ack;
    }
    p.payload_len = len;
    p
}

#[test]
fn tcp_flows_report_their_health_and_others_none() {
    let ms = |m: u64| Timestamp(SEC + m * 1_000_000);
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, s) = ("10.0.0.1", "10.0.0.2");
    t.ingest(&seg(c, 40000, s, 80, SYN, 100, 0, 0), 74, ms(0));
    t.ingest(&seg(s, 80, c, 40000, SYN | ACK, 700, 101, 0), 74, ms(20));
    let ack = t
        .ingest(&seg(c, 40000, s, 80, ACK, 101, 701, 0), 66, ms(25))
        .unwrap();
    assert_eq!(ack.tcp.handshake_rtt_ns, Some(25_000_000));
    t.ingest(&seg(c, 40000, s, 80, ACK, 101, 701, 50), 116, ms(30));
    let again = t
        .ingest(&seg(c, 40000, s, 80, ACK, 101, 701, 50), 116, ms(500))
        .unwrap();
    assert!(
        again
            .tcp
            .has(wirewatch_flow::tcp_health::marks::RETRANSMISSION)
    );
    t.ingest(&udp(c, 5000, s, 53), 60, ms(40));
    t.finish_all();
    let recs = finished(&mut t);
    let tcp_rec = recs.iter().find(|r| r.ip_proto == 6).unwrap();
    let h = tcp_rec.tcp_health.unwrap();
    assert_eq!(h.handshake_rtt_ns, Some(25_000_000));
    assert_eq!(h.retransmissions, 1);
    let udp_rec = recs.iter().find(|r| r.ip_proto == 17).unwrap();
    assert_eq!(udp_rec.tcp_health, None);
}

#[test]
fn a_reused_port_starts_a_fresh_analysis() {
    let mut t = FlowTable::new(&FlowConfig::default());
    let (c, s) = ("10.0.0.1", "10.0.0.2");
    t.ingest(&seg(c, 40000, s, 80, SYN, 100, 0, 0), 74, ts(1));
    t.ingest(&seg(s, 80, c, 40000, RST | ACK, 0, 101, 0), 60, ts(1));
    // The same ports again with a lower ISN: not a retransmission of the first connection.
    t.ingest(&seg(c, 40000, s, 80, SYN, 50, 0, 0), 74, ts(2));
    t.ingest(&seg(s, 80, c, 40000, SYN | ACK, 900, 51, 0), 74, ts(2));
    t.ingest(&seg(c, 40000, s, 80, ACK, 51, 901, 0), 66, ts(3));
    t.finish_all();
    let recs = finished(&mut t);
    assert_eq!(recs.len(), 2);
    for r in &recs {
        let h = r.tcp_health.unwrap();
        assert_eq!((h.retransmissions, h.lost_segments), (0, 0));
    }
    assert_eq!(recs[0].end_reason, EndReason::PortReuse);
    assert_eq!(recs[1].tcp_health.unwrap().handshake_rtt_ns, Some(SEC));
}

#[test]
fn flows_are_keyed_by_vlan_only_when_asked() {
    let on_vlan = |vid: u16| {
        let mut p = udp("10.0.0.1", 40000, "10.0.0.2", 53);
        p.vlans[0] = vid;
        p.vlan_count = 1;
        p
    };
    for (vlan_in_key, flows) in [(false, 1), (true, 2)] {
        let mut t = FlowTable::new(&FlowConfig {
            vlan_in_key,
            ..FlowConfig::default()
        });
        t.ingest(&on_vlan(10), 100, ts(1));
        t.ingest(&on_vlan(20), 100, ts(2));
        t.ingest(&on_vlan(10), 100, ts(3));
        t.finish_all();
        let records = finished(&mut t);
        assert_eq!(records.len(), flows, "vlan_in_key {vlan_in_key}");
        let vlans: Vec<Option<u16>> = records.iter().map(|r| r.vlan).collect();
        if vlan_in_key {
            assert!(vlans.contains(&Some(10)) && vlans.contains(&Some(20)));
            let ten = records.iter().find(|r| r.vlan == Some(10)).unwrap();
            assert_eq!(ten.fwd.packets, 2);
        } else {
            assert_eq!(vlans, [None]);
        }
    }
}
