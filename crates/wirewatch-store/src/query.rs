//! Queries over stored data and the rows they return (backend-independent).
//!
//! Row field names follow `wirewatch analyze --json`, so a client reads stored and live data
//! the same way.

use crate::error::StoreError;
use crate::ip::blob_to_ip;
use ipnet::IpNet;
use serde::{Deserialize, Serialize};
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags;
use wirewatch_core::{
    AddressReputation, AppCount, AppDetails, AppSource, DropCounts, EndReason, FlowRecord,
    IntervalMetrics, ProtocolCounts, Severity, TcpFlagCounts, TcpState, Timestamp,
};

/// Rows per page when the caller does not say.
pub const DEFAULT_LIMIT: usize = 100;
/// Most rows one page may hold: a page is built in memory and serialized whole, and 10,000
/// rows is more than any table or chart shows at once.
pub const MAX_LIMIT: usize = 10_000;
/// Longest `name` or `text` filter accepted (a hostname is at most 253 characters).
pub const MAX_FILTER_LEN: usize = 512;

/// Which interval table answers a query.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Resolution {
    /// One row per closed interval (kept `intervals_hours`).
    Raw,
    /// One row per minute of packet time (kept `minute_rollup_days`).
    Minute,
    /// One row per hour of packet time (kept `hour_rollup_days`).
    Hour,
    /// The finest resolution that still holds the start of the range and gives a chart-sized
    /// answer: raw for ranges up to 3 hours, minute up to 7 days, else hour (see
    /// [`Resolution::AUTO_RAW_MAX_SPAN_NS`]).
    #[default]
    Auto,
}

impl Resolution {
    /// Longest range answered from raw intervals by `Auto`: 3 h of one-second intervals is
    /// 10,800 rows, about one full page ([`MAX_LIMIT`]).
    pub const AUTO_RAW_MAX_SPAN_NS: u64 = 3 * 3600 * 1_000_000_000;
    /// Longest range answered from minute roll-ups by `Auto`: 7 days is 10,080 rows.
    pub const AUTO_MINUTE_MAX_SPAN_NS: u64 = 7 * 86_400 * 1_000_000_000;

    /// Lower-case name.
    pub fn name(self) -> &'static str {
        match self {
            Resolution::Raw => "raw",
            Resolution::Minute => "minute",
            Resolution::Hour => "hour",
            Resolution::Auto => "auto",
        }
    }

    /// Parses a name (`raw`, `minute`/`1m`, `hour`/`1h`, `auto`).
    pub fn parse(s: &str) -> Result<Resolution, StoreError> {
        match s.trim().to_ascii_lowercase().as_str() {
            "raw" => Ok(Resolution::Raw),
            "minute" | "1m" => Ok(Resolution::Minute),
            "hour" | "1h" => Ok(Resolution::Hour),
            "auto" | "" => Ok(Resolution::Auto),
            _ => Err(StoreError::BadQuery(format!(
                "unknown resolution {s:?}: use raw, minute, hour or auto"
            ))),
        }
    }

    /// Bucket length in nanoseconds of a roll-up resolution (0 for raw and auto).
    pub fn bucket_ns(self) -> u64 {
        match self {
            Resolution::Minute => 60 * 1_000_000_000,
            Resolution::Hour => 3600 * 1_000_000_000,
            Resolution::Raw | Resolution::Auto => 0,
        }
    }
}

/// A query over one table. Filters that do not apply to a table are ignored by it (each
/// [`crate::Store`] method lists the ones it uses).
#[derive(Debug, Clone)]
pub struct Query {
    /// Start of the time range (inclusive), packet time.
    pub from: Option<Timestamp>,
    /// End of the time range (inclusive), packet time.
    pub to: Option<Timestamp>,
    /// Address or network; matches the source or the destination (see [`parse_ip_filter`]).
    pub ip: Option<IpNet>,
    /// Port; matches the source or the destination port.
    pub port: Option<u16>,
    /// IP protocol number.
    pub proto: Option<u8>,
    /// Substring of the application or server name (case-insensitive for ASCII).
    pub name: Option<String>,
    /// Alert kind (exact); for talkers, the direction `src` or `dst`; for transactions `dns`,
    /// `http` or `tls`.
    pub kind: Option<String>,
    /// Lowest alert severity to return.
    pub min_severity: Option<Severity>,
    /// Free text over names and alert messages (substring, case-insensitive for ASCII).
    pub text: Option<String>,
    /// Interval resolution.
    pub resolution: Resolution,
    /// Column to sort by; each table has a whitelist ([`sort_columns`]).
    pub sort: Option<String>,
    /// Sort descending.
    pub descending: bool,
    /// Rows per page, 1..=[`MAX_LIMIT`] (default [`DEFAULT_LIMIT`]).
    pub limit: usize,
    /// Rows to skip.
    pub offset: usize,
}

impl Default for Query {
    fn default() -> Self {
        Query {
            from: None,
            to: None,
            ip: None,
            port: None,
            proto: None,
            name: None,
            kind: None,
            min_severity: None,
            text: None,
            resolution: Resolution::Auto,
            sort: None,
            descending: false,
            limit: DEFAULT_LIMIT,
            offset: 0,
        }
    }
}

/// The tables a [`Query`] can run on.
pub(crate) const TABLES: [&str; 5] = ["intervals", "talkers", "flows", "alerts", "transactions"];

/// The columns a table can be sorted by (the first is its default). `None` for an unknown
/// table; tables are `intervals`, `talkers`, `flows`, `alerts`, `transactions`.
pub fn sort_columns(table: &str) -> Option<&'static [&'static str]> {
    Some(match table {
        "intervals" => &[
            "start_ts",
            "packets",
            "bytes",
            "bps",
            "pps",
            "max_pps",
            "max_bps",
            "distinct_src_ips",
            "distinct_dst_ips",
            "flows_new",
            "flows_active",
            "flows_closed",
            "flows_live",
            "flows_evicted",
            "decode_errors",
            "intervals",
            "tcp_retransmissions",
            "tcp_out_of_order",
            "tcp_handshakes_timed",
        ],
        "talkers" => &["start_ts", "packets", "bytes", "ip", "direction"],
        "flows" => &[
            "last_ts",
            "first_ts",
            "duration",
            "proto",
            "src_ip",
            "src_port",
            "dst_ip",
            "dst_port",
            "packets",
            "bytes",
            "packets_fwd",
            "bytes_fwd",
            "packets_rev",
            "bytes_rev",
            "state",
            "app",
            "server_name",
        ],
        "alerts" => &[
            "last_ts",
            "start_ts",
            "id",
            "kind",
            "severity",
            "confidence",
            "updates",
        ],
        "transactions" => crate::transactions::SORT_COLUMNS,
        _ => return None,
    })
}

impl Query {
    /// Checks what can be checked without knowing the table: the range, the page size, the
    /// sort column (known to at least one table) and the length of text filters.
    pub fn validate(&self) -> Result<(), StoreError> {
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(StoreError::BadQuery(format!(
                "inverted time range: from ({:.3} s) is after to ({:.3} s); swap them",
                from.as_secs_f64(),
                to.as_secs_f64()
            )));
        }
        if self.limit == 0 {
            return Err(StoreError::BadQuery("limit must be at least 1".to_string()));
        }
        if self.limit > MAX_LIMIT {
            return Err(StoreError::BadQuery(format!(
                "limit {} is above the maximum of {MAX_LIMIT}; page with offset instead",
                self.limit
            )));
        }
        if i64::try_from(self.offset).is_err() {
            return Err(StoreError::BadQuery(format!(
                "offset {} is too large",
                self.offset
            )));
        }
        for (what, value) in [("name", &self.name), ("text", &self.text)] {
            if let Some(v) = value
                && v.len() > MAX_FILTER_LEN
            {
                return Err(StoreError::BadQuery(format!(
                    "the {what} filter is {} bytes long; at most {MAX_FILTER_LEN} are accepted",
                    v.len()
                )));
            }
        }
        if let Some(sort) = &self.sort
            && !TABLES
                .iter()
                .any(|t| sort_columns(t).is_some_and(|c| c.contains(&sort.as_str())))
        {
            return Err(StoreError::BadQuery(format!(
                "unknown sort column {sort:?}; columns by table: {}",
                all_sort_columns()
            )));
        }
        Ok(())
    }

    /// Validates the query for `table` and returns its sort column (static, whitelisted).
    pub(crate) fn sort_for(&self, table: &str) -> Result<&'static str, StoreError> {
        self.validate()?;
        let columns = sort_columns(table)
            .ok_or_else(|| StoreError::BadQuery(format!("unknown table {table:?}")))?;
        match &self.sort {
            None => Ok(columns[0]),
            Some(s) => columns
                .iter()
                .find(|c| **c == s.as_str())
                .copied()
                .ok_or_else(|| {
                    StoreError::BadQuery(format!(
                        "{table} cannot be sorted by {s:?}; use one of: {}",
                        columns.join(", ")
                    ))
                }),
        }
    }
}

fn all_sort_columns() -> String {
    TABLES
        .iter()
        .map(|t| format!("{t}: {}", sort_columns(t).unwrap_or(&[]).join(", ")))
        .collect::<Vec<_>>()
        .join("; ")
}

/// Parses an address filter: a network in CIDR notation (`10.0.0.0/8`, `2001:db8::/32`) or a
/// bare address (`192.0.2.7` = `/32`, `2001:db8::1` = `/128`). Host bits after the prefix are
/// ignored (`10.1.2.3/8` = `10.0.0.0/8`).
pub fn parse_ip_filter(s: &str) -> Result<IpNet, StoreError> {
    let s = s.trim();
    let bad = |why: String| {
        StoreError::BadQuery(format!(
            "invalid address filter {s:?}: {why} (expected an address or network such as \
             192.0.2.7, 10.0.0.0/8 or 2001:db8::/32)"
        ))
    };
    match s.split_once('/') {
        None => s
            .parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|_| bad("not an IPv4 or IPv6 address".to_string())),
        Some((addr, prefix)) => {
            let ip: IpAddr = addr
                .parse()
                .map_err(|_| bad(format!("{addr:?} is not an IPv4 or IPv6 address")))?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let len: u8 = prefix
                .parse()
                .map_err(|_| bad(format!("prefix length {prefix:?} is not a number")))?;
            if len > max {
                let family = if ip.is_ipv4() { "IPv4" } else { "IPv6" };
                return Err(bad(format!(
                    "prefix length /{len} is too long for {family} (at most /{max})"
                )));
            }
            IpNet::new(ip, len)
                .map(|n| n.trunc())
                .map_err(|e| bad(e.to_string()))
        }
    }
}

/// A page of rows and the size of the whole filtered set.
#[derive(Debug, Clone, Serialize)]
pub struct Page<T> {
    /// The rows of this page.
    pub rows: Vec<T>,
    /// Rows in the whole filtered set (`COUNT(*)`).
    pub total: u64,
    /// Rows skipped before this page.
    pub offset: usize,
    /// Page size asked for.
    pub limit: usize,
}

/// Reads every row of `query`, `page_size` rows at a time from the first: `fetch` runs the
/// query for one page (e.g. `|q| store.flows(q)`), `each` takes its rows. Stops when a page
/// comes back empty or the whole filtered set has been read.
pub fn for_each_page<R, E: From<crate::StoreError>>(
    mut query: Query,
    page_size: usize,
    mut fetch: impl FnMut(&Query) -> Result<Page<R>, crate::StoreError>,
    mut each: impl FnMut(Vec<R>) -> Result<(), E>,
) -> Result<(), E> {
    query.limit = page_size;
    query.offset = 0;
    loop {
        let page = fetch(&query)?;
        let n = page.rows.len();
        each(page.rows)?;
        query.offset += n;
        if n == 0 || query.offset as u64 >= page.total {
            return Ok(());
        }
    }
}

/// One interval, or one roll-up row covering several (`intervals` says how many).
///
/// For a roll-up: counters are exact sums of the intervals it covers; `duration_s` is the sum
/// of their durations and `bps`/`pps` averages over it; `distinct_*`, `flows_active` and
/// `flows_live` are the largest value of a covered interval (distinct sets cannot be summed);
/// `max_pps`/`max_bps` the peaks. For a raw row, `intervals` is 1 and the maxima equal the rates.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct IntervalRow {
    /// Start, seconds since the epoch (the bucket start for a roll-up).
    pub start_ts: f64,
    /// Seconds measured.
    pub duration_s: f64,
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
    /// Flows in the table at the end.
    pub flows_live: u64,
    /// Flows evicted from the full table.
    pub flows_evicted: u64,
    /// Frames not fully decoded.
    pub decode_errors: u64,
    /// Packets lost before decoding.
    pub drops: DropCounts,
    /// Raw intervals this row covers.
    pub intervals: u64,
    /// Highest packets per second of a covered interval.
    pub max_pps: f64,
    /// Highest bits per second of a covered interval.
    pub max_bps: f64,
    /// Which table answered.
    pub resolution: Resolution,
    /// Packets and bytes per application protocol, largest first (raw intervals only: the
    /// roll-ups do not keep them).
    pub apps: Vec<AppCount>,
    /// Distinct destination ports of connection attempts (raw intervals only).
    pub distinct_dst_ports: u64,
    /// Entropy of the source addresses, bits (raw intervals only).
    pub src_entropy: f64,
    /// Entropy of the destination addresses, bits (raw intervals only).
    pub dst_entropy: f64,
    /// TCP segments retransmitted (every kind).
    pub tcp_retransmissions: u64,
    /// TCP segments out of order.
    pub tcp_out_of_order: u64,
    /// TCP handshakes whose round-trip time was measured.
    pub tcp_handshakes_timed: u64,
    /// Median handshake round-trip time, ms (a roll-up: the handshake-weighted mean of its
    /// intervals' medians); `None` without a timed handshake.
    pub tcp_rtt_p50_ms: Option<f64>,
    /// 95th percentile handshake round-trip time, ms (a roll-up: the worst of its intervals').
    pub tcp_rtt_p95_ms: Option<f64>,
}

impl IntervalRow {
    /// The raw row an interval reads back as.
    pub fn from_metrics(m: &IntervalMetrics) -> IntervalRow {
        IntervalRow {
            start_ts: m.start_ts.as_secs_f64(),
            duration_s: m.duration_ns as f64 / 1e9,
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
            flows_live: m.flows_live,
            flows_evicted: m.flows_evicted,
            decode_errors: m.decode_errors,
            drops: m.drops,
            intervals: 1,
            max_pps: m.pps,
            max_bps: m.bps,
            resolution: Resolution::Raw,
            apps: m.apps.clone(),
            distinct_dst_ports: m.distinct_dst_ports,
            src_entropy: m.src_entropy,
            dst_entropy: m.dst_entropy,
            tcp_retransmissions: m.tcp_retransmissions,
            tcp_out_of_order: m.tcp_out_of_order,
            tcp_handshakes_timed: m.tcp_handshakes_timed,
            tcp_rtt_p50_ms: m.tcp_rtt_p50_ms,
            tcp_rtt_p95_ms: m.tcp_rtt_p95_ms,
        }
    }

    /// The interval metrics this row holds (no talkers or names: those are other tables), for
    /// models trained on stored history.
    pub fn to_metrics(&self) -> IntervalMetrics {
        IntervalMetrics {
            start_ts: Timestamp((self.start_ts * 1e9).round().max(0.0) as u64),
            duration_ns: (self.duration_s * 1e9).round().max(0.0) as u64,
            packets: self.packets,
            bytes: self.bytes,
            bps: self.bps,
            pps: self.pps,
            protocols: self.protocols,
            tcp_flags: self.tcp_flags,
            distinct_src_ips: self.distinct_src_ips,
            distinct_dst_ips: self.distinct_dst_ips,
            flows_new: self.flows_new,
            flows_active: self.flows_active,
            flows_closed: self.flows_closed,
            flows_live: self.flows_live,
            flows_evicted: self.flows_evicted,
            decode_errors: self.decode_errors,
            drops: self.drops,
            apps: self.apps.clone(),
            distinct_dst_ports: self.distinct_dst_ports,
            src_entropy: self.src_entropy,
            dst_entropy: self.dst_entropy,
            tcp_retransmissions: self.tcp_retransmissions,
            tcp_out_of_order: self.tcp_out_of_order,
            tcp_handshakes_timed: self.tcp_handshakes_timed,
            tcp_rtt_p50_ms: self.tcp_rtt_p50_ms,
            tcp_rtt_p95_ms: self.tcp_rtt_p95_ms,
            ..IntervalMetrics::default()
        }
    }
}

/// One top talker of one raw interval.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct TalkerRow {
    /// Interval start, seconds since the epoch.
    pub start_ts: f64,
    /// `src` or `dst`.
    pub direction: String,
    /// The address.
    pub ip: IpAddr,
    /// Packets it sent (src) or received (dst).
    pub packets: u64,
    /// Wire bytes.
    pub bytes: u64,
    /// Host name learned from DNS answers on the wire, when one was.
    pub name: Option<String>,
    /// What threat intelligence said about the address.
    #[serde(flatten)]
    pub threat: ThreatColumns,
}

/// One stored flow, initiator first.
#[derive(Serialize, Debug, Clone, PartialEq)]
pub struct FlowRow {
    /// `tcp`, `udp`, `icmp`, `icmpv6` or the IP protocol number.
    pub proto: String,
    /// Initiator address.
    pub src_ip: IpAddr,
    /// Initiator port.
    pub src_port: u16,
    /// Responder address.
    pub dst_ip: IpAddr,
    /// Responder port.
    pub dst_port: u16,
    /// Packets initiator → responder.
    pub packets_fwd: u64,
    /// Wire bytes initiator → responder.
    pub bytes_fwd: u64,
    /// Packets responder → initiator.
    pub packets_rev: u64,
    /// Wire bytes responder → initiator.
    pub bytes_rev: u64,
    /// Payload bytes initiator → responder.
    pub payload_bytes_fwd: u64,
    /// Payload bytes responder → initiator.
    pub payload_bytes_rev: u64,
    /// First packet, seconds.
    pub first_ts: f64,
    /// Last packet, seconds.
    pub last_ts: f64,
    /// Connection state.
    pub state: TcpState,
    /// Why the flow ended.
    pub end_reason: EndReason,
    /// TCP flags from the initiator, e.g. `FSPA`.
    pub tcp_flags_fwd: String,
    /// TCP flags from the responder.
    pub tcp_flags_rev: String,
    /// Application protocol, when known (recognised, or guessed from a well-known port).
    pub app: Option<String>,
    /// Server name, when known: TLS/QUIC SNI, HTTP host, DNS query, or a name learned from DNS
    /// answers for the responder's address.
    pub server_name: Option<String>,
    /// The rest of what the payloads said, one flat column each (so CSV rows line up).
    #[serde(flatten)]
    pub details: AppColumns,
    /// What threat intelligence said about the flow's worse endpoint.
    #[serde(flatten)]
    pub threat: ThreatColumns,
    /// TCP handshake round-trip time in milliseconds as seen at the capture point (tshark's
    /// `tcp.analysis.initial_rtt`); null for other protocols and when no SYN was seen.
    pub tcp_rtt_ms: Option<f64>,
    /// TCP segments retransmitted, every kind (fast and spurious included); null for other
    /// protocols.
    pub tcp_retransmissions: Option<u64>,
    /// TCP segments out of order; null for other protocols.
    pub tcp_out_of_order: Option<u64>,
    /// TCP segments after a gap in the sequence (the capture missed what came before); null
    /// for other protocols.
    pub tcp_lost_segments: Option<u64>,
    /// TCP segments that announced a zero receive window; null for other protocols.
    pub tcp_zero_windows: Option<u64>,
    /// The outermost VLAN id, when flows are keyed by VLAN (`[flows] vlan_in_key`).
    pub vlan: Option<u16>,
    /// The tunnel a flow travels in (`vxlan udp 192.0.2.1:40000 -> 192.0.2.2:4789`).
    pub tunnel: Option<String>,
    /// CICFlowMeter-style features, when they were computed (not part of the JSON/CSV rows:
    /// `export --format cicflowmeter` writes them).
    #[serde(skip)]
    pub features: Option<Vec<f64>>,
}

/// Threat intelligence about an address as flat columns.
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
pub struct ThreatColumns {
    /// The address the verdict is about.
    pub threat_ip: Option<IpAddr>,
    /// `blocklist` or `abuseipdb`.
    pub threat_source: Option<String>,
    /// 0–100 (100 for a blocklist entry).
    pub threat_score: Option<u8>,
    /// Short description: the list and entry, or the AbuseIPDB score.
    pub threat: Option<String>,
}

impl ThreatColumns {
    /// The columns of a reputation.
    pub fn of(r: Option<&AddressReputation>) -> ThreatColumns {
        match r {
            None => ThreatColumns::default(),
            Some(r) => ThreatColumns {
                threat_ip: Some(canonical_ip(r.ip)),
                threat_source: Some(r.source_name().to_string()),
                threat_score: Some(r.score),
                threat: Some(r.summary()),
            },
        }
    }

    /// The columns of a stored reputation (JSON); unreadable or absent JSON gives none.
    pub fn from_json(json: Option<String>) -> ThreatColumns {
        let r = json.and_then(|j| serde_json::from_str::<AddressReputation>(&j).ok());
        ThreatColumns::of(r.as_ref())
    }
}

/// Application details of a flow as flat columns. Every string is escaped text that came off
/// the network: show it as text only.
#[derive(Serialize, Debug, Clone, PartialEq, Default)]
pub struct AppColumns {
    /// `payload` (recognised) or `port` (well-known port guess); empty when unknown.
    pub app_source: Option<String>,
    /// Where the server name came from (`tls_sni`, `quic_sni`, `http_host`, `dns_query`,
    /// `passive_dns`).
    pub server_name_source: Option<String>,
    /// Distinct DNS query names (at most four).
    pub dns_queries: Vec<String>,
    /// DNS response codes seen (`NOERROR`, `NXDOMAIN`, ...).
    pub dns_rcodes: Vec<String>,
    /// HTTP request method.
    pub http_method: Option<String>,
    /// HTTP `Host` header.
    pub http_host: Option<String>,
    /// HTTP request target.
    pub http_path: Option<String>,
    /// HTTP `User-Agent`.
    pub http_user_agent: Option<String>,
    /// HTTP response status.
    pub http_status: Option<u16>,
    /// TLS version (negotiated, else the highest offered).
    pub tls_version: Option<String>,
    /// ALPN protocols offered.
    pub tls_alpn: Vec<String>,
    /// Cipher suite chosen by the server.
    pub tls_cipher: Option<u16>,
    /// JA4 section a of the client hello.
    pub ja4_a: Option<String>,
    /// The whole JA4 fingerprint of the client hello.
    pub ja4: Option<String>,
    /// QUIC version (`0x00000001`, `0x6b3343cf`, or a gQUIC tag like `Q046`).
    pub quic_version: Option<String>,
    /// SSH client software.
    pub ssh_client: Option<String>,
    /// SSH server software.
    pub ssh_server: Option<String>,
}

impl AppColumns {
    /// The columns for a flow whose label was found by `app_source` with these details.
    pub fn from_parts(app_source: Option<String>, d: Option<&AppDetails>) -> AppColumns {
        let mut c = AppColumns {
            app_source,
            ..AppColumns::default()
        };
        let Some(d) = d else { return c };
        c.server_name_source = d.server_name_source.and_then(|s| {
            serde_json::to_value(s)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
        });
        c.dns_queries = d.dns_queries.clone();
        c.dns_rcodes = d.dns_rcodes.keys().cloned().collect();
        if let Some(h) = &d.http {
            c.http_method = h.method.clone();
            c.http_host = h.host.clone();
            c.http_path = h.path.clone();
            c.http_user_agent = h.user_agent.clone();
            c.http_status = h.status;
        }
        if let Some(t) = &d.tls {
            c.tls_version = t.version.clone();
            c.tls_alpn = t.alpn.clone();
            c.tls_cipher = t.cipher;
            c.ja4_a = t.ja4_a.clone();
            c.ja4 = t.ja4.clone();
        }
        c.quic_version = d.quic_version.map(quic_version_name);
        if let Some(s) = &d.ssh {
            c.ssh_client = s.client.clone();
            c.ssh_server = s.server.clone();
        }
        c
    }
}

/// `0x00000001` for IETF versions; the ASCII tag (`Q046`) for Google QUIC.
pub fn quic_version_name(v: u32) -> String {
    let b = v.to_be_bytes();
    if b[0] == b'Q' && b[1..].iter().all(u8::is_ascii_digit) {
        b.iter().map(|&c| char::from(c)).collect()
    } else {
        format!("0x{v:08x}")
    }
}

impl FlowRow {
    /// The row a stored flow reads back as.
    pub fn from_record(r: &FlowRecord) -> FlowRow {
        let known_app = r.app.source != AppSource::None;
        FlowRow {
            proto: r.proto_name(),
            src_ip: canonical_ip(r.src_ip),
            src_port: r.src_port,
            dst_ip: canonical_ip(r.dst_ip),
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
            app: known_app.then(|| r.app.proto.name().to_string()),
            server_name: r.server_name().map(str::to_string),
            details: AppColumns::from_parts(
                known_app.then(|| r.app.source.name().to_string()),
                r.details.as_deref(),
            ),
            threat: ThreatColumns::of(r.reputation.as_deref()),
            tcp_rtt_ms: r.tcp_health.and_then(|h| h.handshake_rtt_ms()),
            tcp_retransmissions: r.tcp_health.map(|h| h.retransmissions),
            tcp_out_of_order: r.tcp_health.map(|h| h.out_of_order),
            tcp_lost_segments: r.tcp_health.map(|h| h.lost_segments),
            tcp_zero_windows: r.tcp_health.map(|h| h.zero_windows),
            vlan: r.vlan,
            tunnel: r.tunnel.as_ref().map(|t| t.summary()),
            features: r
                .features
                .as_deref()
                .map(|f| f.iter().map(|v| f64::from(*v as f32)).collect()),
        }
    }
}

/// How an address reads back from the store (v4-mapped IPv6 becomes IPv4).
pub(crate) fn canonical_ip(ip: IpAddr) -> IpAddr {
    blob_to_ip(&crate::ip::ip_to_blob(ip)).unwrap_or(ip)
}

#[cfg(test)]
mod tests {

    #[test]
    fn for_each_page_reads_every_row_once_in_order() {
        let data: Vec<u32> = (0..23).collect();
        let mut offsets = Vec::new();
        let mut seen = Vec::new();
        let fetch = |q: &Query| {
            offsets.push(q.offset);
            let rows: Vec<u32> = data.iter().skip(q.offset).take(q.limit).copied().collect();
            Ok(Page {
                rows,
                total: data.len() as u64,
                offset: q.offset,
                limit: q.limit,
            })
        };
        for_each_page(Query::default(), 10, fetch, |rows| {
            seen.extend(rows);
            Ok::<(), crate::StoreError>(())
        })
        .unwrap();
        assert_eq!(seen, data);
        assert_eq!(offsets, vec![0, 10, 20]);
    }
    use super::*;

    fn msg(e: StoreError) -> String {
        e.to_string()
    }

    #[test]
    fn ip_filters() {
        assert_eq!(
            parse_ip_filter("10.0.0.0/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            parse_ip_filter("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert_eq!(
            parse_ip_filter("2001:db8::/32").unwrap().to_string(),
            "2001:db8::/32"
        );
        assert_eq!(
            parse_ip_filter(" 2001:db8::1 ").unwrap().to_string(),
            "2001:db8::1/128"
        );
        assert_eq!(
            parse_ip_filter("10.1.2.3/8").unwrap().to_string(),
            "10.0.0.0/8"
        );
        assert_eq!(
            msg(parse_ip_filter("10.0.0.0/33").unwrap_err()),
            "bad query: invalid address filter \"10.0.0.0/33\": prefix length /33 is too long \
             for IPv4 (at most /32) (expected an address or network such as 192.0.2.7, \
             10.0.0.0/8 or 2001:db8::/32)"
        );
        assert!(
            msg(parse_ip_filter("10.0.0").unwrap_err())
                .contains("invalid address filter \"10.0.0\": not an IPv4 or IPv6 address")
        );
        assert!(
            msg(parse_ip_filter("::/129").unwrap_err())
                .contains("prefix length /129 is too long for IPv6 (at most /128)")
        );
        assert!(
            msg(parse_ip_filter("10.0.0.0/x").unwrap_err())
                .contains("prefix length \"x\" is not a number")
        );
        assert!(
            msg(parse_ip_filter("host/8").unwrap_err())
                .contains("\"host\" is not an IPv4 or IPv6 address")
        );
    }

    #[test]
    fn validation() {
        let q = Query::default();
        assert_eq!(q.limit, DEFAULT_LIMIT);
        q.validate().unwrap();
        let q = Query {
            from: Some(Timestamp::from_secs_nanos(20, 0)),
            to: Some(Timestamp::from_secs_nanos(10, 0)),
            ..Query::default()
        };
        assert_eq!(
            msg(q.validate().unwrap_err()),
            "bad query: inverted time range: from (20.000 s) is after to (10.000 s); swap them"
        );
        let q = Query {
            limit: 0,
            ..Query::default()
        };
        assert_eq!(
            msg(q.validate().unwrap_err()),
            "bad query: limit must be at least 1"
        );
        let q = Query {
            limit: 10_001,
            ..Query::default()
        };
        assert!(msg(q.validate().unwrap_err()).contains("limit 10001 is above the maximum"));
        let q = Query {
            sort: Some("password".into()),
            ..Query::default()
        };
        assert!(
            msg(q.validate().unwrap_err())
                .starts_with("bad query: unknown sort column \"password\"; columns by table: ")
        );
        let q = Query {
            sort: Some("src_port".into()),
            ..Query::default()
        };
        assert_eq!(q.sort_for("flows").unwrap(), "src_port");
        assert!(
            msg(q.sort_for("intervals").unwrap_err())
                .starts_with("bad query: intervals cannot be sorted by \"src_port\"; use one of: ")
        );
        assert_eq!(Query::default().sort_for("alerts").unwrap(), "last_ts");
    }

    #[test]
    fn resolution_names() {
        for r in [
            Resolution::Raw,
            Resolution::Minute,
            Resolution::Hour,
            Resolution::Auto,
        ] {
            assert_eq!(Resolution::parse(r.name()).unwrap(), r);
        }
        assert!(Resolution::parse("daily").is_err());
    }
}
