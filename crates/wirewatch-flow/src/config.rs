//! Flow table settings: timeouts on packet time and the hard cap on live flows.

use crate::reassembly::ReassemblyConfig;
use serde::{Deserialize, Serialize};
use wirewatch_core::time::NANOS_PER_SEC;

/// Flow table settings. Timeouts are in seconds of packet time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FlowConfig {
    /// Hard cap on live flows. At about 200 bytes per flow the default keeps the table near
    /// 100 MB even when a scan or flood creates a new flow with every packet; when full, the
    /// flow with the oldest activity is evicted and counted.
    pub max_flows: usize,
    /// Idle timeout of an established (or mid-stream) TCP connection. Long, because idle
    /// keep-alive connections are normal; 5 minutes matches common firewall defaults.
    pub tcp_idle_secs: u64,
    /// Idle timeout of a TCP connection that never completed its handshake (scans, floods).
    pub tcp_handshake_idle_secs: u64,
    /// How long a TCP connection closed by FIN or RST lingers to absorb the last ACKs and
    /// retransmissions before it is reported.
    pub tcp_closed_linger_secs: u64,
    /// Idle timeout of UDP flows (DNS answers arrive within seconds; media streams keep sending).
    pub udp_idle_secs: u64,
    /// Idle timeout of ICMP/ICMPv6 flows (pings send every second or so).
    pub icmp_idle_secs: u64,
    /// Idle timeout of flows of other IP protocols (GRE, ESP, ...).
    pub other_idle_secs: u64,
    /// A flow longer than this is reported and restarted, so long-lived connections show up in
    /// history before they end (NetFlow's usual 30 minutes).
    pub active_timeout_secs: u64,
    /// Whether the first payloads of each flow are inspected for the application protocol and
    /// names (DNS, HTTP, TLS, QUIC, SSH). Off, flows carry only a port guess.
    pub app_decoding: bool,
    /// Addresses whose host name (learned from DNS answers on the wire) is remembered. About
    /// 100 bytes each: the default costs under 7 MB and covers the names a large site resolves
    /// within the flow timeouts.
    pub max_host_names: usize,
    /// Compute CICFlowMeter-style features for every flow (about 400 bytes per live flow), for
    /// the flow classifier and `export --format cicflowmeter`. Off unless something needs them.
    pub flow_features: bool,
    /// Transactions (DNS queries and answers, HTTP requests and responses, TLS and QUIC
    /// handshakes) logged per flow; beyond it they are counted, not logged (a DNS tunnel's
    /// thousands of queries in one flow stay bounded).
    pub max_transactions_per_flow: u32,
    /// Open tunnels (IP-in-IP, GRE, ERSPAN, VXLAN, Geneve, Teredo, GTP-U): the inner packets
    /// become flows of their own (names, transactions and detections inside them), while the
    /// frame still counts once, by its outer headers.
    pub open_tunnels: bool,
    /// Key flows by their outermost VLAN id too (as nDPI and Suricata do): the same addresses
    /// and ports on two VLANs are two flows. Off by default, as tshark's conversations.
    pub vlan_in_key: bool,
    /// Reassemble IP fragments ([`crate::reassembly`]). Every fragment still counts as a packet
    /// of its flow; what changes is that the payload of a fragmented datagram is inspected once,
    /// whole, when its last fragment arrives (a fragmented DNS answer is read in full), instead
    /// of the first fragment's part. Off, the first fragment's part is inspected as it is.
    pub ip_reassembly: bool,
    /// Track the health of TCP connections ([`crate::tcp_health`]: handshake RTT,
    /// retransmissions, out-of-order and lost segments, zero windows; 152 bytes per TCP flow).
    pub tcp_health: bool,
    /// The caps of fragment reassembly (`[flows.reassembly]`; at most 16 MiB by default).
    pub reassembly: ReassemblyConfig,
}

impl Default for FlowConfig {
    fn default() -> Self {
        FlowConfig {
            max_flows: 500_000,
            tcp_idle_secs: 300,
            tcp_handshake_idle_secs: 30,
            tcp_closed_linger_secs: 10,
            udp_idle_secs: 60,
            icmp_idle_secs: 30,
            other_idle_secs: 60,
            active_timeout_secs: 1800,
            app_decoding: true,
            max_host_names: 65_536,
            flow_features: false,
            max_transactions_per_flow: 10_000,
            open_tunnels: true,
            vlan_in_key: false,
            ip_reassembly: true,
            tcp_health: true,
            reassembly: ReassemblyConfig::default(),
        }
    }
}

/// The configuration converted to nanoseconds, ready for the hot path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeouts {
    pub tcp: u64,
    pub tcp_handshake: u64,
    pub tcp_closed: u64,
    pub udp: u64,
    pub icmp: u64,
    pub other: u64,
    pub active: u64,
    /// The shortest idle timeout of connections that are not closed: a table scan stops at
    /// the first flow idle for less.
    pub min_idle_open: u64,
}

impl Timeouts {
    pub(crate) fn from_config(c: &FlowConfig) -> Self {
        let ns = |s: u64| s.saturating_mul(NANOS_PER_SEC);
        let t = Timeouts {
            tcp: ns(c.tcp_idle_secs),
            tcp_handshake: ns(c.tcp_handshake_idle_secs),
            tcp_closed: ns(c.tcp_closed_linger_secs),
            udp: ns(c.udp_idle_secs),
            icmp: ns(c.icmp_idle_secs),
            other: ns(c.other_idle_secs),
            active: ns(c.active_timeout_secs),
            min_idle_open: 0,
        };
        Timeouts {
            min_idle_open: [t.tcp, t.tcp_handshake, t.udp, t.icmp, t.other]
                .into_iter()
                .min()
                .unwrap_or(0),
            ..t
        }
    }
}
