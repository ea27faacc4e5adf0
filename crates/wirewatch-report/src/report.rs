//! The analysis report and its stable JSON layout.
//!
//! Field names here are a public interface (`wirewatch analyze --json`): add fields freely,
//! never rename or remove one.

use crate::Notice;
use crate::names::{AppTotalJson, AppTotals, DnsQueryJson, ServerNameJson};
use serde::Serialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::PathBuf;
use wirewatch_core::{
    Alert, DropCounts, FlowRecord, IntervalMetrics, ProtocolCounts, Talker, TcpFlagCounts,
    Timestamp, Transaction,
};
use wirewatch_engine::Engine;
use wirewatch_store::{FlowRow, IntervalRow};

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
    /// Host name learned from DNS answers on the wire, if any.
    pub name: Option<String>,
}

impl TalkerJson {
    fn new(t: &Talker, engine: &Engine) -> Self {
        TalkerJson {
            ip: t.ip,
            packets: t.packets,
            bytes: t.bytes,
            name: engine.host_name(t.ip).map(str::to_string),
        }
    }
}

/// Application-layer totals of the run.
#[derive(Debug, Clone, Serialize)]
pub struct ApplicationsJson {
    /// Flows, packets and bytes per application protocol, most bytes first.
    pub apps: Vec<AppTotalJson>,
    /// Server names (TLS/QUIC SNI, HTTP host, DNS query, passive DNS) with the most flows.
    pub top_server_names: Vec<ServerNameJson>,
    /// The most asked DNS names.
    pub top_dns_queries: Vec<DnsQueryJson>,
    /// DNS responses by response code (`NOERROR`, `NXDOMAIN`, ...).
    pub dns_rcodes: BTreeMap<String, u64>,
    /// Addresses whose host name was learned from DNS answers.
    pub host_names_learned: u64,
    /// Names not counted because the name tables were full.
    pub names_untracked: u64,
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
    /// IP fragment reassembly.
    pub reassembly: ReassemblyJson,
}

/// Fragment reassembly counters over the run (all zero when reassembly is off).
#[derive(Debug, Clone, Default, Serialize)]
pub struct ReassemblyJson {
    /// Fragments seen (IPv6 atomic fragments included).
    pub fragments: u64,
    /// Datagrams reassembled.
    pub reassembled: u64,
    /// IPv6 atomic fragments, passed through.
    pub atomic: u64,
    /// Fragments that overlapped held bytes with the same values and brought new ones.
    pub overlaps: u64,
    /// Fragments that overlapped held bytes with different values (an evasion signal).
    pub overlap_conflicts: u64,
    /// First fragments too short for their transport header.
    pub tiny_first: u64,
    /// Fragments not kept, by reason (every reason listed).
    pub dropped: BTreeMap<&'static str, u64>,
    /// Datagrams given up incomplete, by reason (every reason listed).
    pub abandoned: BTreeMap<&'static str, u64>,
    /// Fragments held by the datagrams given up.
    pub fragments_abandoned: u64,
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
    /// Application protocols, names and DNS response codes.
    pub applications: ApplicationsJson,
    /// Every flow (up to the report's flow cap), in the order they ended.
    #[serde(serialize_with = "serialize_flows")]
    pub flows: Vec<FlowRecord>,
    /// Every interval (`wirewatch run`: the latest ones, see `intervals_omitted`).
    #[serde(serialize_with = "serialize_intervals")]
    pub intervals: Vec<IntervalMetrics>,
    /// Intervals not listed because of the report's interval cap (`run` keeps the latest).
    pub intervals_omitted: u64,
    /// Interval length, seconds.
    pub interval_s: f64,
    /// Frames that decoded only partly, by reason.
    pub decode_errors: BTreeMap<&'static str, u64>,
    /// Packets lost before decoding (kernel, interface, queue); zero when reading files.
    pub drops: DropCounts,
    /// How often a frame's timestamp was earlier than the previous frame's.
    pub timestamps_backwards: u64,
    /// Frames whose timestamp was too far ahead of their neighbours to believe (more than a
    /// day, unconfirmed by the next frame, or past the year 2262): analysed at the time of
    /// the frame before them.
    pub timestamps_far_ahead: u64,
    /// Silent intervals not listed as empty ones: a gap longer than `max_empty_intervals`
    /// (3,600), or past the run's allowance of a day of intervals in gaps over a minute.
    pub intervals_skipped: u64,
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
    /// Alerts not listed because of the report's alert cap (`run` keeps the latest).
    pub alerts_omitted: u64,
    /// Inner packets of tunnels opened (IP-in-IP, GRE, ERSPAN, VXLAN, Geneve, Teredo, GTP-U):
    /// each is a packet of its own inner flow, while `packets`, `bytes` and the protocol
    /// counts count its frame once, by the outer headers (as tshark does).
    pub tunnelled_packets: u64,
    /// DNS transactions (a query and its answer each), in the order they started.
    pub dns: Vec<Transaction>,
    /// HTTP transactions (a request and its response each).
    pub http: Vec<Transaction>,
    /// TLS and QUIC handshakes.
    pub tls: Vec<Transaction>,
    /// Transactions not listed because of the report's cap (per kind; `run` keeps the latest)
    /// or of a flow's `max_transactions_per_flow`.
    pub transactions_omitted: u64,
    /// TCP health per host (client or server of finished TCP connections): the hosts with the
    /// most retransmissions and lost segments, then the most connections.
    pub tcp_hosts: Vec<crate::tcp_hosts::TcpHostJson>,
    /// Hosts dropped from the per-host TCP count to stay within its cap.
    pub tcp_hosts_evicted: u64,
    /// Database counters (written, dropped, errors), when storing.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub store: Option<wirewatch_store::StoreStats>,
    /// Packet ring, evidence captures and capture files, when packets were recorded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub evidence: Option<wirewatch_evidence::EvidenceStats>,
}

/// Flows in the layout `wirewatch export --what flows` uses, so both read alike.
fn serialize_flows<S: serde::Serializer>(flows: &[FlowRecord], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(flows.iter().map(FlowRow::from_record))
}

/// Intervals in the layout `wirewatch export --what intervals` uses.
fn serialize_intervals<S: serde::Serializer>(
    intervals: &[IntervalMetrics],
    s: S,
) -> Result<S::Ok, S::Error> {
    s.collect_seq(intervals.iter().map(IntervalRow::from_metrics))
}

/// Assembles the report once the engine has finished.
#[allow(clippy::too_many_arguments)]
pub fn build(
    engine: &Engine,
    intervals: Vec<IntervalMetrics>,
    flows: Vec<FlowRecord>,
    flows_omitted: u64,
    files: Vec<FileSummary>,
    errors: Vec<Notice>,
    warnings: Vec<Notice>,
    top_n: usize,
    app_totals: &AppTotals,
    tcp_hosts: &crate::tcp_hosts::TcpHosts,
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
            .map(|t| TalkerJson::new(t, engine))
            .collect(),
        top_destinations: c
            .destinations
            .top_by_bytes(top_n)
            .iter()
            .map(|t| TalkerJson::new(t, engine))
            .collect(),
        applications: ApplicationsJson {
            apps: app_totals.apps(&totals.apps.to_vec()),
            top_server_names: app_totals.top_server_names(top_n),
            top_dns_queries: app_totals.top_dns_queries(top_n),
            dns_rcodes: app_totals.dns_rcodes(),
            host_names_learned: stats.host_names,
            names_untracked: app_totals.names_untracked(),
        },
        flows,
        intervals,
        intervals_omitted: 0,
        interval_s: engine.interval_ns() as f64 / 1e9,
        decode_errors: c.decode_errors(),
        drops: engine.drops(),
        timestamps_backwards: totals.ts_backwards,
        timestamps_far_ahead: engine.timestamps_far_ahead(),
        intervals_skipped: totals.intervals_skipped,
        flow_table: FlowTableJson {
            created: stats.created,
            evicted: stats.evicted,
            omitted_from_report: flows_omitted,
            reassembly: ReassemblyJson {
                fragments: stats.reassembly.fragments,
                reassembled: stats.reassembly.reassembled,
                atomic: stats.reassembly.atomic,
                overlaps: stats.reassembly.overlaps,
                overlap_conflicts: stats.reassembly.overlap_conflicts,
                tiny_first: stats.reassembly.tiny_first,
                dropped: stats.reassembly.dropped_by_reason().collect(),
                abandoned: stats.reassembly.abandoned_by_reason().collect(),
                fragments_abandoned: stats.reassembly.fragments_abandoned,
            },
        },
        files,
        errors: to_json(errors),
        warnings: to_json(warnings),
        alerts: Vec::new(),
        alerts_omitted: 0,
        tunnelled_packets: engine.tunnelled_packets(),
        dns: Vec::new(),
        http: Vec::new(),
        tls: Vec::new(),
        transactions_omitted: engine.flow_stats().transactions_omitted,
        tcp_hosts: tcp_hosts.top(engine),
        tcp_hosts_evicted: tcp_hosts.evicted(),
        store: None,
        evidence: engine
            .evidence()
            .map(wirewatch_evidence::EvidenceRecorder::stats),
    }
}
