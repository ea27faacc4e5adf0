//! Interval aggregation on hand-made packets.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, SYN};
use wirewatch_core::{ProtoClass, Timestamp};
use wirewatch_decode::{Network, Packet, TcpInfo, Transport};
use wirewatch_flow::{FlowConfig, FlowTable};
use wirewatch_metrics::{IntervalAggregator, MetricsConfig, RunTotals};

const SEC: u64 = 1_000_000_000;

fn syn(src: &str, flags: u8) -> Packet {
    let src: IpAddr = src.parse().unwrap();
    Packet {
        class: ProtoClass::Tcp,
        network: Network::Ipv4,
        has_src: true,
        has_dst: true,
        src,
        dst: "192.0.2.1".parse().unwrap(),
        ip_proto: 6,
        transport: Transport::Tcp(TcpInfo {
            src_port: 1234,
            dst_port: 80,
            seq: 0,
            ack: 0,
            flags,
            window: 0,
            header_len: 20,
            options: Default::default(),
        }),
        ..Packet::default()
    }
}

#[test]
fn intervals_close_on_packet_time_with_rates_and_flows() {
    let mut agg = IntervalAggregator::new(&MetricsConfig::default());
    let mut flows = FlowTable::new(&FlowConfig::default());
    let mut out = Vec::new();
    let packets = [
        (10 * SEC + 100, "10.0.0.1", SYN),
        (10 * SEC + 200, "10.0.0.2", SYN),
        (10 * SEC + 300, "10.0.0.2", ACK),
        (11 * SEC + 5, "10.0.0.1", ACK),
        (14 * SEC, "10.0.0.3", SYN),
    ];
    for (t, src, flags) in packets {
        let ts = Timestamp(t);
        while agg.must_close_before(ts) {
            out.extend(agg.close(flows.stats(), Some(ts)));
            flows.next_epoch();
        }
        let p = syn(src, flags);
        let ing = flows.ingest(&p, 100, ts);
        agg.record_packet(&p, 100, 60, ts, ing);
    }
    out.extend(agg.close(flows.stats(), None));
    assert_eq!(out.len(), 5, "10, 11, 12 (empty), 13 (empty), 14");
    assert_eq!(out[0].start_ts, Timestamp(10 * SEC));
    assert_eq!((out[0].packets, out[0].bytes), (3, 300));
    assert_eq!(out[0].bps, 2400.0);
    assert_eq!(out[0].tcp_flags.syn, 2);
    assert_eq!((out[0].distinct_src_ips, out[0].distinct_dst_ips), (2, 1));
    assert_eq!(
        (out[0].flows_new, out[0].flows_active, out[0].flows_live),
        (2, 2, 2)
    );
    assert_eq!(out[0].top_sources_by_packets[0].ip.to_string(), "10.0.0.2");
    assert_eq!(
        (out[1].packets, out[1].flows_new, out[1].flows_active),
        (1, 0, 1)
    );
    assert_eq!(out[2].packets, 0);
    assert_eq!(out[4].protocols.tcp, 1);
}

#[test]
fn long_gaps_are_skipped_not_filled() {
    let cfg = MetricsConfig {
        max_empty_intervals: 5,
        ..MetricsConfig::default()
    };
    let mut agg = IntervalAggregator::new(&cfg);
    let flows = FlowTable::new(&FlowConfig::default());
    let p = syn("10.0.0.1", SYN);
    let mut out = Vec::new();
    for t in [0, 3 * SEC, 1_000 * SEC] {
        let ts = Timestamp(t);
        while agg.must_close_before(ts) {
            out.extend(agg.close(flows.stats(), Some(ts)));
        }
        agg.record_packet(&p, 60, 60, ts, None);
    }
    out.extend(agg.close(flows.stats(), None));
    let starts: Vec<u64> = out.iter().map(|m| m.start_ts.0 / SEC).collect();
    assert_eq!(starts, [0, 1, 2, 3, 1000]);
    assert_eq!(agg.totals().intervals_skipped, 996, "4 to 999, counted");
}

#[test]
fn packets_an_hour_apart_fill_at_most_a_day_of_long_gaps_per_run() {
    use wirewatch_metrics::interval::{MAX_LONG_GAP_FILL, SHORT_GAP_INTERVALS};
    let mut agg = IntervalAggregator::new(&MetricsConfig::default());
    let flows = FlowTable::new(&FlowConfig::default());
    let p = syn("10.0.0.1", SYN);
    let mut intervals = 0u64;
    let packets = 200u64;
    for h in 0..packets {
        // 3,599 empty seconds between packets: each gap alone is under max_empty_intervals.
        let ts = Timestamp(h * 3_600 * SEC);
        while agg.must_close_before(ts) {
            intervals += agg.close(flows.stats(), Some(ts)).into_iter().count() as u64;
        }
        agg.record_packet(&p, 60, 60, ts, None);
    }
    intervals += agg.close(flows.stats(), None).into_iter().count() as u64;
    // The first 24 gaps are filled whole (a day), the rest only their last minute.
    let bound = MAX_LONG_GAP_FILL + packets * (SHORT_GAP_INTERVALS + 2);
    assert!(
        intervals <= bound,
        "{intervals} intervals from {packets} packets"
    );
    assert!(
        intervals >= MAX_LONG_GAP_FILL,
        "{intervals}: a day of gaps is still filled"
    );
    // Every second of the span is either an interval or counted as skipped.
    let span = (packets - 1) * 3_600 + 1;
    assert_eq!(intervals + agg.totals().intervals_skipped, span);
}

#[test]
fn run_totals_track_span_and_backwards_steps() {
    let mut t = RunTotals::default();
    let p = syn("10.0.0.1", SYN);
    for s in [5, 7, 6, 8] {
        t.record(&p, 60, 54, Timestamp(s * SEC));
    }
    assert_eq!(t.first_ts, Some(Timestamp(5 * SEC)));
    assert_eq!(t.last_ts, Some(Timestamp(8 * SEC)));
    assert_eq!(t.ts_backwards, 1);
    assert_eq!((t.counters.bytes, t.counters.captured_bytes), (240, 216));
}

#[test]
fn run_talkers_are_merged_from_closed_intervals() {
    let mut agg = IntervalAggregator::new(&MetricsConfig::default());
    let flows = FlowTable::new(&FlowConfig::default());
    for (s, src) in [
        (0, "10.0.0.1"),
        (0, "10.0.0.2"),
        (1, "10.0.0.1"),
        (2, "10.0.0.3"),
    ] {
        let ts = Timestamp(s * SEC);
        while agg.must_close_before(ts) {
            agg.close(flows.stats(), Some(ts));
        }
        agg.record_packet(&syn(src, SYN), 100, 100, ts, None);
    }
    agg.close(flows.stats(), None);
    let c = &agg.totals().counters;
    assert_eq!(c.packets, 4);
    assert_eq!(c.sources.distinct(), 3);
    let top = c.sources.top_by_packets(1)[0];
    assert_eq!(
        (top.ip.to_string().as_str(), top.packets, top.bytes),
        ("10.0.0.1", 2, 200)
    );
    assert_eq!(c.destinations.distinct(), 1);
}
