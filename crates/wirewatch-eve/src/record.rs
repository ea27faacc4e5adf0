//! EVE records: one JSON object per line, with Suricata's field names.
//!
//! A record carries Suricata's common fields (`timestamp`, `flow_id`, `event_type`, `src_ip`,
//! `src_port`, `dest_ip`, `dest_port`, `proto`, `community_id`, `app_proto`), then the event's
//! own object (`flow` and `tcp`, or `alert`). What Suricata has no field for goes under the
//! `wirewatch` key, so nothing collides with a field a SIEM already maps.

use super::community::{
    PROTO_ICMP, PROTO_ICMPV6, PROTO_SCTP, PROTO_TCP, PROTO_UDP, community_id_hash, flow_id_of,
    record_hash, record_is_echo, record_tuple, render,
};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::net::IpAddr;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{
    Alert, AppProto, AppSource, EndReason, FlowRecord, Severity, TcpState, Timestamp,
};
use wirewatch_core::{IncidentStatus, kind};

/// `event_type` of a finished flow.
pub const EVENT_FLOW: &str = "flow";
/// `event_type` of an alert.
pub const EVENT_ALERT: &str = "alert";

/// Suricata's generator id of rule alerts; every Wirewatch alert uses it.
pub const ALERT_GID: u32 = 1;
/// Revision of every Wirewatch signature.
pub const ALERT_REV: u32 = 1;
/// Wirewatch only watches: every alert was `allowed` through.
pub const ALERT_ACTION: &str = "allowed";

/// Signature ids of the alert kinds, in Suricata's range for local rules (1000000–1999999).
/// The numbers are stable: a kind keeps its id, new kinds take the next free one.
///
/// | kind | signature_id |
/// |---|---|
/// | `spike` | 1970001 |
/// | `syn_flood` | 1970002 |
/// | `port_scan` | 1970003 |
/// | `dos` | 1970004 |
/// | `ddos` | 1970005 |
/// | `brute_force` | 1970006 |
/// | `icmp_flood` | 1970007 |
/// | `udp_flood` | 1970008 |
/// | `dns_tunnel` | 1970009 |
/// | `dns_amplification` | 1970010 |
/// | `threat_intel` (and `threat_intel_*`) | 1970011 |
/// | `ml_anomaly` | 1970012 |
/// | `ml_threat` | 1970013 |
/// | any other kind | 1971000 + (FNV-1a of the kind mod 1000) |
pub const SIGNATURE_IDS: [(&str, u32); 13] = [
    (kind::SPIKE, 1_970_001),
    (kind::SYN_FLOOD, 1_970_002),
    (kind::PORT_SCAN, 1_970_003),
    (kind::DOS, 1_970_004),
    (kind::DDOS, 1_970_005),
    (kind::BRUTE_FORCE, 1_970_006),
    (kind::ICMP_FLOOD, 1_970_007),
    (kind::UDP_FLOOD, 1_970_008),
    (kind::DNS_TUNNEL, 1_970_009),
    (kind::DNS_AMPLIFICATION, 1_970_010),
    (kind::THREAT_INTEL, 1_970_011),
    (kind::ML_ANOMALY, 1_970_012),
    (kind::ML_THREAT, 1_970_013),
];
/// First signature id of kinds missing from [`SIGNATURE_IDS`].
pub const UNKNOWN_KIND_SID_BASE: u32 = 1_971_000;
/// Number of signature ids kinds missing from [`SIGNATURE_IDS`] hash into.
const UNKNOWN_KIND_SID_SPAN: u32 = 1_000;
/// FNV-1a offset basis (32 bits).
const FNV_OFFSET: u32 = 0x811c_9dc5;
/// FNV-1a prime (32 bits).
const FNV_PRIME: u32 = 0x0100_0193;

/// Suricata's highest severity (its severities run 1, most severe, to 3).
const SEVERITY_HIGHEST: u8 = 1;
/// Suricata's middle severity.
const SEVERITY_MEDIUM: u8 = 2;
/// Suricata's lowest severity.
const SEVERITY_LOW: u8 = 3;

/// TCP flag bits as Suricata names them.
const TCP_FIN: u8 = 0x01;
/// SYN bit.
const TCP_SYN: u8 = 0x02;
/// RST bit.
const TCP_RST: u8 = 0x04;
/// PSH bit.
const TCP_PSH: u8 = 0x08;
/// ACK bit.
const TCP_ACK: u8 = 0x10;
/// URG bit.
const TCP_URG: u8 = 0x20;
/// ECE bit (Suricata: `ecn`).
const TCP_ECE: u8 = 0x40;
/// CWR bit.
const TCP_CWR: u8 = 0x80;

/// IP protocol numbers Suricata names (from `/etc/protocols`) besides the ones with ports.
const PROTO_IGMP: u8 = 2;
/// GRE.
const PROTO_GRE: u8 = 47;
/// ESP.
const PROTO_ESP: u8 = 50;
/// AH.
const PROTO_AH: u8 = 51;

/// ICMP echo reply type.
const ICMP4_ECHO_REPLY: u8 = 0;
/// ICMPv6 echo reply type.
const ICMP6_ECHO_REPLY: u8 = 129;

/// Suricata's packet time: UTC with microseconds (truncated) and the offset, always `+0000`.
const SURICATA_TIME: &str = "%Y-%m-%dT%H:%M:%S.%6f+0000";

/// The signature id of an alert kind (see [`SIGNATURE_IDS`]).
pub fn signature_id(kind: &str) -> u32 {
    if let Some((_, sid)) = SIGNATURE_IDS.iter().find(|(k, _)| *k == kind) {
        return *sid;
    }
    if kind.starts_with(kind::THREAT_INTEL) {
        return SIGNATURE_IDS
            .iter()
            .find(|(k, _)| *k == kind::THREAT_INTEL)
            .map_or(UNKNOWN_KIND_SID_BASE, |(_, sid)| *sid);
    }
    let hash = kind.bytes().fold(FNV_OFFSET, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(FNV_PRIME)
    });
    UNKNOWN_KIND_SID_BASE + hash % UNKNOWN_KIND_SID_SPAN
}

/// Suricata's severity of an alert: critical and high 1, medium 2, low 3.
pub fn suricata_severity(severity: Severity) -> u8 {
    match severity {
        Severity::Critical | Severity::High => SEVERITY_HIGHEST,
        Severity::Medium => SEVERITY_MEDIUM,
        Severity::Low => SEVERITY_LOW,
    }
}

/// Suricata's name of an IP protocol: `TCP`, `UDP`, `ICMP`, `IPv6-ICMP`, `SCTP`, `IGMP`, `GRE`,
/// `ESP`, `AH`, or the number.
pub fn proto_name(proto: u8) -> Cow<'static, str> {
    Cow::Borrowed(match proto {
        PROTO_TCP => "TCP",
        PROTO_UDP => "UDP",
        PROTO_ICMP => "ICMP",
        PROTO_ICMPV6 => "IPv6-ICMP",
        PROTO_SCTP => "SCTP",
        PROTO_IGMP => "IGMP",
        PROTO_GRE => "GRE",
        PROTO_ESP => "ESP",
        PROTO_AH => "AH",
        other => return Cow::Owned(other.to_string()),
    })
}

/// Suricata's name of an application protocol where it differs from Wirewatch's.
fn app_proto_name(app: AppProto) -> &'static str {
    match app {
        AppProto::Kerberos => "krb5",
        AppProto::Postgresql => "pgsql",
        AppProto::Vnc => "rfb",
        other => other.name(),
    }
}

/// A packet time as Suricata writes it: `2024-05-01T12:34:56.123456+0000` (UTC, microseconds).
pub fn format_timestamp(ts: Timestamp) -> String {
    ts.format_utc(SURICATA_TIME)
}

/// One EVE line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EveRecord {
    /// Packet time of the event (flows: their last packet; alerts: their latest evidence).
    pub timestamp: String,
    /// Flow identifier: the first 8 bytes of the Community ID digest (see
    /// [`super::community::flow_id_of`]). The same 5-tuple always gets the same id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow_id: Option<u64>,
    /// `flow` or `alert`.
    pub event_type: String,
    /// Initiator (flows) or first source (alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_ip: Option<IpAddr>,
    /// Initiator's port (TCP, UDP, SCTP; alerts have none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub src_port: Option<u16>,
    /// Responder (flows) or first target (alerts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_ip: Option<IpAddr>,
    /// Responder's port (TCP, UDP, SCTP), or an alert's first port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dest_port: Option<u16>,
    /// Protocol name (see [`proto_name`]); alerts of kinds without one have none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proto: Option<String>,
    /// ICMP flows: the initiator's message type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<u8>,
    /// ICMP flows: the initiator's message code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_code: Option<u8>,
    /// ICMP echo flows with an answer: the reply's type.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_icmp_type: Option<u8>,
    /// ICMP echo flows with an answer: the reply's code.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_icmp_code: Option<u8>,
    /// Community ID v1 of the flow (alerts: of their first source, target and port).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub community_id: Option<String>,
    /// Application protocol, when the payload confirmed it (port guesses are under
    /// `wirewatch.app`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_proto: Option<String>,
    /// The alert (alert events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alert: Option<EveAlert>,
    /// The flow's counters and end (flow events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flow: Option<EveFlow>,
    /// TCP flags and state (TCP flow events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp: Option<EveTcp>,
    /// The DNS query or answer (`dns` events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns: Option<crate::transaction::EveDns>,
    /// The HTTP transaction (`http` events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<crate::transaction::EveHttp>,
    /// The TLS handshake (`tls` events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<crate::transaction::EveHello>,
    /// The QUIC handshake (`quic` events).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quic: Option<crate::transaction::EveHello>,
    /// What Wirewatch knows beyond Suricata's fields.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub wirewatch: Option<EveExtras>,
}

/// The `flow` object of a flow event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveFlow {
    /// Packets initiator → responder.
    pub pkts_toserver: u64,
    /// Packets responder → initiator.
    pub pkts_toclient: u64,
    /// Wire bytes (link layer included) initiator → responder.
    pub bytes_toserver: u64,
    /// Wire bytes responder → initiator.
    pub bytes_toclient: u64,
    /// Time of the first packet.
    pub start: String,
    /// Time of the last packet.
    pub end: String,
    /// Whole seconds from start to end (Suricata's difference of the seconds).
    pub age: u64,
    /// `new` (one direction only, or a TCP handshake), `established` or `closed`.
    pub state: String,
    /// Why it was logged: `timeout`, `forced` (evicted, port reused) or `shutdown` (end of
    /// the capture).
    pub reason: String,
    /// Whether an alert open around the flow's end names both its endpoints (an approximation:
    /// Wirewatch's alerts are about hosts, not single flows).
    pub alerted: bool,
}

/// The `tcp` object of a TCP flow event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveTcp {
    /// Union of the flags of both directions, two lower-case hex digits (`1b`).
    pub tcp_flags: String,
    /// Flags initiator → responder.
    pub tcp_flags_ts: String,
    /// Flags responder → initiator.
    pub tcp_flags_tc: String,
    /// SYN seen (present only when true, as in Suricata).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub syn: Option<bool>,
    /// FIN seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fin: Option<bool>,
    /// RST seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rst: Option<bool>,
    /// PSH seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub psh: Option<bool>,
    /// ACK seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack: Option<bool>,
    /// URG seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub urg: Option<bool>,
    /// ECE seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ecn: Option<bool>,
    /// CWR seen.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cwr: Option<bool>,
    /// Suricata's name of the TCP state: `syn_sent`, `syn_recv`, `established`, `fin_wait1`,
    /// `close_wait`, `closed` or `none`.
    pub state: String,
}

/// The `alert` object of an alert event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EveAlert {
    /// Always `allowed`: Wirewatch does not block.
    pub action: String,
    /// Generator id ([`ALERT_GID`]).
    pub gid: u32,
    /// Signature id of the kind ([`signature_id`]).
    pub signature_id: u32,
    /// Revision ([`ALERT_REV`]).
    pub rev: u32,
    /// The alert's message.
    pub signature: String,
    /// The alert's kind.
    pub category: String,
    /// 1 (critical, high), 2 (medium) or 3 (low).
    pub severity: u8,
    /// Rule-style metadata: each value a list of strings, as Suricata writes it.
    pub metadata: BTreeMap<String, Vec<String>>,
}

/// Wirewatch's own fields (the `wirewatch` key); each is present only when it applies.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EveExtras {
    /// Flows: application protocol (also a port guess).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app: Option<String>,
    /// Flows: how `app` was found (`port` or `payload`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub app_source: Option<String>,
    /// Flows: server name (TLS SNI, HTTP Host, QUIC SNI...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_name: Option<String>,
    /// Flows: threat-intelligence verdict on an endpoint (`blocklist NAME (ENTRY)`,
    /// `abuseipdb SCORE`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reputation: Option<String>,
    /// Flows: the address the verdict is about.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reputation_ip: Option<IpAddr>,
    /// Flows: the verdict's score, 0–100.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reputation_score: Option<u8>,
    /// Flows: Wirewatch's end reason (`idle_timeout`, `fin`, `rst`, `evicted`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_reason: Option<EndReason>,
    /// TCP flows: Wirewatch's connection state.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tcp_state: Option<TcpState>,
    /// ICMP echo flows: the echo identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub icmp_echo_id: Option<u16>,
    /// Flows: transport payload bytes initiator → responder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_bytes_toserver: Option<u64>,
    /// Flows: transport payload bytes responder → initiator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload_bytes_toclient: Option<u64>,
    /// Alerts: incident id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub incident_id: Option<u64>,
    /// Alerts: what made it written (`opened`, or `updated`/`ended` for an incident whose
    /// opening was not seen).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// Alerts: Wirewatch's severity name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub severity: Option<Severity>,
    /// Alerts: confidence, 0–1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<f64>,
    /// Alerts: time of the first evidence.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<String>,
    /// Alerts: updates so far.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updates: Option<u64>,
    /// Alerts: every source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sources: Option<Vec<IpAddr>>,
    /// Alerts: every target.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub targets: Option<Vec<IpAddr>>,
    /// Alerts: every port.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<Vec<u16>>,
    /// Alerts: what to do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recommendation: Option<String>,
    /// Alerts: metric values, thresholds and top contributors.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<serde_json::Value>,
}

/// Two lower-case hex digits, as Suricata writes TCP flags.
fn hex_flags(flags: u8) -> String {
    format!("{flags:02x}")
}

/// `Some(true)` when `bit` is set (Suricata writes only the flags it saw).
fn flag(flags: u8, bit: u8) -> Option<bool> {
    (flags & bit != 0).then_some(true)
}

/// Suricata's name of a flow's TCP state.
fn tcp_state_name(record: &FlowRecord) -> &'static str {
    match record.state {
        TcpState::None => "none",
        TcpState::Handshake if record.rev.tcp_flags & TCP_SYN != 0 => "syn_recv",
        TcpState::Handshake => "syn_sent",
        TcpState::Established => "established",
        TcpState::Closing if record.fwd.tcp_flags & TCP_FIN != 0 => "fin_wait1",
        TcpState::Closing => "close_wait",
        TcpState::Closed | TcpState::Reset => "closed",
    }
}

/// Suricata's flow state: `new`, `established` or `closed`.
fn flow_state_name(record: &FlowRecord) -> &'static str {
    if record.ip_proto == PROTO_TCP {
        match record.state {
            TcpState::Closed | TcpState::Reset => "closed",
            TcpState::Established | TcpState::Closing => "established",
            TcpState::None | TcpState::Handshake => "new",
        }
    } else if record.fwd.packets > 0 && record.rev.packets > 0 {
        "established"
    } else {
        "new"
    }
}

/// Suricata's reason a flow was logged.
fn flow_reason_name(reason: EndReason) -> &'static str {
    match reason {
        EndReason::IdleTimeout | EndReason::ActiveTimeout | EndReason::Fin | EndReason::Rst => {
            "timeout"
        }
        EndReason::Evicted | EndReason::PortReuse => "forced",
        EndReason::EndOfCapture => "shutdown",
    }
}

/// Whether the protocol's flows have ports in EVE.
fn has_ports(proto: u8) -> bool {
    matches!(proto, PROTO_TCP | PROTO_UDP | PROTO_SCTP)
}

/// The IP protocol of an alert's traffic, when its kind tells it.
fn alert_proto(alert: &Alert) -> Option<u8> {
    let k = alert.kind.as_str();
    if k == kind::SYN_FLOOD || k == kind::BRUTE_FORCE {
        Some(PROTO_TCP)
    } else if k == kind::UDP_FLOOD || k == kind::DNS_TUNNEL || k == kind::DNS_AMPLIFICATION {
        Some(PROTO_UDP)
    } else if k == kind::PORT_SCAN {
        let udp = alert.evidence.get("style").and_then(|s| s.as_str()) == Some("udp");
        Some(if udp { PROTO_UDP } else { PROTO_TCP })
    } else if k == kind::ICMP_FLOOD {
        let v6 = alert
            .targets
            .first()
            .or(alert.sources.first())
            .is_some_and(IpAddr::is_ipv6);
        Some(if v6 { PROTO_ICMPV6 } else { PROTO_ICMP })
    } else {
        None
    }
}

/// Lower-case name of an incident status.
fn status_name(status: IncidentStatus) -> &'static str {
    match status {
        IncidentStatus::Opened => "opened",
        IncidentStatus::Updated => "updated",
        IncidentStatus::Ended => "ended",
    }
}

impl EveRecord {
    /// The `flow` event of a finished flow. `seed` seeds the Community ID; `alerted` fills
    /// `flow.alerted`.
    pub fn from_flow(record: &FlowRecord, seed: u16, alerted: bool) -> EveRecord {
        let digest = record_hash(record, seed);
        let proto = record.ip_proto;
        let ports = has_ports(proto);
        let icmp = proto == PROTO_ICMP || proto == PROTO_ICMPV6;
        let echo = icmp && record_is_echo(record);
        let (_, _, _, itype, icode) = record_tuple(record);
        let (icmp_type, icmp_code) = if icmp {
            (u8::try_from(itype).ok(), u8::try_from(icode).ok())
        } else {
            (None, None)
        };
        let answered = echo && record.rev.packets > 0;
        let response_icmp_type = answered.then_some(if proto == PROTO_ICMP {
            ICMP4_ECHO_REPLY
        } else {
            ICMP6_ECHO_REPLY
        });
        let tcp = (proto == PROTO_TCP).then(|| {
            let all = record.fwd.tcp_flags | record.rev.tcp_flags;
            EveTcp {
                tcp_flags: hex_flags(all),
                tcp_flags_ts: hex_flags(record.fwd.tcp_flags),
                tcp_flags_tc: hex_flags(record.rev.tcp_flags),
                syn: flag(all, TCP_SYN),
                fin: flag(all, TCP_FIN),
                rst: flag(all, TCP_RST),
                psh: flag(all, TCP_PSH),
                ack: flag(all, TCP_ACK),
                urg: flag(all, TCP_URG),
                ecn: flag(all, TCP_ECE),
                cwr: flag(all, TCP_CWR),
                state: tcp_state_name(record).to_string(),
            }
        });
        let app = record.app;
        let reputation = record.reputation.as_deref();
        let extras = EveExtras {
            app: (app.proto != AppProto::Unknown).then(|| app.proto.name().to_string()),
            app_source: (app.source != AppSource::None).then(|| app.source.name().to_string()),
            server_name: record.server_name().map(str::to_string),
            reputation: reputation.map(|r| r.summary()),
            reputation_ip: reputation.map(|r| r.ip),
            reputation_score: reputation.map(|r| r.score),
            end_reason: Some(record.end_reason),
            tcp_state: (proto == PROTO_TCP).then_some(record.state),
            icmp_echo_id: echo.then_some(record.src_port),
            payload_bytes_toserver: Some(record.fwd.payload_bytes),
            payload_bytes_toclient: Some(record.rev.payload_bytes),
            ..EveExtras::default()
        };
        EveRecord {
            timestamp: format_timestamp(record.last_ts),
            flow_id: Some(flow_id_of(&digest)),
            event_type: EVENT_FLOW.to_string(),
            src_ip: Some(record.src_ip),
            src_port: ports.then_some(record.src_port),
            dest_ip: Some(record.dst_ip),
            dest_port: ports.then_some(record.dst_port),
            proto: Some(proto_name(proto).into_owned()),
            icmp_type,
            icmp_code,
            response_icmp_type,
            response_icmp_code: answered.then_some(0),
            community_id: Some(render(&digest)),
            app_proto: (app.source == AppSource::Payload && app.proto != AppProto::Unknown)
                .then(|| app_proto_name(app.proto).to_string()),
            alert: None,
            flow: Some(EveFlow {
                pkts_toserver: record.fwd.packets,
                pkts_toclient: record.rev.packets,
                bytes_toserver: record.fwd.bytes,
                bytes_toclient: record.rev.bytes,
                start: format_timestamp(record.first_ts),
                end: format_timestamp(record.last_ts),
                age: (record.last_ts.nanos() / NANOS_PER_SEC)
                    .saturating_sub(record.first_ts.nanos() / NANOS_PER_SEC),
                state: flow_state_name(record).to_string(),
                reason: flow_reason_name(record.end_reason).to_string(),
                alerted,
            }),
            tcp,
            wirewatch: Some(extras),
            ..EveRecord::default()
        }
    }

    /// The `alert` event of an alert in its current state; `status` is what just happened to
    /// it. Source and destination are its first source and target; `dest_port` its first
    /// port. When it has all three and its kind tells the protocol (see the module docs),
    /// `community_id` and `flow_id` hash that tuple with source port 0 (Wirewatch's alerts
    /// are about hosts, not single connections): alerts on the same host pair and service
    /// share them, but they do not equal the Community ID of any one flow.
    pub fn from_alert(alert: &Alert, status: IncidentStatus, seed: u16) -> EveRecord {
        let src = alert.sources.first().copied();
        let dst = alert.targets.first().copied();
        let port = alert.ports.first().copied();
        let proto = alert_proto(alert);
        let digest = match (proto, src, dst, port) {
            (Some(p), Some(s), Some(d), Some(dp)) if s.is_ipv4() == d.is_ipv4() => {
                let (sport, dport) = if p == PROTO_ICMP || p == PROTO_ICMPV6 {
                    (dp, 0)
                } else {
                    (0, dp)
                };
                Some(community_id_hash(p, s, d, sport, dport, seed))
            }
            _ => None,
        };
        let mut metadata = BTreeMap::new();
        let mut meta = |key: &str, value: String| {
            metadata.insert(key.to_string(), vec![value]);
        };
        meta("wirewatch_kind", alert.kind.clone());
        meta("confidence", format!("{:.2}", alert.confidence));
        meta("recommendation", alert.recommendation.clone());
        meta("incident_id", alert.id.to_string());
        meta("updates", alert.updates.to_string());
        meta("wirewatch_severity", alert.severity.name().to_string());
        let extras = EveExtras {
            incident_id: Some(alert.id),
            status: Some(status_name(status).to_string()),
            severity: Some(alert.severity),
            confidence: Some(alert.confidence),
            start: Some(format_timestamp(alert.start_ts)),
            updates: Some(alert.updates),
            sources: Some(alert.sources.clone()),
            targets: Some(alert.targets.clone()),
            ports: Some(alert.ports.clone()),
            recommendation: Some(alert.recommendation.clone()),
            evidence: (!alert.evidence.is_null()).then(|| alert.evidence.clone()),
            ..EveExtras::default()
        };
        let ports = proto.is_some_and(has_ports);
        EveRecord {
            timestamp: format_timestamp(alert.last_ts),
            flow_id: digest.as_ref().map(flow_id_of),
            event_type: EVENT_ALERT.to_string(),
            src_ip: src,
            src_port: None,
            dest_ip: dst,
            dest_port: if ports { port } else { None },
            proto: proto.map(|p| proto_name(p).into_owned()),
            icmp_type: None,
            icmp_code: None,
            response_icmp_type: None,
            response_icmp_code: None,
            community_id: digest.as_ref().map(render),
            app_proto: None,
            alert: Some(EveAlert {
                action: ALERT_ACTION.to_string(),
                gid: ALERT_GID,
                signature_id: signature_id(&alert.kind),
                rev: ALERT_REV,
                signature: alert.message.clone(),
                category: alert.kind.clone(),
                severity: suricata_severity(alert.severity),
                metadata,
            }),
            wirewatch: Some(extras),
            ..EveRecord::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::flow::DirectionStats;

    #[test]
    fn timestamps_are_utc_with_microseconds() {
        assert_eq!(
            format_timestamp(Timestamp(0)),
            "1970-01-01T00:00:00.000000+0000"
        );
        // 2024-02-29 (a leap day) 23:59:59.999999999.
        let ts = Timestamp::from_secs_nanos(1_709_251_199, 999_999_999);
        assert_eq!(format_timestamp(ts), "2024-02-29T23:59:59.999999+0000");
        let ts = Timestamp::from_secs_nanos(1_484_673_025, 976_144_000);
        assert_eq!(format_timestamp(ts), "2017-01-17T17:10:25.976144+0000");
        // 2100 is not a leap year: 2100-02-28 is followed by 2100-03-01.
        let ts = Timestamp::from_secs_nanos(4_107_542_400, 0);
        assert_eq!(format_timestamp(ts), "2100-03-01T00:00:00.000000+0000");
        // The latest timestamp, in 2554: a date like any other, no panic.
        assert_eq!(
            format_timestamp(Timestamp(u64::MAX)),
            "2554-07-21T23:34:33.709551+0000"
        );
    }

    #[test]
    fn every_kind_has_its_own_signature() {
        let mut seen = std::collections::BTreeSet::new();
        for k in kind::ALL {
            let sid = signature_id(k);
            assert!(sid < UNKNOWN_KIND_SID_BASE, "{k} has no fixed id");
            assert!(seen.insert(sid), "{k} shares {sid}");
        }
        assert_eq!(signature_id("threat_intel_abuseipdb"), 1_970_011);
        let other = signature_id("something_new");
        assert!((UNKNOWN_KIND_SID_BASE..UNKNOWN_KIND_SID_BASE + 1000).contains(&other));
        assert_eq!(other, signature_id("something_new"));
    }

    #[test]
    fn severities_follow_suricata() {
        assert_eq!(suricata_severity(Severity::Critical), 1);
        assert_eq!(suricata_severity(Severity::High), 1);
        assert_eq!(suricata_severity(Severity::Medium), 2);
        assert_eq!(suricata_severity(Severity::Low), 3);
    }

    fn tcp_flow() -> FlowRecord {
        FlowRecord {
            ip_proto: 6,
            src_ip: "2600:1f13:f8:d400:3a6:303c:e011:18eb".parse().unwrap(),
            src_port: 60202,
            dst_ip: "2607:f8b0:400a:800::200e".parse().unwrap(),
            dst_port: 443,
            fwd: DirectionStats {
                packets: 18,
                bytes: 2439,
                payload_bytes: 1000,
                tcp_flags: 0x1b,
                payload_packets: 0,
                repeated_small_payloads: 0,
                last_payload_len: 0,
            },
            rev: DirectionStats {
                packets: 18,
                bytes: 28862,
                payload_bytes: 26000,
                tcp_flags: 0x1b,
                payload_packets: 0,
                repeated_small_payloads: 0,
                last_payload_len: 0,
            },
            first_ts: Timestamp::from_secs_nanos(1_700_000_000, 5_000),
            last_ts: Timestamp::from_secs_nanos(1_700_000_000, 900_000_000),
            state: TcpState::Closed,
            end_reason: EndReason::EndOfCapture,
            app: wirewatch_core::AppLabel::payload(AppProto::Tls),
            details: None,
            reputation: None,
            features: None,
            tcp_health: None,
            vlan: None,
            tunnel: None,
        }
    }

    #[test]
    fn flow_events_match_suricata_layout() {
        // The suricata-verify "community-id-ipv6" flow, with its seed (7).
        let r = EveRecord::from_flow(&tcp_flow(), 7, false);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["event_type"], "flow");
        assert_eq!(v["community_id"], "1:ptJhMvufAbB5nLDNW77cB800wFM=");
        assert_eq!(v["proto"], "TCP");
        assert_eq!(v["app_proto"], "tls");
        assert_eq!(v["src_port"], 60202);
        assert_eq!(v["flow"]["age"], 0);
        assert_eq!(v["flow"]["state"], "closed");
        assert_eq!(v["flow"]["reason"], "shutdown");
        assert_eq!(v["flow"]["bytes_toclient"], 28862);
        assert_eq!(v["flow"]["start"], "2023-11-14T22:13:20.000005+0000");
        assert_eq!(v["tcp"]["tcp_flags"], "1b");
        assert_eq!(v["tcp"]["state"], "closed");
        assert_eq!(v["tcp"]["fin"], true);
        assert!(v["tcp"].get("rst").is_none());
        assert!(
            v["flow_id"]
                .as_u64()
                .is_some_and(|id| id <= i64::MAX as u64)
        );
        assert_eq!(v["wirewatch"]["end_reason"], "end_of_capture");
        // Lines read back into the same record.
        let back: EveRecord = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn icmp_flows_carry_types_not_ports() {
        let mut f = tcp_flow();
        f.ip_proto = 1;
        f.src_ip = "192.168.0.89".parse().unwrap();
        f.dst_ip = "192.168.0.1".parse().unwrap();
        (f.src_port, f.dst_port) = (0x4242, 0x4242);
        f.state = TcpState::None;
        let v = serde_json::to_value(EveRecord::from_flow(&f, 0, false)).unwrap();
        assert_eq!(v["proto"], "ICMP");
        assert_eq!(v["icmp_type"], 8);
        assert_eq!(v["response_icmp_type"], 0);
        assert!(v.get("src_port").is_none() && v.get("tcp").is_none());
        assert_eq!(v["community_id"], "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=");
        assert_eq!(v["wirewatch"]["icmp_echo_id"], 0x4242);
        assert_eq!(v["flow"]["state"], "established");
    }

    #[test]
    fn alert_events_carry_the_rule_fields() {
        let alert = Alert {
            id: 42,
            kind: kind::BRUTE_FORCE.to_string(),
            severity: Severity::Medium,
            confidence: 0.875,
            start_ts: Timestamp::from_secs_nanos(1_700_000_000, 0),
            last_ts: Timestamp::from_secs_nanos(1_700_000_030, 0),
            updates: 3,
            sources: vec!["10.0.0.9".parse().unwrap()],
            targets: vec!["10.0.0.2".parse().unwrap()],
            ports: vec![22],
            message: "SSH brute force".into(),
            recommendation: "block it".into(),
            evidence: serde_json::json!({"attempts": 40}),
        };
        let v =
            serde_json::to_value(EveRecord::from_alert(&alert, IncidentStatus::Opened, 0)).unwrap();
        assert_eq!(v["event_type"], "alert");
        assert_eq!(v["timestamp"], "2023-11-14T22:13:50.000000+0000");
        assert_eq!(v["src_ip"], "10.0.0.9");
        assert_eq!(v["dest_ip"], "10.0.0.2");
        assert_eq!(v["dest_port"], 22);
        assert_eq!(v["proto"], "TCP");
        let cid = community_id_hash(
            6,
            "10.0.0.9".parse().unwrap(),
            "10.0.0.2".parse().unwrap(),
            0,
            22,
            0,
        );
        assert_eq!(v["community_id"], render(&cid));
        assert_eq!(v["flow_id"], flow_id_of(&cid));
        let a = &v["alert"];
        assert_eq!(a["action"], "allowed");
        assert_eq!(a["gid"], 1);
        assert_eq!(a["signature_id"], 1_970_006);
        assert_eq!(a["rev"], 1);
        assert_eq!(a["signature"], "SSH brute force");
        assert_eq!(a["category"], "brute_force");
        assert_eq!(a["severity"], 2);
        assert_eq!(a["metadata"]["wirewatch_kind"][0], "brute_force");
        assert_eq!(a["metadata"]["confidence"][0], "0.88");
        assert_eq!(a["metadata"]["incident_id"][0], "42");
        assert_eq!(a["metadata"]["updates"][0], "3");
        assert_eq!(v["wirewatch"]["evidence"]["attempts"], 40);
        assert_eq!(v["wirewatch"]["status"], "opened");
    }

    #[test]
    fn alerts_without_hosts_have_no_flow_fields() {
        let alert = Alert {
            id: 1,
            kind: kind::SPIKE.to_string(),
            severity: Severity::Low,
            confidence: 0.5,
            start_ts: Timestamp(0),
            last_ts: Timestamp(0),
            updates: 0,
            sources: vec![],
            targets: vec![],
            ports: vec![],
            message: "spike".into(),
            recommendation: String::new(),
            evidence: serde_json::Value::Null,
        };
        let v =
            serde_json::to_value(EveRecord::from_alert(&alert, IncidentStatus::Ended, 0)).unwrap();
        for key in ["src_ip", "dest_ip", "proto", "flow_id", "community_id"] {
            assert!(v.get(key).is_none(), "{key}");
        }
        assert_eq!(v["alert"]["severity"], 3);
    }
}
