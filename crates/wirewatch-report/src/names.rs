//! Application totals of a run: flows per application, the busiest server names, the most
//! asked DNS names and the DNS response codes, gathered from every finished flow (also those
//! past the report's flow cap).

use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use wirewatch_core::{AppCount, AppProto, AppSource, FlowRecord};

/// Distinct server names and DNS query names counted per run. A capture with more (a DNS
/// tunnel makes a new name per query) keeps counting the known ones; new names past the cap
/// are counted in `names_untracked` only. 200,000 names of ~40 bytes is about 20 MB.
pub const MAX_TRACKED_NAMES: usize = 200_000;

/// Flows, packets and bytes of one application protocol.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AppTotalJson {
    /// The protocol (`unknown` for flows with neither a payload match nor a known port).
    pub app: AppProto,
    /// Flows labelled with it when they ended.
    pub flows: u64,
    /// Of those, flows whose payload confirmed it (the rest are port guesses).
    pub flows_from_payload: u64,
    /// Packets counted with it (the flow's label at the time of each packet).
    pub packets: u64,
    /// Wire bytes of those packets.
    pub bytes: u64,
}

/// One server name with its traffic.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ServerNameJson {
    /// The name (escaped text from the network).
    pub name: String,
    /// Flows to it.
    pub flows: u64,
    /// Wire bytes of those flows, both directions.
    pub bytes: u64,
}

/// One DNS query name with how often it was asked.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DnsQueryJson {
    /// The name (escaped text from the network).
    pub name: String,
    /// Flows that asked it.
    pub flows: u64,
}

/// Collects the application totals from finished flows.
#[derive(Debug)]
pub struct AppTotals {
    /// Flows and payload-confirmed flows, indexed by `AppProto as usize`.
    flows: [(u64, u64); AppProto::COUNT],
    servers: HashMap<String, (u64, u64)>,
    queries: HashMap<String, u64>,
    rcodes: BTreeMap<String, u64>,
    untracked: u64,
}

impl Default for AppTotals {
    fn default() -> Self {
        AppTotals {
            flows: [(0, 0); AppProto::COUNT],
            servers: HashMap::new(),
            queries: HashMap::new(),
            rcodes: BTreeMap::new(),
            untracked: 0,
        }
    }
}

impl AppTotals {
    /// Counts one finished flow.
    pub fn add(&mut self, f: &FlowRecord) {
        if let Some(c) = self.flows.get_mut(f.app.proto as usize) {
            c.0 += 1;
            c.1 += u64::from(f.app.source == AppSource::Payload);
        }
        let Some(d) = &f.details else { return };
        if let Some(name) = &d.server_name {
            let tracked = self.servers.len() < MAX_TRACKED_NAMES;
            match self.servers.get_mut(name) {
                Some(e) => {
                    e.0 += 1;
                    e.1 += f.bytes();
                }
                None if tracked => {
                    self.servers.insert(name.clone(), (1, f.bytes()));
                }
                None => self.untracked += 1,
            }
        }
        for q in &d.dns_queries {
            let tracked = self.queries.len() < MAX_TRACKED_NAMES;
            match self.queries.get_mut(q) {
                Some(n) => *n += 1,
                None if tracked => {
                    self.queries.insert(q.clone(), 1);
                }
                None => self.untracked += 1,
            }
        }
        for (code, n) in &d.dns_rcodes {
            *self.rcodes.entry(code.clone()).or_insert(0) += u64::from(*n);
        }
    }

    /// Per-application totals: flow counts from here, packets and bytes from the engine's
    /// interval counters; most bytes first.
    pub fn apps(&self, packets: &[AppCount]) -> Vec<AppTotalJson> {
        let mut v: Vec<AppTotalJson> = AppProto::ALL
            .iter()
            .zip(self.flows.iter())
            .map(|(app, f)| {
                let p = packets.iter().find(|c| c.app == *app);
                AppTotalJson {
                    app: *app,
                    flows: f.0,
                    flows_from_payload: f.1,
                    packets: p.map_or(0, |c| c.packets),
                    bytes: p.map_or(0, |c| c.bytes),
                }
            })
            .filter(|a| a.flows > 0 || a.packets > 0)
            .collect();
        v.sort_by(|a, b| b.bytes.cmp(&a.bytes).then(a.app.cmp(&b.app)));
        v
    }

    /// The `n` server names with the most flows (ties: more bytes, then by name).
    pub fn top_server_names(&self, n: usize) -> Vec<ServerNameJson> {
        let mut v: Vec<ServerNameJson> = self
            .servers
            .iter()
            .map(|(name, (flows, bytes))| ServerNameJson {
                name: name.clone(),
                flows: *flows,
                bytes: *bytes,
            })
            .collect();
        v.sort_by(|a, b| {
            b.flows
                .cmp(&a.flows)
                .then(b.bytes.cmp(&a.bytes))
                .then(a.name.cmp(&b.name))
        });
        v.truncate(n);
        v
    }

    /// The `n` most asked DNS names (ties by name).
    pub fn top_dns_queries(&self, n: usize) -> Vec<DnsQueryJson> {
        let mut v: Vec<DnsQueryJson> = self
            .queries
            .iter()
            .map(|(name, flows)| DnsQueryJson {
                name: name.clone(),
                flows: *flows,
            })
            .collect();
        v.sort_by(|a, b| b.flows.cmp(&a.flows).then(a.name.cmp(&b.name)));
        v.truncate(n);
        v
    }

    /// DNS responses by response code.
    pub fn dns_rcodes(&self) -> BTreeMap<String, u64> {
        self.rcodes.clone()
    }

    /// Names not counted because the name tables were full.
    pub fn names_untracked(&self) -> u64 {
        self.untracked
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wirewatch_core::{AppDetails, AppLabel, NameSource};

    fn flow(app: AppLabel, server: Option<&str>, queries: &[&str], bytes: u64) -> FlowRecord {
        let mut d = AppDetails::default();
        if let Some(s) = server {
            d.offer_server_name(s.to_string(), NameSource::TlsSni);
        }
        for q in queries {
            d.add_dns_query(q);
            d.add_dns_rcode("NOERROR");
        }
        let mut f: FlowRecord = serde_json::from_value(serde_json::json!({
            "ip_proto": 6, "src_ip": "10.0.0.1", "src_port": 1, "dst_ip": "10.0.0.2",
            "dst_port": 2,
            "fwd": {"packets": 1, "bytes": bytes, "payload_bytes": 0, "tcp_flags": 0},
            "rev": {"packets": 0, "bytes": 0, "payload_bytes": 0, "tcp_flags": 0},
            "first_ts": 0, "last_ts": 0, "state": "none", "end_reason": "idle_timeout"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        f.app = app;
        f.details = Some(Box::new(d));
        f
    }

    #[test]
    fn totals_rank_names_and_split_guesses_from_payload_matches() {
        let mut t = AppTotals::default();
        t.add(&flow(
            AppLabel::payload(AppProto::Tls),
            Some("a.example"),
            &[],
            100,
        ));
        t.add(&flow(
            AppLabel::payload(AppProto::Tls),
            Some("b.example"),
            &[],
            900,
        ));
        t.add(&flow(
            AppLabel::from_ports(6, 1, 443),
            Some("a.example"),
            &[],
            10,
        ));
        t.add(&flow(
            AppLabel::payload(AppProto::Dns),
            None,
            &["x.example", "y.example"],
            1,
        ));
        t.add(&flow(
            AppLabel::payload(AppProto::Dns),
            None,
            &["x.example"],
            1,
        ));
        let apps = t.apps(&[]);
        let tls = apps.iter().find(|a| a.app == AppProto::Tls);
        assert_eq!(tls.map(|a| (a.flows, a.flows_from_payload)), Some((3, 2)));
        let servers = t.top_server_names(1);
        assert_eq!(
            servers,
            vec![ServerNameJson {
                name: "a.example".into(),
                flows: 2,
                bytes: 110
            }]
        );
        let q = t.top_dns_queries(5);
        assert_eq!((q[0].name.as_str(), q[0].flows), ("x.example", 2));
        assert_eq!(t.dns_rcodes().get("NOERROR"), Some(&3));
        assert_eq!(t.names_untracked(), 0);
    }
}
