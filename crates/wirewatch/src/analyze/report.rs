//! The analysis report and its stable JSON layout.
//!
//! Field names here are a public interface (`wirewatch analyze --json`): add fields freely,
//! never rename or remove one.

use super::Notice;
use crate::pipeline::Engine;
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use wirewatch_core::proto::tcp_flags;
use wirewatch_core::{
    Alert, DropCounts, EndReason, FlowRecord, IntervalMetrics, ProtocolCounts, Talker,
    TcpFlagCounts, TcpState, Timestamp,
};

/// What was read from one file.
#[derive(Debug, Clone, Serialize)]
pub struct FileSummary {
    /// The path as given.
    pub path: PathBuf,
    /// File format, when the header could be read.
    pub format: Option<String>,
    /// Frames read from this file.
    pub packets: u64,
    /// The error that stopped reading, if any (frames before it count).
    pub error: Option<String>,
}

/// One top talker.
#[derive(Debug, Clone, Serialize)]
pub struct TalkerJson {
    /// Address.
    pub ip: IpAddr,
    /// Packets.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
}

impl From<&Talker> for TalkerJson {
    fn from(t: &Talker) -> Self {
        TalkerJson {
            ip: t.ip,
            packets: t.packets,
            bytes: t.bytes,
        }
    }
}

/// One flow, initiator first.
#[derive(Debug, Clone, Serialize)]
pub struct FlowJson {
    /// `tcp`, `udp`, `icmp`, `icmpv6` or the IP protocol number.
    pub proto: String,
    /// Initiator address.
    pub src_ip: IpAddr,
    /// Initiator port (ICMP: echo identifier or message type).
    pub src_port: u16,
    /// Responder address.
    pub dst_ip: IpAddr,
    /// Responder port (ICMP: echo identifier or message code).
    pub dst_port: u16,
    /// Packets initiator → responder.
    pub packets_fwd: u64,
    /// Wire bytes initiator → responder.
    pub bytes_fwd: u64,
    /// Packets responder → initiator.
    pub packets_rev: u64,
    /// Wire bytes responder → initiator.
    pub bytes_rev: u64,
    /// Transport payload bytes initiator → responder.
    pub payload_bytes_fwd: u64,
    /// Transport payload bytes responder → initiator.
    pub payload_bytes_rev: u64,
    /// First packet time, seconds.
    pub first_ts: f64,
    /// Last packet time, seconds.
    pub last_ts: f64,
    /// Connection state.
    pub state: TcpState,
    /// Why the flow ended.
    pub end_reason: EndReason,
    /// TCP flags seen from the initiator, e.g. `FSPA`.
    pub tcp_flags_fwd: String,
    /// TCP flags seen from the responder.
    pub tcp_flags_rev: String,
}

impl From<&FlowRecord> for FlowJson {
    fn from(r: &FlowRecord) -> Self {
        FlowJson {
            proto: r.proto_name(),
            src_ip: r.src_ip,
            src_port: r.src_port,
            dst_ip: r.dst_ip,
            dst_port: r.dst_port,
            packets_fwd: r.fwd.packets,
            bytes_fwd: r.fwd.bytes,
            packets_rev: r.rev.packets,
            bytes_rev: r.rev.bytes,
            payload_bytes_fwd: r.fwd.payload_bytes,
            payload_bytes_rev: r.rev.payload_bytes,
            first_ts: r.first_ts.as_secs_f64(),
            last_ts: r.last_ts.as_secs_f64(),
            state: r.state,
            end_reason: r.end_reason,
            tcp_flags_fwd: tcp_flags::render(r.fwd.tcp_flags),
            tcp_flags_rev: tcp_flags::render(r.rev.tcp_flags),
        }
    }
}

/// One interval.
#[derive(Debug, Clone, Serialize)]
pub struct IntervalJson {
    /// Interval start, seconds.
    pub start_ts: f64,
    /// Frames.
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// Bits per second.
    pub bps: f64,
    /// Packets per second.
    pub pps: f64,
    /// Frames per protocol class.
    pub protocols: ProtocolCounts,
    /// TCP control segments.
    pub tcp_flags: TcpFlagCounts,
    /// Distinct source addresses.
    pub distinct_src_ips: u64,
    /// Distinct destination addresses.
    pub distinct_dst_ips: u64,
    /// Flows started.
    pub flows_new: u64,
    /// Flows with traffic.
    pub flows_active: u64,
    /// Flows ended.
    pub flows_closed: u64,
    /// Packets lost before decoding (kernel, interface, queue).
    pub drops: DropCounts,
}

impl From<&IntervalMetrics> for IntervalJson {
    fn from(m: &IntervalMetrics) -> Self {
        IntervalJson {
            start_ts: m.start_ts.as_secs_f64(),
            packets: m.packets,
            bytes: m.bytes,
            bps: m.bps,
            pps: m.pps,
            protocols: m.protocols,
            tcp_flags: m.tcp_flags,
            distinct_src_ips: m.distinct_src_ips,
            distinct_dst_ips: m.distinct_dst_ips,
            flows_new: m.flows_new,
            flows_active: m.flows_active,
            flows_closed: m.flows_closed,
            drops: m.drops,
        }
    }
}

/// Flow table counters over the run.
#[derive(Debug, Clone, Serialize)]
pub struct FlowTableJson {
    /// Flows created.
    pub created: u64,
    /// Flows evicted because the table was full.
    pub evicted: u64,
    /// Flows not listed in `flows` because of the report's flow cap.
    pub omitted_from_report: u64,
}

/// A notice for JSON.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeJson {
    /// The file.
    pub file: PathBuf,
    /// The message.
    pub message: String,
}

/// The result of `wirewatch analyze`.
#[derive(Debug, Clone, Serialize)]
pub struct AnalyzeReport {
    /// Frames read.
    pub packets: u64,
    /// Sum of original wire lengths.
    pub bytes: u64,
    /// Sum of captured lengths.
    pub captured_bytes: u64,
    /// First frame time, seconds (null when no frame).
    pub first_ts: Option<f64>,
    /// Last frame time, seconds (null when no frame).
    pub last_ts: Option<f64>,
    /// Seconds from the first to the last frame.
    pub duration_s: f64,
    /// Frames per protocol class.
    pub protocols: ProtocolCounts,
    /// TCP control segments.
    pub tcp_flags: TcpFlagCounts,
    /// Distinct source addresses (outermost IP header).
    pub distinct_src_ips: u64,
    /// Distinct destination addresses.
    pub distinct_dst_ips: u64,
    /// Whether the distinct counts and top talkers are estimates (very many addresses).
    pub talkers_approximate: bool,
    /// Top sources by bytes.
    pub top_sources: Vec<TalkerJson>,
    /// Top destinations by bytes.
    pub top_destinations: Vec<TalkerJson>,
    /// Every flow (up to the report's flow cap), in the order they ended.
    #[serde(serialize_with = "serialize_flows")]
    pub flows: Vec<FlowRecord>,
    /// Every interval.
    #[serde(serialize_with = "serialize_intervals")]
    pub intervals: Vec<IntervalMetrics>,
    /// Interval length, seconds.
    pub interval_s: f64,
    /// Frames that decoded only partly, by reason.
    pub decode_errors: BTreeMap<&'static str, u64>,
    /// Packets lost before decoding (kernel, interface, queue); zero when reading files.
    pub drops: DropCounts,
    /// How often a frame's timestamp was earlier than the previous frame's.
    pub timestamps_backwards: u64,
    /// Flow table counters.
    pub flow_table: FlowTableJson,
    /// What was read from each file.
    pub files: Vec<FileSummary>,
    /// Problems that stopped reading a file.
    pub errors: Vec<NoticeJson>,
    /// Oddities that did not.
    pub warnings: Vec<NoticeJson>,
    /// Alerts raised, each in its final state, in the order they started.
    pub alerts: Vec<Alert>,
    /// Database counters (written, dropped, errors), when storing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<wirewatch_store::StoreStats>,
}

fn serialize_flows<S: serde::Serializer>(flows: &[FlowRecord], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(flows.iter().map(FlowJson::from))
}

fn serialize_intervals<S: serde::Serializer>(
    intervals: &[IntervalMetrics],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(intervals.iter().map(IntervalJson::from))
}

/// Assembles the report once the engine has finished.
#[allow(clippy::too_many_arguments)]
pub(super) fn build(
    engine: &Engine,
    intervals: Vec<IntervalMetrics>,
    flows: Vec<FlowRecord>,
    flows_omitted: u64,
    files: Vec<FileSummary>,
    errors: Vec<Notice>,
    warnings: Vec<Notice>,
    top_n: usize,
) -> AnalyzeReport {
    let totals = engine.totals();
    let c = &totals.counters;
    let secs = |t: Option<Timestamp>| t.map(Timestamp::as_secs_f64);
    let duration_s = match (totals.first_ts, totals.last_ts) {
        (Some(a), Some(b)) => b.since(a) as f64 / 1e9,
        _ => 0.0,
    };
    let to_json = |n: Vec<Notice>| {
        n.into_iter()
            .map(|n| NoticeJson {
                file: n.path,
                message: n.message,
            })
            .collect()
    };
    let stats = engine.flow_stats();
    AnalyzeReport {
        packets: c.packets,
        bytes: c.bytes,
        captured_bytes: c.captured_bytes,
        first_ts: secs(totals.first_ts),
        last_ts: secs(totals.last_ts),
        duration_s,
        protocols: c.protocols,
        tcp_flags: c.tcp_flags,
        distinct_src_ips: c.sources.distinct(),
        distinct_dst_ips: c.destinations.distinct(),
        talkers_approximate: c.sources.is_approximate() || c.destinations.is_approximate(),
        top_sources: c
            .sources
            .top_by_bytes(top_n)
            .iter()
            .map(TalkerJson::from)
            .collect(),
        top_destinations: c
            .destinations
            .top_by_bytes(top_n)
            .iter()
            .map(TalkerJson::from)
            .collect(),
        flows,
        intervals,
        interval_s: engine.interval_ns() as f64 / 1e9,
        decode_errors: c.decode_errors(),
        drops: engine.drops(),
        timestamps_backwards: totals.ts_backwards,
        flow_table: FlowTableJson {
            created: stats.created,
            evicted: stats.evicted,
            omitted_from_report: flows_omitted,
        },
        files,
        errors: to_json(errors),
        warnings: to_json(warnings),
        alerts: Vec::new(),
        store: None,
    }
}
