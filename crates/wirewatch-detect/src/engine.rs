//! The detection engine: runs the detectors and turns their drafts into incidents.
//!
//! Owns everything that happens once for all detectors: suppression, grouping drafts with the
//! same `incident_key` into one incident (one [`Alert`] with a stable id), ending incidents
//! after a quiet time of packet time, the cap on open incidents, and rate limits on new
//! incidents. Detectors know nothing of incidents; the engine knows nothing of signals.

use crate::detectors;
use crate::sketch::{Map, new_map};
use crate::suppress::Compiled;
use crate::{AlertDraft, DetectConfig, DetectError, Detector, IncidentConfig, Ingested, kind};
use foldhash::fast::FixedState;
use hashlink::LinkedHashMap;
use serde::Serialize;
use std::collections::HashSet;
use std::net::IpAddr;
use wirewatch_core::proto::tcp_flags::{ACK, RST, SYN};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{Alert, FlowRecord, IntervalMetrics, ThreatHit, Timestamp};
use wirewatch_decode::app::dns::{self, DnsMessage};
use wirewatch_decode::{Packet, Transport};

/// Most sources, ports and targets an incident lists; later ones are counted in the evidence
/// of the drafts, not listed. 32 fills a dashboard row and keeps a stored alert small.
pub const MAX_LISTED: usize = 32;
/// Sources tracked per minute for the per-source rate limit. A spoofed flood names thousands
/// of sources, but only drafts naming a single source are limited per source, and there are
/// never thousands of those a minute; beyond the cap a source is not limited (and counted).
const MAX_RATE_SOURCES: usize = 4096;
/// The rate-limit window: one minute of packet time.
const MINUTE_NS: u64 = 60 * NANOS_PER_SEC;

/// Counters of the engine's life so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct DetectStats {
    /// Drafts the detectors produced (suppressed and rate-limited ones included).
    pub drafts: u64,
    /// Incidents opened.
    pub incidents_opened: u64,
    /// Drafts merged into an open incident.
    pub updates: u64,
    /// Drafts dropped by a suppression rule.
    pub suppressed: u64,
    /// Drafts that would have opened an incident but hit a rate limit.
    pub rate_limited: u64,
    /// Entries the bounded per-source / per-destination maps (detectors' and the rate
    /// limiter's) had to drop or turn away.
    pub state_evictions: u64,
    /// Incidents open now.
    pub open_incidents: u64,
    /// Incidents ended (quiet time, cap, or end of capture).
    pub incidents_ended: u64,
    /// Of those, incidents ended early because `max_open` was reached.
    pub incidents_evicted: u64,
    /// Drafts dropped because another finding of the same interval explained their packets
    /// (a spike by a flood or scan, a generic DoS by a specific flood, a network-wide SYN
    /// flood by a scan).
    pub explained: u64,
}

/// The bounded state of one detector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DetectorState {
    /// The detector.
    pub name: &'static str,
    /// Entries its maps hold now.
    pub tracked: u64,
    /// Entries its caps dropped or turned away so far.
    pub evictions: u64,
}

/// Kinds whose attacks also raise the traffic rate (a `spike` in the same interval is theirs):
/// the floods, and fast scans (a thousand probes and their answers in a second).
const VOLUMETRIC: [&str; 7] = [
    kind::SYN_FLOOD,
    kind::DOS,
    kind::DDOS,
    kind::ICMP_FLOOD,
    kind::UDP_FLOOD,
    kind::DNS_AMPLIFICATION,
    kind::PORT_SCAN,
];

pub use wirewatch_core::IncidentStatus;

/// An incident's current state and what just happened to it.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertUpdate {
    /// Opened, updated or ended.
    pub status: IncidentStatus,
    /// The incident.
    pub alert: Alert,
}

/// One open incident.
struct Incident {
    alert: Alert,
    /// Peak of the drafts' magnitude; the message comes from the peak draft.
    peak: f64,
    peak_evidence: serde_json::Value,
    latest_evidence: serde_json::Value,
}

impl Incident {
    fn open(id: u64, draft: AlertDraft) -> Self {
        let mut inc = Incident {
            alert: Alert {
                id,
                kind: draft.kind.to_string(),
                severity: draft.severity,
                confidence: draft.confidence,
                start_ts: draft.ts,
                last_ts: draft.ts,
                updates: 0,
                sources: Vec::new(),
                targets: Vec::new(),
                ports: Vec::new(),
                message: draft.message,
                recommendation: draft.recommendation,
                evidence: serde_json::Value::Null,
            },
            peak: draft.magnitude,
            peak_evidence: draft.evidence,
            latest_evidence: serde_json::Value::Null,
        };
        merge_list(&mut inc.alert.sources, &draft.sources);
        merge_list(&mut inc.alert.targets, &draft.targets);
        merge_list(&mut inc.alert.ports, &draft.ports);
        inc.alert.ports.sort_unstable();
        inc.compose_evidence();
        inc
    }

    fn update(&mut self, draft: AlertDraft) {
        let a = &mut self.alert;
        a.last_ts = a.last_ts.max(draft.ts);
        a.updates += 1;
        a.severity = a.severity.max(draft.severity);
        a.confidence = a.confidence.max(draft.confidence);
        merge_list(&mut a.sources, &draft.sources);
        merge_list(&mut a.targets, &draft.targets);
        merge_list(&mut a.ports, &draft.ports);
        a.ports.sort_unstable();
        if draft.magnitude > self.peak {
            self.peak = draft.magnitude;
            a.message = draft.message;
            a.recommendation = draft.recommendation;
            self.peak_evidence = draft.evidence;
            self.latest_evidence = serde_json::Value::Null;
        } else {
            self.latest_evidence = draft.evidence;
        }
        self.compose_evidence();
    }

    /// The peak draft's evidence, with the peak magnitude and the latest draft's evidence.
    fn compose_evidence(&mut self) {
        let mut ev = match &self.peak_evidence {
            serde_json::Value::Object(m) => m.clone(),
            serde_json::Value::Null => serde_json::Map::new(),
            other => {
                let mut m = serde_json::Map::new();
                m.insert("value".into(), other.clone());
                m
            }
        };
        ev.insert("peak_magnitude".into(), serde_json::json!(self.peak));
        if !self.latest_evidence.is_null() {
            ev.insert("latest".into(), self.latest_evidence.clone());
        }
        self.alert.evidence = serde_json::Value::Object(ev);
    }
}

/// Adds the values of `new` missing from `list`, up to [`MAX_LISTED`].
fn merge_list<T: PartialEq + Copy>(list: &mut Vec<T>, new: &[T]) {
    for v in new {
        if list.len() >= MAX_LISTED {
            break;
        }
        if !list.contains(v) {
            list.push(*v);
        }
    }
}

/// Limits on new incidents per minute of packet time.
struct RateLimits {
    minute: u64,
    per_detector: Map<&'static str, u32>,
    per_source: Map<IpAddr, u32>,
    max_per_detector: u32,
    max_per_source: u32,
    /// Sources not tracked because `per_source` was full.
    untracked: u64,
}

impl RateLimits {
    fn new(cfg: &IncidentConfig) -> Self {
        RateLimits {
            minute: u64::MAX,
            per_detector: new_map(),
            per_source: new_map(),
            max_per_detector: cfg.max_new_per_minute_per_detector,
            max_per_source: cfg.max_new_per_minute_per_source,
            untracked: 0,
        }
    }

    /// Whether `detector` may open an incident for `draft` now; counts it if so.
    fn allow(&mut self, detector: &'static str, draft: &AlertDraft, now: Timestamp) -> bool {
        let minute = now.nanos() / MINUTE_NS;
        if minute != self.minute {
            self.minute = minute;
            self.per_detector.clear();
            self.per_source.clear();
        }
        if self.per_detector.get(detector).copied().unwrap_or(0) >= self.max_per_detector {
            return false;
        }
        // Only a draft that names one offender is limited per source: a flood's sample of
        // spoofed sources says nothing about who is behind it.
        let single = match draft.sources.as_slice() {
            [ip] => Some(*ip),
            _ => None,
        };
        if let Some(ip) = single {
            if self.per_source.get(&ip).copied().unwrap_or(0) >= self.max_per_source {
                return false;
            }
            if self.per_source.len() < MAX_RATE_SOURCES || self.per_source.contains_key(&ip) {
                *self.per_source.entry(ip).or_insert(0) += 1;
            } else {
                self.untracked += 1;
            }
        }
        *self.per_detector.entry(detector).or_insert(0) += 1;
        true
    }
}

/// Incidents, suppression and limits: everything downstream of the detectors.
struct Book {
    /// Open incidents by key, least recently updated first.
    incidents: LinkedHashMap<String, Incident, FixedState>,
    rules: Vec<Compiled>,
    limits: RateLimits,
    quiet_ns: u64,
    max_open: usize,
    next_id: u64,
    stats: DetectStats,
    /// Incidents opened or updated during the current call: (key, id, opened).
    touched: Vec<(String, u64, bool)>,
    touched_ids: HashSet<u64, FixedState>,
    /// Incidents ended during the current call.
    ended: Vec<Alert>,
}

impl Book {
    fn accept(&mut self, detector: &'static str, draft: AlertDraft, now: Timestamp) {
        self.stats.drafts += 1;
        if self.rules.iter().any(|r| r.matches(&draft)) {
            self.stats.suppressed += 1;
            return;
        }
        let key = draft.incident_key.clone();
        if let Some(inc) = self.incidents.get_mut(&key) {
            inc.update(draft);
            let id = inc.alert.id;
            self.incidents.to_back(&key);
            self.stats.updates += 1;
            if self.touched_ids.insert(id) {
                self.touched.push((key, id, false));
            }
            return;
        }
        if !self.limits.allow(detector, &draft, now) {
            self.stats.rate_limited += 1;
            return;
        }
        while self.incidents.len() >= self.max_open {
            let Some((_, old)) = self.incidents.pop_front() else {
                break;
            };
            self.stats.incidents_evicted += 1;
            self.stats.incidents_ended += 1;
            self.ended.push(old.alert);
        }
        let id = self.next_id;
        self.next_id += 1;
        self.incidents
            .insert(key.clone(), Incident::open(id, draft));
        self.stats.incidents_opened += 1;
        self.touched_ids.insert(id);
        self.touched.push((key, id, true));
    }

    /// Ends the incidents quiet for `quiet_ns` at `now`.
    fn end_quiet(&mut self, now: Timestamp) {
        let quiet: Vec<String> = self
            .incidents
            .iter()
            .filter(|(_, inc)| now.since(inc.alert.last_ts) >= self.quiet_ns)
            .map(|(k, _)| k.clone())
            .collect();
        let mut ended: Vec<Alert> = quiet
            .iter()
            .filter_map(|k| self.incidents.remove(k))
            .map(|inc| inc.alert)
            .collect();
        ended.sort_by_key(|a| a.id);
        self.stats.incidents_ended += ended.len() as u64;
        self.ended.extend(ended);
    }

    /// The updates of the current call, in order: opened/updated, then ended.
    fn take_updates(&mut self) -> Vec<AlertUpdate> {
        let mut out = Vec::with_capacity(self.touched.len() + self.ended.len());
        for (key, id, opened) in self.touched.drain(..) {
            // An incident evicted by the cap in this same call is reported as ended only.
            if let Some(inc) = self.incidents.get(&key)
                && inc.alert.id == id
            {
                out.push(AlertUpdate {
                    status: if opened {
                        IncidentStatus::Opened
                    } else {
                        IncidentStatus::Updated
                    },
                    alert: inc.alert.clone(),
                });
            }
        }
        self.touched_ids.clear();
        out.extend(self.ended.drain(..).map(|alert| AlertUpdate {
            status: IncidentStatus::Ended,
            alert,
        }));
        out
    }
}

/// Runs the detectors and keeps the incidents. See the crate documentation.
pub struct DetectionEngine {
    enabled: bool,
    detectors: Vec<Box<dyn Detector>>,
    /// Indices of the detectors that want packets / flows.
    packet_detectors: Vec<usize>,
    /// Of those, the ones that want routine segments too (see [`Detector::wants_routine`]).
    routine_detectors: Vec<usize>,
    flow_detectors: Vec<usize>,
    dns_detectors: Vec<usize>,
    threat_detectors: Vec<usize>,
    book: Book,
    drafts: Vec<AlertDraft>,
    /// `spike` drafts of the previous interval, held back one interval: a flood that starts
    /// or ends mid-interval shows first (or last) as a rate jump below the flood thresholds.
    held_spikes: Vec<(&'static str, AlertDraft)>,
    /// End of the latest interval in which a volumetric detector drafted.
    last_volumetric: Option<Timestamp>,
    /// Time spent in each detector (same order as `detectors`).
    timing: Timing,
}

/// One packet (and one flow) in this many is timed; the time measured is scaled up by it.
const TIMING_SAMPLE: u64 = 64;

/// Time spent in each detector, for monitoring (`/metrics`). It reads the monotonic clock but
/// never feeds back into detection: results stay a function of packet time alone.
#[derive(Debug, Default)]
struct Timing {
    nanos: Vec<u64>,
    packets: u64,
    flows: u64,
}

impl Timing {
    fn add(&mut self, i: usize, since: std::time::Instant, scale: u64) {
        let n = u64::try_from(since.elapsed().as_nanos()).unwrap_or(u64::MAX);
        if let Some(t) = self.nanos.get_mut(i) {
            *t = t.saturating_add(n.saturating_mul(scale));
        }
    }
}

impl DetectionEngine {
    /// Validates `config` and builds the enabled detectors.
    pub fn new(config: &DetectConfig) -> Result<DetectionEngine, DetectError> {
        let detectors = if config.enabled {
            detectors::build(config)?
        } else {
            Vec::new()
        };
        Self::with_detectors(config, detectors)
    }

    /// An engine running `detectors` (instead of the ones `config` enables) with `config`'s
    /// incident settings and suppression rules: for detectors defined outside this crate, and
    /// for tests.
    pub fn with_detectors(
        config: &DetectConfig,
        detectors: Vec<Box<dyn Detector>>,
    ) -> Result<DetectionEngine, DetectError> {
        let inc = &config.incident;
        if inc.quiet_secs == 0 {
            return Err(invalid("quiet_secs", "0", "must be at least 1 second"));
        }
        if inc.max_open == 0 {
            return Err(invalid("max_open", "0", "must be at least 1"));
        }
        let rules = config
            .suppress
            .iter()
            .enumerate()
            .map(|(i, r)| Compiled::new(i + 1, r))
            .collect::<Result<Vec<_>, _>>()?;
        let packet_detectors: Vec<usize> = (0..detectors.len())
            .filter(|i| detectors[*i].wants_packets())
            .collect();
        let routine_detectors = packet_detectors
            .iter()
            .copied()
            .filter(|i| detectors[*i].wants_routine())
            .collect();
        let flow_detectors = (0..detectors.len())
            .filter(|i| detectors[*i].wants_flows())
            .collect();
        let dns_detectors = (0..detectors.len())
            .filter(|i| detectors[*i].wants_dns())
            .collect();
        let threat_detectors = (0..detectors.len())
            .filter(|i| detectors[*i].wants_threats())
            .collect();
        let detectors_len = detectors.len();
        Ok(DetectionEngine {
            enabled: config.enabled,
            detectors,
            packet_detectors,
            routine_detectors,
            flow_detectors,
            dns_detectors,
            threat_detectors,
            book: Book {
                incidents: LinkedHashMap::with_hasher(FixedState::default()),
                rules,
                limits: RateLimits::new(inc),
                quiet_ns: inc.quiet_secs.saturating_mul(NANOS_PER_SEC),
                max_open: inc.max_open,
                next_id: 1,
                stats: DetectStats::default(),
                touched: Vec::new(),
                touched_ids: HashSet::with_hasher(FixedState::default()),
                ended: Vec::new(),
            },
            drafts: Vec::new(),
            held_spikes: Vec::new(),
            last_volumetric: None,
            timing: Timing {
                nanos: vec![0; detectors_len],
                ..Timing::default()
            },
        })
    }

    /// Whether any detector wants packets (so the hot path can skip the call).
    pub fn wants_packets(&self) -> bool {
        !self.packet_detectors.is_empty()
    }

    /// Whether any detector wants DNS messages (then call [`DetectionEngine::on_payload`]).
    pub fn wants_dns(&self) -> bool {
        !self.dns_detectors.is_empty()
    }

    /// A packet's captured transport payload: DNS on port 53 (UDP, or TCP with its length
    /// prefix) is decoded once and handed to the detectors that want it.
    pub fn on_payload(&mut self, pkt: &Packet, payload: &[u8], wire_len: u32, ts: Timestamp) {
        if self.dns_detectors.is_empty() || payload.is_empty() {
            return;
        }
        let msg = match pkt.transport {
            Transport::Udp(u) if u.src_port == 53 || u.dst_port == 53 => dns::parse_udp(payload),
            Transport::Tcp(t) if t.src_port == 53 || t.dst_port == 53 => dns::parse_tcp(payload),
            _ => None,
        };
        if let Some(msg) = msg {
            self.on_dns_message(pkt, &msg, wire_len, ts);
        }
    }

    /// A DNS message on port 53 that the caller decoded already (the flow table does, when it
    /// classifies payloads), handed to the detectors that want it.
    pub fn on_dns_message(&mut self, pkt: &Packet, msg: &DnsMessage, wire_len: u32, ts: Timestamp) {
        for &i in &self.dns_detectors {
            if let Some(d) = self.detectors.get_mut(i) {
                d.on_dns(pkt, msg, wire_len, ts);
            }
        }
    }

    /// The anomaly detector's model slot, when that detector runs.
    pub fn anomaly_slot(&self) -> Option<std::sync::Arc<detectors::ml_anomaly::AnomalySlot>> {
        self.detectors.iter().find_map(|d| {
            d.as_any()?
                .downcast_ref::<detectors::ml_anomaly::MlAnomaly>()
                .map(detectors::ml_anomaly::MlAnomaly::slot)
        })
    }

    /// The flow classifier detector's model slot, when that detector runs.
    pub fn flow_model_slot(&self) -> Option<std::sync::Arc<detectors::ml_threat::FlowModelSlot>> {
        self.detectors.iter().find_map(|d| {
            d.as_any()?
                .downcast_ref::<detectors::ml_threat::MlThreat>()
                .map(detectors::ml_threat::MlThreat::slot)
        })
    }

    /// Whether any detector wants threat-intelligence hits.
    pub fn wants_threats(&self) -> bool {
        !self.threat_detectors.is_empty()
    }

    /// A flow endpoint with a reputation, handed to the detectors that want it.
    pub fn on_threat(&mut self, hit: &ThreatHit) {
        for &i in &self.threat_detectors {
            if let Some(d) = self.detectors.get_mut(i) {
                d.on_threat(hit);
            }
        }
    }

    /// Whether any detector wants finished flows.
    pub fn wants_flows(&self) -> bool {
        !self.flow_detectors.is_empty()
    }

    /// One decoded packet. Call it after closing the intervals that end at or before `ts`
    /// (as the pipeline does before accounting the packet), so it counts in the open interval.
    #[inline]
    pub fn on_packet(&mut self, pkt: &Packet, wire_len: u32, ts: Timestamp) {
        self.on_packet_in_flow(pkt, wire_len, ts, None);
    }

    /// One decoded packet with what the flow table made of it (see
    /// [`Detector::on_flow_packet`]); same call order as [`on_packet`](Self::on_packet).
    #[inline]
    pub fn on_packet_in_flow(
        &mut self,
        pkt: &Packet,
        wire_len: u32,
        ts: Timestamp,
        flow: Option<&Ingested>,
    ) {
        self.timing.packets += 1;
        let timed = self.timing.packets.is_multiple_of(TIMING_SAMPLE);
        let detectors = if is_routine(pkt, flow) {
            &self.routine_detectors
        } else {
            &self.packet_detectors
        };
        for &i in detectors {
            if let Some(d) = self.detectors.get_mut(i) {
                if timed {
                    #[allow(
                        clippy::disallowed_methods,
                        reason = "CPU time of a detector for `/metrics`; detection never reads it"
                    )]
                    let start = std::time::Instant::now();
                    d.on_flow_packet(pkt, wire_len, ts, flow);
                    self.timing.add(i, start, TIMING_SAMPLE);
                } else {
                    d.on_flow_packet(pkt, wire_len, ts, flow);
                }
            }
        }
    }

    /// One finished flow.
    pub fn on_flow(&mut self, flow: &FlowRecord) {
        self.timing.flows += 1;
        let timed = self.timing.flows.is_multiple_of(TIMING_SAMPLE);
        for &i in &self.flow_detectors {
            if let Some(d) = self.detectors.get_mut(i) {
                if timed {
                    #[allow(
                        clippy::disallowed_methods,
                        reason = "CPU time of a detector for `/metrics`; detection never reads it"
                    )]
                    let start = std::time::Instant::now();
                    d.on_flow(flow);
                    self.timing.add(i, start, TIMING_SAMPLE);
                } else {
                    d.on_flow(flow);
                }
            }
        }
    }

    /// Seconds spent in each detector so far, by name: interval work measured in full, packet
    /// and flow work estimated from one call in 64. For monitoring only.
    pub fn detector_seconds(&self) -> Vec<(&'static str, f64)> {
        self.detectors
            .iter()
            .zip(&self.timing.nanos)
            .map(|(d, n)| (d.name(), *n as f64 / 1e9))
            .collect()
    }

    /// Runs the detectors on a closed interval; returns the alerts opened or updated by it (an
    /// updated incident keeps its id, start_ts; its last_ts, updates, peak/severity grow), and
    /// those ended by quiet time (with a final state).
    pub fn on_interval(&mut self, metrics: &IntervalMetrics) -> Vec<Alert> {
        self.on_interval_events(metrics)
            .into_iter()
            .map(|u| u.alert)
            .collect()
    }

    /// Like [`on_interval`](Self::on_interval), saying for each alert whether it was opened,
    /// updated or ended.
    pub fn on_interval_events(&mut self, metrics: &IntervalMetrics) -> Vec<AlertUpdate> {
        if !self.enabled {
            return Vec::new();
        }
        let now = metrics.end_ts();
        let mut batch: Vec<(&'static str, AlertDraft)> = Vec::new();
        for (i, d) in self.detectors.iter_mut().enumerate() {
            #[allow(
                clippy::disallowed_methods,
                reason = "CPU time of a detector for `/metrics`; detection never reads it"
            )]
            let start = std::time::Instant::now();
            d.on_interval(metrics, &mut self.drafts);
            self.timing.add(i, start, 1);
            let name = d.name();
            batch.extend(self.drafts.drain(..).map(|draft| (name, draft)));
        }
        // A flood raises the traffic rate too: a spike in the interval before, during or
        // after a volumetric detector's finding is the same attack, not a second incident.
        // Spikes are therefore held one interval and dropped when a flood explains them.
        if batch.iter().any(|(_, d)| VOLUMETRIC.contains(&d.kind)) {
            self.last_volumetric = Some(now);
        }
        let span = metrics.duration_ns;
        let explained = |ts: Timestamp, last: Option<Timestamp>| {
            last.is_some_and(|v| v.plus(span) >= ts && v <= ts.plus(span))
        };
        let held = std::mem::take(&mut self.held_spikes);
        for (name, draft) in held {
            if explained(draft.ts, self.last_volumetric) {
                self.book.stats.explained += 1;
            } else {
                self.book.accept(name, draft, now);
            }
        }
        let batch = drop_explained(batch, &mut self.book.stats.explained);
        for (name, draft) in batch {
            if draft.kind == kind::SPIKE {
                if explained(draft.ts, self.last_volumetric) {
                    self.book.stats.explained += 1;
                } else {
                    self.held_spikes.push((name, draft));
                }
            } else {
                self.book.accept(name, draft, now);
            }
        }
        self.book.end_quiet(now);
        self.book.take_updates()
    }

    /// Ends every open incident (end of capture) and returns them.
    pub fn finish(&mut self) -> Vec<Alert> {
        for (name, draft) in std::mem::take(&mut self.held_spikes) {
            let ts = draft.ts;
            self.book.accept(name, draft, ts);
        }
        let mut all: Vec<Alert> = std::iter::from_fn(|| self.book.incidents.pop_front())
            .map(|(_, inc)| inc.alert)
            .collect();
        all.sort_by_key(|a| a.id);
        self.book.stats.incidents_ended += all.len() as u64;
        all
    }

    /// Counters so far.
    pub fn stats(&self) -> DetectStats {
        let detector_evictions: u64 = self.detectors.iter().map(|d| d.evictions()).sum();
        DetectStats {
            state_evictions: detector_evictions + self.book.limits.untracked,
            open_incidents: self.book.incidents.len() as u64,
            ..self.book.stats
        }
    }

    /// Sets the next incident id (so ids continue across runs stored in one database). Ids
    /// start at 1; 0 is taken as 1.
    pub fn set_next_id(&mut self, id: u64) {
        self.book.next_id = id.max(1);
    }

    /// The open incidents, oldest id first (for a snapshot of the current state).
    pub fn open_alerts(&self) -> Vec<Alert> {
        let mut v: Vec<Alert> = self
            .book
            .incidents
            .values()
            .map(|i| i.alert.clone())
            .collect();
        v.sort_by_key(|a| a.id);
        v
    }

    /// Names of the detectors that run.
    pub fn detector_names(&self) -> Vec<&'static str> {
        self.detectors.iter().map(|d| d.name()).collect()
    }

    /// Entries each detector's bounded maps hold now, by detector name.
    pub fn tracked(&self) -> Vec<(&'static str, usize)> {
        self.detectors
            .iter()
            .map(|d| (d.name(), d.tracked()))
            .collect()
    }

    /// Per detector: entries held now and entries its caps dropped so far.
    pub fn detector_state(&self) -> Vec<DetectorState> {
        self.detectors
            .iter()
            .map(|d| DetectorState {
                name: d.name(),
                tracked: d.tracked() as u64,
                evictions: d.evictions(),
            })
            .collect()
    }
}

fn invalid(field: &'static str, value: &str, reason: &'static str) -> DetectError {
    DetectError::Invalid {
        section: "incident",
        field,
        value: value.to_string(),
        reason,
    }
}

/// Whether `pkt` is a routine segment: TCP with ACK, no SYN or RST, in a flow the table
/// already knew, neither the responder's first packet nor the one completing the handshake —
/// the bulk of every capture, which only rate detectors need to see.
#[inline]
fn is_routine(pkt: &Packet, flow: Option<&Ingested>) -> bool {
    let Transport::Tcp(t) = pkt.transport else {
        return false;
    };
    t.flags & (SYN | RST | ACK) == ACK
        && flow.is_some_and(|f| !f.new_flow && !f.first_reply && !f.handshake_completed)
}

/// Drops the drafts of this interval whose packets another draft of it already explains, so
/// one attack is one incident (each drop counted in `explained`):
/// - a specific finding about a target (`syn_flood`, `icmp_flood`, `udp_flood`,
///   `dns_amplification`) explains a `dos`/`ddos` draft about the same target;
/// - an amplification (DNS, or another vector the `reflection` detector names) explains a
///   `udp_flood` draft about the same target;
/// - a scan explains a network-wide SYN flood (`syn_flood|*`) — a fast horizontal scan is many
///   SYNs to many hosts, and names its scanner instead of the interval's bystanders — and a
///   SYN flood at one host whose named sources are all scanning in the same interval, and a
///   network-wide ICMP flood (a fast ping sweep).
fn drop_explained(
    batch: Vec<(&'static str, AlertDraft)>,
    explained: &mut u64,
) -> Vec<(&'static str, AlertDraft)> {
    const SPECIFIC: [&str; 4] = [
        kind::SYN_FLOOD,
        kind::ICMP_FLOOD,
        kind::UDP_FLOOD,
        kind::DNS_AMPLIFICATION,
    ];
    let scanning = batch.iter().any(|(_, d)| d.kind == kind::PORT_SCAN);
    let scanners: HashSet<IpAddr> = batch
        .iter()
        .filter(|(_, d)| d.kind == kind::PORT_SCAN)
        .flat_map(|(_, d)| d.sources.iter().copied())
        .collect();
    let specific_targets: HashSet<IpAddr> = batch
        .iter()
        .filter(|(_, d)| SPECIFIC.contains(&d.kind))
        .flat_map(|(_, d)| d.targets.iter().copied())
        .collect();
    let reflected = |name: &str, d: &AlertDraft| {
        d.kind == kind::DNS_AMPLIFICATION || name == detectors::reflection::NAME
    };
    let amplified: HashSet<IpAddr> = batch
        .iter()
        .filter(|(name, d)| reflected(name, d))
        .flat_map(|(_, d)| d.targets.iter().copied())
        .collect();
    let before = batch.len();
    let kept: Vec<(&'static str, AlertDraft)> = batch
        .into_iter()
        .filter(|(name, d)| {
            // The reflection detector's DoS/DDoS name a vector; only the generic rate
            // detector's give way.
            let generic_dos = (d.kind == kind::DOS || d.kind == kind::DDOS)
                && !reflected(name, d)
                && !d.targets.is_empty()
                && d.targets.iter().all(|t| specific_targets.contains(t));
            // Amplified answers are a UDP flood too: the amplification names it better.
            let amplified_flood = d.kind == kind::UDP_FLOOD
                && !d.targets.is_empty()
                && d.targets.iter().all(|t| amplified.contains(t));
            // A scan's SYNs: network-wide, or at one host from the scanner alone; a fast
            // ping sweep's echo requests: network-wide ICMP.
            let scan_syns = scanning
                && ((d.kind == kind::SYN_FLOOD
                    && (d.incident_key.ends_with("|*")
                        || (!d.sources.is_empty()
                            && d.sources.iter().all(|s| scanners.contains(s)))))
                    || (d.kind == kind::ICMP_FLOOD && d.incident_key.ends_with("|*")));
            !(generic_dos || amplified_flood || scan_syns)
        })
        .collect();
    *explained += (before - kept.len()) as u64;
    kept
}

#[cfg(test)]
#[path = "engine_explain_tests.rs"]
mod explain_tests;
