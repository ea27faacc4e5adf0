//! Hand-computed checks of the feature accumulator on small crafted flows.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use super::*;
use crate::features::columns::CIC_COLUMNS;

/// An arbitrary capture start, in µs (far from zero so that nothing relies on it).
const T0_US: u64 = 1_500_000_000_000_000;

fn pkt(t_us: u64, forward: bool, payload: u32, header: u32, tcp: Option<(u8, u16)>) -> PacketObs {
    PacketObs {
        ts: Timestamp::from_nanos((T0_US + t_us) * 1_000),
        forward,
        payload_len: payload,
        header_len: header,
        tcp: tcp.map(|(flags, window)| TcpObs { flags, window }),
    }
}

fn run(dst_port: u16, packets: &[PacketObs]) -> FeatureVector {
    let mut acc = FlowFeatureAcc::new(dst_port);
    for p in packets {
        acc.on_packet(p);
    }
    assert_eq!(acc.packets(), packets.len() as u64);
    acc.features()
}

fn check(f: &FeatureVector, expected: &[(usize, f64)]) {
    for &(i, want) in expected {
        let got = f[i];
        let tolerance = 1e-9 * want.abs().max(1.0);
        assert!(
            (got - want).abs() <= tolerance,
            "{}: got {got}, expected {want}",
            CIC_COLUMNS[i].canonical
        );
    }
}

const SYN: u8 = 0x02;
const SYN_ACK: u8 = 0x12;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const FIN_ACK: u8 = 0x11;

/// Handshake, one request, one response, FIN/FIN and the last ACK:
///
/// | # | t (µs) | dir | payload | header | flags | window |
/// |---|---|---|---|---|---|---|
/// | 1 | 0 | fwd | 0 | 40 | SYN | 29200 |
/// | 2 | 1000 | bwd | 0 | 40 | SYN ACK | 28960 |
/// | 3 | 1500 | fwd | 0 | 32 | ACK | 229 |
/// | 4 | 2500 | fwd | 100 | 32 | PSH ACK | 229 |
/// | 5 | 4500 | bwd | 300 | 32 | PSH ACK | 235 |
/// | 6 | 5000 | fwd | 0 | 32 | FIN ACK | 229 |
/// | 7 | 6000 | bwd | 0 | 32 | FIN ACK | 235 |
/// | 8 | 6500 | fwd | 0 | 32 | ACK | 229 |
fn tcp_session() -> Vec<PacketObs> {
    vec![
        pkt(0, true, 0, 40, Some((SYN, 29200))),
        pkt(1000, false, 0, 40, Some((SYN_ACK, 28960))),
        pkt(1500, true, 0, 32, Some((ACK, 229))),
        pkt(2500, true, 100, 32, Some((PSH_ACK, 229))),
        pkt(4500, false, 300, 32, Some((PSH_ACK, 235))),
        pkt(5000, true, 0, 32, Some((FIN_ACK, 229))),
        pkt(6000, false, 0, 32, Some((FIN_ACK, 235))),
        pkt(6500, true, 0, 32, Some((ACK, 229))),
    ]
}

#[test]
fn tcp_session_by_hand() {
    let f = run(80, &tcp_session());
    check(
        &f,
        &[
            (col::DESTINATION_PORT, 80.0),
            (col::FLOW_DURATION, 6500.0),
            (col::TOTAL_FWD_PACKETS, 5.0),
            (col::TOTAL_BWD_PACKETS, 3.0),
            (col::TOTAL_LEN_FWD, 100.0),
            (col::TOTAL_LEN_BWD, 300.0),
            // Forward payloads 0, 0, 100, 0, 0: squared deviations 4·400 + 6400 = 8000, / 4.
            (col::FWD_PKT_LEN_MAX, 100.0),
            (col::FWD_PKT_LEN_MIN, 0.0),
            (col::FWD_PKT_LEN_MEAN, 20.0),
            (col::FWD_PKT_LEN_STD, 2000f64.sqrt()),
            // Backward payloads 0, 300, 0: (10000 + 40000 + 10000) / 2 = 30000.
            (col::BWD_PKT_LEN_MAX, 300.0),
            (col::BWD_PKT_LEN_MIN, 0.0),
            (col::BWD_PKT_LEN_MEAN, 100.0),
            (col::BWD_PKT_LEN_STD, 30000f64.sqrt()),
            (col::FLOW_BYTES_PER_S, 400.0 / 0.0065),
            (col::FLOW_PACKETS_PER_S, 8.0 / 0.0065),
            // Gaps 1000, 500, 1000, 2000, 500, 1000, 500: mean 6500/7, Σx² = 7.75e6.
            (col::FLOW_IAT_MEAN, 6500.0 / 7.0),
            (
                col::FLOW_IAT_STD,
                ((7.75e6f64 - 6500.0 * 6500.0 / 7.0) / 6.0).sqrt(),
            ),
            (col::FLOW_IAT_MAX, 2000.0),
            (col::FLOW_IAT_MIN, 500.0),
            // Forward gaps 1500, 1000, 2500, 1500: squared deviations sum 1187500, / 3.
            (col::FWD_IAT_TOTAL, 6500.0),
            (col::FWD_IAT_MEAN, 1625.0),
            (col::FWD_IAT_STD, (1_187_500.0f64 / 3.0).sqrt()),
            (col::FWD_IAT_MAX, 2500.0),
            (col::FWD_IAT_MIN, 1000.0),
            // Backward gaps 3500, 1500.
            (col::BWD_IAT_TOTAL, 5000.0),
            (col::BWD_IAT_MEAN, 2500.0),
            (col::BWD_IAT_STD, 2e6f64.sqrt()),
            (col::BWD_IAT_MAX, 3500.0),
            (col::BWD_IAT_MIN, 1500.0),
            (col::FWD_PSH_FLAGS, 1.0),
            (col::BWD_PSH_FLAGS, 1.0),
            (col::FWD_URG_FLAGS, 0.0),
            (col::BWD_URG_FLAGS, 0.0),
            (col::FWD_HEADER_LEN, 40.0 + 4.0 * 32.0),
            (col::BWD_HEADER_LEN, 40.0 + 2.0 * 32.0),
            (col::FWD_PACKETS_PER_S, 5.0 / 0.0065),
            (col::BWD_PACKETS_PER_S, 3.0 / 0.0065),
            // All payloads 0,0,0,100,300,0,0,0: mean 50, Σx² = 100000, (100000 − 8·2500) / 7.
            (col::MIN_PKT_LEN, 0.0),
            (col::MAX_PKT_LEN, 300.0),
            (col::PKT_LEN_MEAN, 50.0),
            (col::PKT_LEN_STD, (80_000.0f64 / 7.0).sqrt()),
            (col::PKT_LEN_VAR, 80_000.0 / 7.0),
            (col::FIN_FLAG_COUNT, 2.0),
            (col::SYN_FLAG_COUNT, 2.0),
            (col::RST_FLAG_COUNT, 0.0),
            (col::PSH_FLAG_COUNT, 2.0),
            (col::ACK_FLAG_COUNT, 7.0),
            (col::URG_FLAG_COUNT, 0.0),
            (col::CWE_FLAG_COUNT, 0.0),
            (col::ECE_FLAG_COUNT, 0.0),
            // 3 / 5 rounded down, as published.
            (col::DOWN_UP_RATIO, 0.0),
            (col::AVG_PACKET_SIZE, 50.0),
            (col::AVG_FWD_SEGMENT_SIZE, 20.0),
            (col::AVG_BWD_SEGMENT_SIZE, 100.0),
            (col::FWD_HEADER_LEN_DUP, 168.0),
            (col::FWD_AVG_BYTES_BULK, 0.0),
            (col::BWD_AVG_BULK_RATE, 0.0),
            // One subflow: the averages are the totals.
            (col::SUBFLOW_FWD_PACKETS, 5.0),
            (col::SUBFLOW_FWD_BYTES, 100.0),
            (col::SUBFLOW_BWD_PACKETS, 3.0),
            (col::SUBFLOW_BWD_BYTES, 300.0),
            (col::INIT_WIN_BYTES_FWD, 29200.0),
            (col::INIT_WIN_BYTES_BWD, 28960.0),
            (col::ACT_DATA_PKT_FWD, 1.0),
            (col::MIN_SEG_SIZE_FWD, 32.0),
            (col::ACTIVE_MEAN, 0.0),
            (col::ACTIVE_MAX, 0.0),
            (col::IDLE_MEAN, 0.0),
            (col::IDLE_MIN, 0.0),
        ],
    );
}

/// A UDP exchange with two idle gaps longer than the 5 s activity timeout:
/// fwd 0, bwd 200, fwd 400 | 7 s | fwd 7_000_400, bwd 7_000_600, fwd 7_001_000 | 6 s |
/// fwd 13_001_000. Forward payloads 50, backward 100, UDP header 8.
#[test]
fn active_idle_and_subflows_by_hand() {
    let packets = [
        pkt(0, true, 50, 8, None),
        pkt(200, false, 100, 8, None),
        pkt(400, true, 50, 8, None),
        pkt(7_000_400, true, 50, 8, None),
        pkt(7_000_600, false, 100, 8, None),
        pkt(7_001_000, true, 50, 8, None),
        pkt(13_001_000, true, 50, 8, None),
    ];
    let f = run(53, &packets);
    check(
        &f,
        &[
            (col::FLOW_DURATION, 13_001_000.0),
            (col::TOTAL_FWD_PACKETS, 5.0),
            (col::TOTAL_BWD_PACKETS, 2.0),
            // Active periods 400 (0..400) and 600 (7_000_400..7_001_000); the last one
            // (a single packet) is not recorded, as published.
            (col::ACTIVE_MEAN, 500.0),
            (col::ACTIVE_STD, 20_000f64.sqrt()),
            (col::ACTIVE_MAX, 600.0),
            (col::ACTIVE_MIN, 400.0),
            // Idle gaps 7_000_000 and 6_000_000.
            (col::IDLE_MEAN, 6_500_000.0),
            (col::IDLE_STD, 500_000.0 * 2f64.sqrt()),
            (col::IDLE_MAX, 7_000_000.0),
            (col::IDLE_MIN, 6_000_000.0),
            // Two gaps over 1 s: three subflows; averages rounded down.
            (col::SUBFLOW_FWD_PACKETS, 1.0),
            (col::SUBFLOW_FWD_BYTES, 83.0),
            (col::SUBFLOW_BWD_PACKETS, 0.0),
            (col::SUBFLOW_BWD_BYTES, 66.0),
            (col::DOWN_UP_RATIO, 0.0),
            (col::INIT_WIN_BYTES_FWD, -1.0),
            (col::INIT_WIN_BYTES_BWD, -1.0),
            (col::FWD_HEADER_LEN, 40.0),
            (col::BWD_HEADER_LEN, 16.0),
            (col::MIN_SEG_SIZE_FWD, 8.0),
            (col::ACT_DATA_PKT_FWD, 5.0),
            (col::ACK_FLAG_COUNT, 0.0),
            (col::FLOW_IAT_MAX, 7_000_000.0),
            (col::FLOW_IAT_MIN, 200.0),
        ],
    );
}

/// Forward data at 0, 100, 200, 300, 400 (a bulk from the 4th on), a backward pure ACK at
/// 450 (does not break it), forward 500, backward data at 600 (ends it), forward 700, 800,
/// 900, 1000 (a second bulk). Every forward packet carries 1000 bytes, the backward data 100.
#[test]
fn bulks_by_hand() {
    let mut packets = Vec::new();
    for t in [0, 100, 200, 300, 400] {
        packets.push(pkt(t, true, 1000, 20, Some((PSH_ACK, 500))));
    }
    packets.push(pkt(450, false, 0, 20, Some((ACK, 600))));
    packets.push(pkt(500, true, 1000, 20, Some((PSH_ACK, 500))));
    packets.push(pkt(600, false, 100, 20, Some((PSH_ACK, 600))));
    for t in [700, 800, 900, 1000] {
        packets.push(pkt(t, true, 1000, 20, Some((PSH_ACK, 500))));
    }
    let f = run(443, &packets);
    // Bulk 1: 6 packets, 6000 bytes, 500 µs; bulk 2: 4 packets, 4000 bytes, 300 µs.
    check(
        &f,
        &[
            (col::FWD_AVG_BYTES_BULK, 5000.0),
            (col::FWD_AVG_PACKETS_BULK, 5.0),
            (col::FWD_AVG_BULK_RATE, (10_000.0f64 / 800e-6).floor()),
            (col::BWD_AVG_BYTES_BULK, 0.0),
            (col::BWD_AVG_PACKETS_BULK, 0.0),
            (col::BWD_AVG_BULK_RATE, 0.0),
            (col::FWD_PSH_FLAGS, 10.0),
            (col::BWD_PSH_FLAGS, 1.0),
            (col::INIT_WIN_BYTES_BWD, 600.0),
            (col::DOWN_UP_RATIO, 0.0),
        ],
    );
}

#[test]
fn flags_are_counted_on_every_packet() {
    let urg_psh = 0x20 | 0x08 | 0x10;
    let packets = [
        pkt(0, true, 10, 20, Some((urg_psh, 1))),
        pkt(10, true, 10, 20, Some((urg_psh, 1))),
        pkt(20, false, 10, 20, Some((urg_psh | 0x40 | 0x80, 1))),
        pkt(30, false, 0, 20, Some((0x04, 0))),
    ];
    let f = run(1, &packets);
    check(
        &f,
        &[
            (col::FWD_PSH_FLAGS, 2.0),
            (col::BWD_PSH_FLAGS, 1.0),
            (col::FWD_URG_FLAGS, 2.0),
            (col::BWD_URG_FLAGS, 1.0),
            (col::URG_FLAG_COUNT, 3.0),
            (col::RST_FLAG_COUNT, 1.0),
            (col::CWE_FLAG_COUNT, 1.0),
            (col::ECE_FLAG_COUNT, 1.0),
            (col::DOWN_UP_RATIO, 1.0),
        ],
    );
}

#[test]
fn single_packet_flow_has_undefined_rates_and_zero_gaps() {
    let f = run(22, &[pkt(0, true, 0, 40, Some((SYN, 1024)))]);
    check(
        &f,
        &[
            (col::FLOW_DURATION, 0.0),
            (col::FLOW_BYTES_PER_S, UNDEFINED),
            (col::FLOW_PACKETS_PER_S, UNDEFINED),
            (col::FWD_PACKETS_PER_S, 0.0),
            (col::FLOW_IAT_MEAN, 0.0),
            (col::FLOW_IAT_MIN, 0.0),
            (col::INIT_WIN_BYTES_FWD, 1024.0),
            (col::INIT_WIN_BYTES_BWD, -1.0),
            (col::SYN_FLAG_COUNT, 1.0),
            (col::SUBFLOW_FWD_PACKETS, 1.0),
        ],
    );
    assert!(f.iter().all(|v| v.is_finite()));
}

#[test]
fn flow_seen_from_the_responder_first() {
    // A SYN-ACK seen first: the flow table makes its receiver the initiator.
    let f = run(80, &[pkt(0, false, 0, 40, Some((SYN_ACK, 100)))]);
    check(
        &f,
        &[
            (col::TOTAL_FWD_PACKETS, 0.0),
            (col::TOTAL_BWD_PACKETS, 1.0),
            (col::MIN_SEG_SIZE_FWD, 0.0),
            (col::INIT_WIN_BYTES_FWD, -1.0),
            (col::INIT_WIN_BYTES_BWD, 100.0),
            (col::DOWN_UP_RATIO, 0.0),
        ],
    );
}

#[test]
fn out_of_order_timestamps_count_as_zero_gaps() {
    let packets = [
        pkt(1000, true, 1, 8, None),
        pkt(500, false, 1, 8, None),
        pkt(2000, true, 1, 8, None),
    ];
    let f = run(9, &packets);
    check(
        &f,
        &[
            (col::FLOW_DURATION, 1000.0),
            (col::FLOW_IAT_MIN, 0.0),
            (col::FLOW_IAT_MAX, 1000.0),
            (col::FWD_IAT_TOTAL, 1000.0),
        ],
    );
}

#[test]
fn features_are_finite_for_any_packet_sequence() {
    // A deterministic pseudo-random walk over sizes, gaps, directions and flags.
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    for _ in 0..50 {
        let mut acc = FlowFeatureAcc::new(443);
        let mut t = 0u64;
        for _ in 0..(next() % 200) {
            t += next() % 8_000_000;
            let r = next();
            acc.on_packet(&pkt(
                t,
                r & 1 == 0,
                (r >> 8) as u32 % 1500,
                20,
                Some(((r >> 24) as u8, (r >> 32) as u16)),
            ));
        }
        assert!(acc.features().iter().all(|v| v.is_finite()));
    }
}
