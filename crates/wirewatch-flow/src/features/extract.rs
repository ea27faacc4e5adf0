//! Per-flow CICFlowMeter feature accumulator: fed packet by packet, it yields the 78 features
//! of [`super::columns::CIC_COLUMNS`] when the flow ends.
//!
//! Memory is bounded and constant per flow: running count/sum/min/max and Welford's variance
//! for every statistic, a small state machine per direction for bulks, counters for subflows
//! and active/idle periods. No packet is kept.
//!
//! # Inputs and how they map to `wirewatch_decode::Packet`
//!
//! The accumulator does not read the decoder's types; the flow table fills a [`PacketObs`]:
//!
//! | field | from the decoded packet | CICFlowMeter's |
//! |---|---|---|
//! | `ts` | the frame's capture timestamp | same, truncated to µs |
//! | `forward` | sent by the flow's initiator (the flow table decides) | sender of the first packet seen |
//! | `payload_len` | `Packet::payload_len` (transport payload announced by the headers) | jnetpcap payload length |
//! | `header_len` | TCP: `TcpInfo::header_len`; UDP: 8; other protocols: 0 | TCP/UDP header length |
//! | `tcp` | TCP: `TcpInfo::flags` and `TcpInfo::window`; otherwise `None` | same |
//!
//! and the responder's port is given to [`FlowFeatureAcc::new`] (`Destination Port`).
//! "Packet length" in every feature means transport payload bytes and "header length" means
//! transport header bytes, as in CICFlowMeter (the IP header is not counted).
//!
//! # Deliberate differences from CICFlowMeter (the version that produced CICIDS2017)
//!
//! 1. **Flow boundaries.** The accumulator does not end flows; the flow table does. It ends a
//!    TCP connection after *both* FINs (plus a short linger, so the last ACK stays in the
//!    flow) or at an RST, and uses its own idle and active timeouts. CICFlowMeter ended a flow
//!    at the *first* FIN (the peer's FIN and the last ACKs became separate small "flows"),
//!    ignored RST (a reset connection lived on until the timeout) and cut every flow at
//!    120 s, so long flows are one flow here and several there.
//! 2. **PSH/URG per direction** (`Fwd/Bwd PSH Flags`, `Fwd/Bwd URG Flags`) count every packet
//!    that carries the flag; the original incremented them only for the flow's first packet,
//!    which is why the backward ones are always 0 in CICIDS2017.
//! 3. **Flag counts** (`FIN Flag Count` ...) are numbers of packets with the flag set. A tree
//!    split learnt on values 0 and 1 treats any count of 1 or more as "present".
//! 4. **Each packet counted once.** The original added the first packet twice to the
//!    whole-flow length statistics (`Min/Max Packet Length`, `Packet Length Mean/Std/
//!    Variance`, `Average Packet Size`): two 6-byte packets gave an average packet size of 9.
//! 5. **`act_data_pkt_fwd`** counts the first packet too (the original skipped it).
//! 6. **Payload excludes Ethernet padding**: lengths come from the IP/transport headers, while
//!    jnetpcap counted the padding of minimum-size frames as payload (6 bytes on a bare ACK).
//! 7. **`Init_Win_bytes_backward`** is the window of the first backward packet (the original
//!    overwrote it with each backward packet's). Both initial windows are -1 when there is no
//!    TCP packet in that direction, as in the published files.
//! 8. **Bulks** are computed per direction as CICFlowMeter defines them (at least
//!    [`BULK_MIN_PACKETS`] data packets in one direction, each within [`BULK_GAP_US`] of the
//!    previous, with no data packet from the other side since the bulk began). The original
//!    compared addresses by reference (every packet went to the backward bulk) and wrote the
//!    forward bytes per bulk in the backward column; all six bulk columns are 0 in CICIDS2017,
//!    so a model trained on it ignores them.
//! 9. **Subflows** are separated by gaps longer than [`SUBFLOW_GAP_US`]; their count is one
//!    plus the number of such gaps. The original's test had an operator-precedence error.
//! 10. **Zero-duration flows** get [`UNDEFINED`] (-1) for `Flow Bytes/s` and `Flow Packets/s`
//!     where the published files hold `Infinity` or `NaN`; the dataset reader maps those to
//!     the same value, so training and classification agree.
//! 11. **Out-of-order timestamps** count as a gap of 0 (the original produced negative
//!     inter-arrival times).
//! 12. **Single-packet flows** get features (all gaps 0); CICFlowMeter dropped them. The
//!     caller decides whether to classify them.
//!
//! Kept as published, for compatibility with models trained on CICIDS2017: `Down/Up Ratio`
//! and the bulk and subflow averages are integer divisions (rounded down); active periods are
//! recorded only when an idle gap longer than [`ACTIVITY_TIMEOUT_US`] ends them (the last one
//! is not), so a flow without such a gap has all active/idle features 0; standard deviations
//! are sample deviations (n − 1), as Apache Commons Math computes them.

use wirewatch_core::Timestamp;
use wirewatch_core::proto::tcp_flags;

use super::columns::{FEATURE_COUNT, FeatureVector, UNDEFINED, col};

/// Gap after which a flow is idle: CICFlowMeter's default activity timeout, 5 s.
pub const ACTIVITY_TIMEOUT_US: u64 = 5_000_000;

/// Gap that starts a new subflow: CICFlowMeter's 1 s.
pub const SUBFLOW_GAP_US: u64 = 1_000_000;

/// Longest gap between two data packets of one bulk: CICFlowMeter's 1 s.
pub const BULK_GAP_US: u64 = 1_000_000;

/// Data packets in a row (one direction) that make a bulk: CICFlowMeter's 4.
pub const BULK_MIN_PACKETS: u64 = 4;

/// Microseconds in a second (rates are per second, times in µs).
const MICROS_PER_SEC: f64 = 1_000_000.0;

/// Nanoseconds in a microsecond (timestamps arrive in ns and are truncated to µs).
const NANOS_PER_MICRO: u64 = 1_000;

/// The TCP fields the features read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TcpObs {
    /// Flag bits (FIN 0x01 ... CWR 0x80).
    pub flags: u8,
    /// Receive window as sent (unscaled).
    pub window: u16,
}

/// What the accumulator needs to know about one packet (see the module doc for the mapping).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketObs {
    /// Capture time.
    pub ts: Timestamp,
    /// Sent by the flow's initiator.
    pub forward: bool,
    /// Transport payload bytes.
    pub payload_len: u32,
    /// Transport header bytes (TCP data offset × 4, UDP 8, otherwise 0).
    pub header_len: u32,
    /// TCP flags and window, for TCP packets.
    pub tcp: Option<TcpObs>,
}

/// Running count, sum, min, max and (Welford) variance of a series.
#[derive(Debug, Clone, Copy, Default)]
struct Running {
    n: u64,
    sum: f64,
    min: f64,
    max: f64,
    mean: f64,
    m2: f64,
}

impl Running {
    fn add(&mut self, x: f64) {
        self.n += 1;
        if self.n == 1 {
            self.min = x;
            self.max = x;
        } else {
            self.min = self.min.min(x);
            self.max = self.max.max(x);
        }
        self.sum += x;
        let delta = x - self.mean;
        self.mean += delta / self.n as f64;
        self.m2 += delta * (x - self.mean);
    }

    /// Mean as sum / n (exact for integer series), 0 when empty.
    fn mean(&self) -> f64 {
        if self.n == 0 {
            0.0
        } else {
            self.sum / self.n as f64
        }
    }

    /// Sample variance (n − 1), 0 below two values.
    fn variance(&self) -> f64 {
        if self.n < 2 {
            0.0
        } else {
            (self.m2 / (self.n - 1) as f64).max(0.0)
        }
    }

    fn std(&self) -> f64 {
        self.variance().sqrt()
    }

    fn min(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.min }
    }

    fn max(&self) -> f64 {
        if self.n == 0 { 0.0 } else { self.max }
    }
}

/// CICFlowMeter's bulk state machine for one direction.
#[derive(Debug, Clone, Copy, Default)]
struct Bulk {
    /// Start of the candidate bulk.
    start_us: Option<u64>,
    /// Data packets and bytes in the candidate bulk.
    run_packets: u64,
    run_bytes: u64,
    /// Time of this direction's last data packet.
    last_data_us: Option<u64>,
    /// Completed totals.
    bulks: u64,
    packets: u64,
    bytes: u64,
    duration_us: u64,
}

impl Bulk {
    fn on_packet(&mut self, ts: u64, size: u64, other_last_data_us: Option<u64>) {
        if let (Some(start), Some(other)) = (self.start_us, other_last_data_us)
            && other > start
        {
            // The other side sent data since this candidate began: it is not a bulk.
            self.start_us = None;
        }
        if size == 0 {
            return;
        }
        let last = self.last_data_us.unwrap_or(ts);
        match self.start_us {
            Some(start) if ts.saturating_sub(last) <= BULK_GAP_US => {
                self.run_packets += 1;
                self.run_bytes += size;
                if self.run_packets == BULK_MIN_PACKETS {
                    self.bulks += 1;
                    self.packets += self.run_packets;
                    self.bytes += self.run_bytes;
                    self.duration_us += ts.saturating_sub(start);
                } else if self.run_packets > BULK_MIN_PACKETS {
                    self.packets += 1;
                    self.bytes += size;
                    self.duration_us += ts.saturating_sub(last);
                }
            }
            _ => {
                self.start_us = Some(ts);
                self.run_packets = 1;
                self.run_bytes = size;
            }
        }
        self.last_data_us = Some(ts.max(last));
    }

    /// (average bytes per bulk, average packets per bulk, bulk rate), rounded down.
    fn averages(&self) -> (f64, f64, f64) {
        if self.bulks == 0 {
            return (0.0, 0.0, 0.0);
        }
        let rate = if self.duration_us == 0 {
            0.0
        } else {
            (self.bytes as f64 / (self.duration_us as f64 / MICROS_PER_SEC)).floor()
        };
        (
            (self.bytes / self.bulks) as f64,
            (self.packets / self.bulks) as f64,
            rate,
        )
    }
}

/// Everything kept per direction.
#[derive(Debug, Clone, Copy, Default)]
struct Direction {
    lengths: Running,
    iat: Running,
    last_us: Option<u64>,
    header_bytes: u64,
    min_header: Option<u32>,
    psh: u64,
    urg: u64,
    data_packets: u64,
    init_window: Option<u16>,
    bulk: Bulk,
}

impl Direction {
    fn on_packet(&mut self, ts: u64, p: &PacketObs) {
        self.lengths.add(f64::from(p.payload_len));
        if let Some(prev) = self.last_us {
            self.iat.add(ts.saturating_sub(prev) as f64);
        }
        self.last_us = Some(self.last_us.map_or(ts, |prev| prev.max(ts)));
        self.header_bytes += u64::from(p.header_len);
        self.min_header = Some(
            self.min_header
                .map_or(p.header_len, |m| m.min(p.header_len)),
        );
        if p.payload_len >= 1 {
            self.data_packets += 1;
        }
        if let Some(tcp) = p.tcp {
            if self.lengths.n == 1 {
                self.init_window = Some(tcp.window);
            }
            if tcp.flags & tcp_flags::PSH != 0 {
                self.psh += 1;
            }
            if tcp.flags & tcp_flags::URG != 0 {
                self.urg += 1;
            }
        }
    }
}

/// The TCP flags counted by the `... Flag Count` columns, in column order.
const COUNTED_FLAGS: [(u8, usize); 8] = [
    (tcp_flags::FIN, col::FIN_FLAG_COUNT),
    (tcp_flags::SYN, col::SYN_FLAG_COUNT),
    (tcp_flags::RST, col::RST_FLAG_COUNT),
    (tcp_flags::PSH, col::PSH_FLAG_COUNT),
    (tcp_flags::ACK, col::ACK_FLAG_COUNT),
    (tcp_flags::URG, col::URG_FLAG_COUNT),
    (tcp_flags::CWR, col::CWE_FLAG_COUNT),
    (tcp_flags::ECE, col::ECE_FLAG_COUNT),
];

/// Accumulates one flow's CICFlowMeter features, packet by packet, in constant memory.
#[derive(Debug, Clone)]
pub struct FlowFeatureAcc {
    dst_port: u16,
    first_us: Option<u64>,
    last_us: u64,
    lengths: Running,
    iat: Running,
    fwd: Direction,
    bwd: Direction,
    flags: [u64; COUNTED_FLAGS.len()],
    subflows: u64,
    active_start_us: u64,
    active_end_us: u64,
    active: Running,
    idle: Running,
}

impl FlowFeatureAcc {
    /// A new flow whose responder listens on `dst_port` (0 for port-less protocols).
    pub fn new(dst_port: u16) -> Self {
        FlowFeatureAcc {
            dst_port,
            first_us: None,
            last_us: 0,
            lengths: Running::default(),
            iat: Running::default(),
            fwd: Direction::default(),
            bwd: Direction::default(),
            flags: [0; COUNTED_FLAGS.len()],
            subflows: 0,
            active_start_us: 0,
            active_end_us: 0,
            active: Running::default(),
            idle: Running::default(),
        }
    }

    /// Accounts one packet of the flow.
    pub fn on_packet(&mut self, p: &PacketObs) {
        let ts = p.ts.nanos() / NANOS_PER_MICRO;
        match self.first_us {
            None => {
                self.first_us = Some(ts);
                self.last_us = ts;
                self.active_start_us = ts;
                self.active_end_us = ts;
                self.subflows = 1;
            }
            Some(_) => {
                let gap = ts.saturating_sub(self.last_us);
                self.iat.add(gap as f64);
                if gap > SUBFLOW_GAP_US {
                    self.subflows += 1;
                }
                let quiet = ts.saturating_sub(self.active_end_us);
                if quiet > ACTIVITY_TIMEOUT_US {
                    if self.active_end_us > self.active_start_us {
                        self.active
                            .add((self.active_end_us - self.active_start_us) as f64);
                    }
                    self.idle.add(quiet as f64);
                    self.active_start_us = ts;
                    self.active_end_us = ts;
                } else {
                    self.active_end_us = self.active_end_us.max(ts);
                }
                self.last_us = self.last_us.max(ts);
            }
        }
        self.lengths.add(f64::from(p.payload_len));
        let (this, other) = if p.forward {
            (&mut self.fwd, &self.bwd)
        } else {
            (&mut self.bwd, &self.fwd)
        };
        this.bulk
            .on_packet(ts, u64::from(p.payload_len), other.bulk.last_data_us);
        this.on_packet(ts, p);
        if let Some(tcp) = p.tcp {
            for (count, (bit, _)) in self.flags.iter_mut().zip(COUNTED_FLAGS) {
                if tcp.flags & bit != 0 {
                    *count += 1;
                }
            }
        }
    }

    /// Packets accounted so far.
    pub fn packets(&self) -> u64 {
        self.fwd.lengths.n + self.bwd.lengths.n
    }

    /// Flow duration so far, in microseconds.
    pub fn duration_us(&self) -> u64 {
        self.first_us.map_or(0, |first| self.last_us - first)
    }

    /// The features in [`super::columns::CIC_COLUMNS`] order.
    pub fn features(&self) -> FeatureVector {
        let mut f = [0.0; FEATURE_COUNT];
        let (fwd, bwd) = (&self.fwd, &self.bwd);
        let packets = self.packets();
        let duration = self.duration_us();
        let secs = duration as f64 / MICROS_PER_SEC;
        let per_sec = |x: f64, undefined: f64| if duration > 0 { x / secs } else { undefined };

        f[col::DESTINATION_PORT] = f64::from(self.dst_port);
        f[col::FLOW_DURATION] = duration as f64;
        f[col::TOTAL_FWD_PACKETS] = fwd.lengths.n as f64;
        f[col::TOTAL_BWD_PACKETS] = bwd.lengths.n as f64;
        f[col::TOTAL_LEN_FWD] = fwd.lengths.sum;
        f[col::TOTAL_LEN_BWD] = bwd.lengths.sum;
        put_stats(
            &mut f,
            col::FWD_PKT_LEN_MAX,
            &fwd.lengths,
            StatOrder::MaxMinMeanStd,
        );
        put_stats(
            &mut f,
            col::BWD_PKT_LEN_MAX,
            &bwd.lengths,
            StatOrder::MaxMinMeanStd,
        );
        f[col::FLOW_BYTES_PER_S] = per_sec(fwd.lengths.sum + bwd.lengths.sum, UNDEFINED);
        f[col::FLOW_PACKETS_PER_S] = per_sec(packets as f64, UNDEFINED);
        put_stats(
            &mut f,
            col::FLOW_IAT_MEAN,
            &self.iat,
            StatOrder::MeanStdMaxMin,
        );
        f[col::FWD_IAT_TOTAL] = fwd.iat.sum;
        put_stats(
            &mut f,
            col::FWD_IAT_MEAN,
            &fwd.iat,
            StatOrder::MeanStdMaxMin,
        );
        f[col::BWD_IAT_TOTAL] = bwd.iat.sum;
        put_stats(
            &mut f,
            col::BWD_IAT_MEAN,
            &bwd.iat,
            StatOrder::MeanStdMaxMin,
        );
        f[col::FWD_PSH_FLAGS] = fwd.psh as f64;
        f[col::BWD_PSH_FLAGS] = bwd.psh as f64;
        f[col::FWD_URG_FLAGS] = fwd.urg as f64;
        f[col::BWD_URG_FLAGS] = bwd.urg as f64;
        f[col::FWD_HEADER_LEN] = fwd.header_bytes as f64;
        f[col::BWD_HEADER_LEN] = bwd.header_bytes as f64;
        f[col::FWD_PACKETS_PER_S] = per_sec(fwd.lengths.n as f64, 0.0);
        f[col::BWD_PACKETS_PER_S] = per_sec(bwd.lengths.n as f64, 0.0);
        f[col::MIN_PKT_LEN] = self.lengths.min();
        f[col::MAX_PKT_LEN] = self.lengths.max();
        f[col::PKT_LEN_MEAN] = self.lengths.mean();
        f[col::PKT_LEN_STD] = self.lengths.std();
        f[col::PKT_LEN_VAR] = self.lengths.variance();
        for (count, (_, column)) in self.flags.iter().zip(COUNTED_FLAGS) {
            f[column] = *count as f64;
        }
        f[col::DOWN_UP_RATIO] = bwd
            .lengths
            .n
            .checked_div(fwd.lengths.n)
            .map_or(0.0, |r| r as f64);
        f[col::AVG_PACKET_SIZE] = self.lengths.mean();
        f[col::AVG_FWD_SEGMENT_SIZE] = fwd.lengths.mean();
        f[col::AVG_BWD_SEGMENT_SIZE] = bwd.lengths.mean();
        f[col::FWD_HEADER_LEN_DUP] = fwd.header_bytes as f64;
        let (bytes, pkts, rate) = fwd.bulk.averages();
        f[col::FWD_AVG_BYTES_BULK] = bytes;
        f[col::FWD_AVG_PACKETS_BULK] = pkts;
        f[col::FWD_AVG_BULK_RATE] = rate;
        let (bytes, pkts, rate) = bwd.bulk.averages();
        f[col::BWD_AVG_BYTES_BULK] = bytes;
        f[col::BWD_AVG_PACKETS_BULK] = pkts;
        f[col::BWD_AVG_BULK_RATE] = rate;
        let subflows = self.subflows.max(1);
        f[col::SUBFLOW_FWD_PACKETS] = (fwd.lengths.n / subflows) as f64;
        f[col::SUBFLOW_FWD_BYTES] = (fwd.lengths.sum / subflows as f64).floor();
        f[col::SUBFLOW_BWD_PACKETS] = (bwd.lengths.n / subflows) as f64;
        f[col::SUBFLOW_BWD_BYTES] = (bwd.lengths.sum / subflows as f64).floor();
        f[col::INIT_WIN_BYTES_FWD] = fwd.init_window.map_or(-1.0, f64::from);
        f[col::INIT_WIN_BYTES_BWD] = bwd.init_window.map_or(-1.0, f64::from);
        f[col::ACT_DATA_PKT_FWD] = fwd.data_packets as f64;
        f[col::MIN_SEG_SIZE_FWD] = fwd.min_header.map_or(0.0, f64::from);
        put_stats(
            &mut f,
            col::ACTIVE_MEAN,
            &self.active,
            StatOrder::MeanStdMaxMin,
        );
        put_stats(&mut f, col::IDLE_MEAN, &self.idle, StatOrder::MeanStdMaxMin);
        f
    }
}

/// The two orders in which the published columns list a series' statistics.
#[derive(Clone, Copy)]
enum StatOrder {
    /// Max, Min, Mean, Std (packet lengths).
    MaxMinMeanStd,
    /// Mean, Std, Max, Min (inter-arrival times, active, idle).
    MeanStdMaxMin,
}

/// Writes four statistics of `s` from column `first` on.
fn put_stats(f: &mut FeatureVector, first: usize, s: &Running, order: StatOrder) {
    let values = match order {
        StatOrder::MaxMinMeanStd => [s.max(), s.min(), s.mean(), s.std()],
        StatOrder::MeanStdMaxMin => [s.mean(), s.std(), s.max(), s.min()],
    };
    for (slot, v) in f.iter_mut().skip(first).zip(values) {
        *slot = v;
    }
}

#[cfg(test)]
#[path = "extract_tests.rs"]
mod tests;
