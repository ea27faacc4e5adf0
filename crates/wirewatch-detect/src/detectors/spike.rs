//! Traffic spike: the packet or byte rate of the whole link far above its own recent normal.
//!
//! # What it detects
//!
//! A sudden jump of the total traffic: a big transfer, a backup, a worm, a reflection attack or
//! a misbehaving host, whatever the protocol. It says *that* the link is busier than usual and
//! names the top talkers; the specific detectors say *what* it is.
//!
//! # Signal
//!
//! Per closed interval, packets/s and bits/s of the whole capture, compared with a baseline of
//! past intervals: an EWMA (`baseline = "ewma"`, weight `ewma_alpha`) or a plain running mean
//! (`baseline = "mean"`). Bare SYNs (SYN without ACK) are left out of both rates (counted as
//! minimum-size 60-byte frames for bits/s): a SYN flood is `syn_flood`'s, and would otherwise be
//! reported twice. The baseline learns only from intervals that do not alert, so a long spike
//! does not become its own normal — unless it lasts `relearn_after_intervals` intervals in a
//! row, when the current level is adopted as the new baseline (a permanent change of the
//! network, not an incident). The first `warmup_intervals` intervals only learn.
//!
//! # Thresholds
//!
//! An interval alerts when packets/s ≥ `factor` × baseline **and** ≥ `min_pps`, or bits/s ≥
//! `factor` × baseline **and** ≥ `min_bps`. Defaults: factor 3, EWMA α = 0.05 (about 20
//! intervals of memory), 10 warm-up intervals, at least 1,000 packets/s or 10 Mbit/s — so a quiet
//! LAN going from 3 to 9 packets/s stays silent. The classic "rate > 2× the running average" is
//! `factor = 2`, `baseline = "mean"`. A baseline below `min_pps / factor` (or `min_bps /
//! factor`) is taken as that floor: a quiet link has no meaningful normal to be thousands of
//! times above. Severity follows [`crate::policy`] for notices: `low`, `medium` only for an
//! unexplained jump of ≥ 4× over the threshold and ≥ 100 Mbit/s (or 20,000 packets/s); one host's
//! TCP transfer carrying ≥ 80 % of the bytes (a download, an upload, a backup) stays `low`
//! whatever its size.
//!
//! # False positives
//!
//! Legitimate bursts: backups, OS updates, video calls starting, a file copy. Short intervals are
//! noisier than long ones; raise `factor` on bursty links. Traffic resuming after a long silence
//! (a gap in a capture, the morning after an empty night) meets a baseline that has decayed
//! towards zero and alerts until it has relearnt. After a restart the baseline is relearnt, so a
//! spike during warm-up is missed rather than reported.
//!
//! # Recommended action
//!
//! Look at the top talkers named in the alert. If the transfer is expected, ignore it (or
//! suppress `spike` for that source); if not, rate-limit or block the host and check it.

use super::{check, heavy_talkers, interval_secs};
use crate::policy::{self, Family, Impact};
use crate::present::{bits, endpoint, rate};
use crate::{AlertDraft, DetectError, Detector, kind};
use serde::{Deserialize, Serialize};
use serde_json::json;
use wirewatch_core::IntervalMetrics;

/// Bytes counted per bare SYN when leaving SYNs out of bits/s: the minimum Ethernet frame, so
/// the estimate never removes more than the SYNs really weighed.
const SYN_FRAME_BYTES: u64 = 60;
/// Top talkers named in a spike alert.
const TOP_TALKERS: usize = 3;

/// How the baseline is computed.
#[derive(Serialize, Deserialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Baseline {
    /// Exponentially weighted moving average (adapts to slow drifts).
    Ewma,
    /// Plain running mean of every learnt interval.
    Mean,
}

/// Spike detector settings.
#[derive(Serialize, Deserialize, Clone, Debug, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Run this detector.
    pub enabled: bool,
    /// Baseline method: `ewma` or `mean`.
    pub baseline: Baseline,
    /// Alert when a rate is at least this many times its baseline (> 1).
    pub factor: f64,
    /// EWMA weight of the newest interval (0 < α ≤ 1); ignored by `mean`.
    pub ewma_alpha: f64,
    /// Intervals that only learn before the first alert is possible.
    pub warmup_intervals: u32,
    /// Packets/s below which no packet-rate spike is reported.
    pub min_pps: f64,
    /// Bits/s below which no byte-rate spike is reported.
    pub min_bps: f64,
    /// After this many alerting intervals in a row, the current level becomes the baseline
    /// (0: never). 300 one-second intervals = 5 minutes.
    pub relearn_after_intervals: u32,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            enabled: true,
            baseline: Baseline::Ewma,
            factor: 3.0,
            ewma_alpha: 0.05,
            warmup_intervals: 10,
            min_pps: 1000.0,
            min_bps: 10e6,
            relearn_after_intervals: 300,
        }
    }
}

/// The spike detector.
#[derive(Debug)]
pub struct Spike {
    cfg: Config,
    pps: f64,
    bps: f64,
    /// Intervals learnt since the last (re)start.
    learnt: u64,
    /// Alerting intervals in a row.
    streak: u32,
}

impl Spike {
    /// A detector with validated settings.
    pub fn new(cfg: &Config) -> Result<Self, DetectError> {
        check(
            "spike",
            "factor",
            cfg.factor,
            cfg.factor > 1.0,
            "must be greater than 1",
        )?;
        check(
            "spike",
            "ewma_alpha",
            cfg.ewma_alpha,
            cfg.ewma_alpha > 0.0 && cfg.ewma_alpha <= 1.0,
            "must be in (0, 1]",
        )?;
        check(
            "spike",
            "min_pps",
            cfg.min_pps,
            cfg.min_pps >= 0.0,
            "must be ≥ 0",
        )?;
        check(
            "spike",
            "min_bps",
            cfg.min_bps,
            cfg.min_bps >= 0.0,
            "must be ≥ 0",
        )?;
        Ok(Spike {
            cfg: cfg.clone(),
            pps: 0.0,
            bps: 0.0,
            learnt: 0,
            streak: 0,
        })
    }

    /// The current baseline (packets/s, bits/s).
    pub fn baseline(&self) -> (f64, f64) {
        (self.pps, self.bps)
    }

    fn learn(&mut self, pps: f64, bps: f64) {
        let w = match self.cfg.baseline {
            _ if self.learnt == 0 => 1.0,
            Baseline::Ewma => self.cfg.ewma_alpha,
            Baseline::Mean => 1.0 / (self.learnt as f64 + 1.0),
        };
        self.pps += w * (pps - self.pps);
        self.bps += w * (bps - self.bps);
        self.learnt += 1;
    }
}

impl Detector for Spike {
    fn name(&self) -> &'static str {
        "spike"
    }

    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        let secs = interval_secs(m);
        let syn = m.tcp_flags.syn;
        let pps = m.packets.saturating_sub(syn) as f64 / secs;
        let bps = m.bytes.saturating_sub(syn.saturating_mul(SYN_FRAME_BYTES)) as f64 * 8.0 / secs;
        if self.learnt < u64::from(self.cfg.warmup_intervals) {
            self.learn(pps, bps);
            return;
        }
        let f = self.cfg.factor;
        let pps_hit = pps >= self.cfg.min_pps && pps >= f * self.pps;
        let bps_hit = bps >= self.cfg.min_bps && bps >= f * self.bps;
        if !pps_hit && !bps_hit {
            self.streak = 0;
            self.learn(pps, bps);
            return;
        }
        // Before a baseline is worth the name (a quiet link averaging next to nothing), rates
        // are compared with the floor below which no spike is reported, not with ~0: a
        // download on an idle link is not "28,000× the baseline".
        let (floor_pps, floor_bps) = (self.cfg.min_pps / f, self.cfg.min_bps / f);
        let ratio_pps = pps / self.pps.max(floor_pps);
        let ratio_bps = bps / self.bps.max(floor_bps);
        let ratio = match (pps_hit, bps_hit) {
            (true, true) => ratio_pps.max(ratio_bps),
            (true, false) => ratio_pps,
            _ => ratio_bps,
        };
        let over = ratio / f;
        let ordinary = one_transfer(m);
        let src = m.top_sources_by_bytes.first();
        let dst = m.top_destinations_by_bytes.first();
        let talker = match (src, dst) {
            (Some(s), Some(d)) => format!(
                "; top talkers {} sent {} and {} received {}",
                s.ip,
                bits(s.bytes as f64 * 8.0 / secs),
                d.ip,
                bits(d.bytes as f64 * 8.0 / secs)
            ),
            _ => String::new(),
        };
        let against = |base: f64, floor: f64, text: &dyn Fn(f64) -> String| {
            if base >= floor {
                format!("the baseline of {}", text(base))
            } else {
                format!("the floor of {} on a quiet link", text(floor))
            }
        };
        let message = format!(
            "traffic spike: {} packets/s ({:.1}× {}) and {} ({:.1}× {}){talker}",
            rate(pps),
            ratio_pps,
            against(self.pps, floor_pps, &|x| format!("{}/s", rate(x))),
            bits(bps),
            ratio_bps,
            against(self.bps, floor_bps, &|x| bits(x)),
        );
        let who = match (src, dst) {
            (Some(s), Some(d)) => format!("{} and {}", s.ip, endpoint(d.ip, None)),
            _ => "the top talkers".into(),
        };
        let recommendation = format!(
            "check what {who} are doing (backup, update, large download?); if it is not expected, rate-limit or block the host; if it is the new normal it becomes the baseline after {} intervals",
            self.cfg.relearn_after_intervals
        );
        let talkers = |v: &[wirewatch_core::Talker]| {
            v.iter()
                .take(TOP_TALKERS)
                .map(|t| json!({"ip": t.ip, "packets": t.packets, "bytes": t.bytes}))
                .collect::<Vec<_>>()
        };
        out.push(AlertDraft {
            kind: kind::SPIKE,
            severity: policy::severity(&Impact {
                pps,
                bps,
                ordinary,
                ..Impact::new(Family::Notice, over)
            }),
            confidence: policy::confidence(over, if ordinary { 0.0 } else { 0.5 }),
            ts: m.end_ts(),
            sources: heavy_talkers(&m.top_sources_by_bytes, m.bytes, TOP_TALKERS),
            targets: heavy_talkers(&m.top_destinations_by_bytes, m.bytes, TOP_TALKERS),
            ports: Vec::new(),
            message,
            recommendation,
            evidence: json!({
                "pps": pps,
                "bps": bps,
                "baseline_pps": self.pps,
                "baseline_bps": self.bps,
                "ratio_pps": ratio_pps,
                "ratio_bps": ratio_bps,
                "factor": f,
                "baseline": self.cfg.baseline,
                "bare_syns_excluded": syn,
                "one_host_tcp_transfer": ordinary,
                "top_sources": talkers(&m.top_sources_by_bytes),
                "top_destinations": talkers(&m.top_destinations_by_bytes),
            }),
            incident_key: kind::SPIKE.to_string(),
            magnitude: ratio,
        });
        self.streak += 1;
        if self.cfg.relearn_after_intervals > 0 && self.streak >= self.cfg.relearn_after_intervals {
            // A spike this long is the network's new level: start learning from it.
            self.learnt = 0;
            self.streak = 0;
            self.learn(pps, bps);
        }
    }
}

/// Share of an interval's bytes one host must send or receive, with TCP carrying as large a
/// share of its packets, for a spike to be one host's transfer: TCP moves data only as fast
/// as the receiver acknowledges it, so such a spike is a download, upload or backup, not an
/// attack (floods have their own detectors, which explain the spikes they cause).
const TRANSFER_SHARE: f64 = 0.8;

/// Whether one host's TCP transfer explains the interval's traffic.
fn one_transfer(m: &IntervalMetrics) -> bool {
    let total = m.bytes.max(1) as f64;
    let top = |v: &[wirewatch_core::Talker]| v.first().map_or(0.0, |t| t.bytes as f64 / total);
    let one_host = top(&m.top_sources_by_bytes).max(top(&m.top_destinations_by_bytes));
    let tcp = m.protocols.tcp as f64 / m.packets.max(1) as f64;
    one_host >= TRANSFER_SHARE && tcp >= TRANSFER_SHARE
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testutil::interval;
    use wirewatch_core::Severity;

    fn run(d: &mut Spike, pps: u64, bytes_per_pkt: u64, n: u64, start: u64) -> Vec<AlertDraft> {
        let mut out = Vec::new();
        for i in 0..n {
            let mut m = interval(start + i, pps, pps * bytes_per_pkt);
            m.top_sources_by_bytes = vec![wirewatch_core::Talker {
                ip: "198.51.100.80".parse().unwrap(),
                packets: pps / 2,
                bytes: pps * bytes_per_pkt / 2,
            }];
            m.top_destinations_by_bytes = vec![wirewatch_core::Talker {
                ip: "10.1.0.30".parse().unwrap(),
                packets: pps / 2,
                bytes: pps * bytes_per_pkt / 2,
            }];
            d.on_interval(&m, &mut out);
        }
        out
    }

    /// One interval of `mbit` Mbit/s in 1,500-byte TCP packets, `host_share` of the bytes
    /// sent by one server to one client.
    fn transfer(i: u64, mbit: f64, host_share: f64) -> IntervalMetrics {
        let bytes = (mbit * 1e6 / 8.0) as u64;
        let packets = (bytes / 1500).max(1);
        let mut m = interval(i, packets, bytes);
        m.protocols.tcp = packets;
        let top = (bytes as f64 * host_share) as u64;
        m.top_sources_by_bytes = vec![wirewatch_core::Talker {
            ip: "10.1.0.2".parse().unwrap(),
            packets: packets / 2,
            bytes: top,
        }];
        m.top_destinations_by_bytes = vec![wirewatch_core::Talker {
            ip: "10.1.0.3".parse().unwrap(),
            packets: packets / 2,
            bytes: top,
        }];
        m
    }

    #[test]
    fn a_download_on_a_quiet_link_is_a_low_notice_measured_against_the_floor() {
        let mut d = Spike::new(&Config::default()).unwrap();
        let mut out = Vec::new();
        // A quiet link: 8 kbit/s.
        for i in 0..30 {
            d.on_interval(&interval(i, 2, 1000), &mut out);
        }
        assert!(out.is_empty());
        d.on_interval(&transfer(30, 236.0, 0.97), &mut out);
        assert_eq!(out.len(), 1);
        let a = &out[0];
        assert_eq!(a.severity, Severity::Low, "{}", a.message);
        assert_eq!(a.evidence["one_host_tcp_transfer"], true);
        // Compared with the 3.3 Mbit/s floor (min_bps / factor), not with 8 kbit/s.
        let r = a.evidence["ratio_bps"].as_f64().unwrap();
        assert!((70.0..72.0).contains(&r), "{r}");
        assert!(
            a.message
                .contains("(70.8× the floor of 3.3 Mbit/s on a quiet link)"),
            "{}",
            a.message
        );
        // The same volume spread over many hosts, unexplained: medium, never more.
        out.clear();
        d.on_interval(&transfer(31, 236.0, 0.2), &mut out);
        assert_eq!(out[0].severity, Severity::Medium);
        out.clear();
        d.on_interval(&transfer(32, 50_000.0, 0.2), &mut out);
        assert_eq!(out[0].severity, Severity::Medium);
    }

    #[test]
    fn fires_on_a_spike_and_does_not_learn_from_it() {
        let mut d = Spike::new(&Config::default()).unwrap();
        assert!(run(&mut d, 1500, 600, 30, 0).is_empty());
        let (base_pps, _) = d.baseline();
        assert!((base_pps - 1500.0).abs() < 1.0);
        let out = run(&mut d, 11_000, 700, 20, 30);
        assert_eq!(out.len(), 20, "every spike interval alerts");
        let a = &out[0];
        assert_eq!(a.kind, "spike");
        assert_eq!(a.incident_key, "spike");
        assert_eq!(
            a.sources,
            vec!["198.51.100.80".parse::<std::net::IpAddr>().unwrap()]
        );
        assert_eq!(
            a.targets,
            vec!["10.1.0.30".parse::<std::net::IpAddr>().unwrap()]
        );
        assert!(
            a.message
                .starts_with("traffic spike: 11,000 packets/s (7.3× the baseline of 1,500/s)"),
            "{}",
            a.message
        );
        // 2.4× over the trigger and 62 Mbit/s: a notice, low.
        assert_eq!(a.severity, Severity::Low);
        // The baseline stayed where it was during the spike.
        assert!((d.baseline().0 - 1500.0).abs() < 1.0);
        assert!(out[19].magnitude > 7.0);
        // And it ends when the traffic does.
        assert!(run(&mut d, 1500, 600, 5, 50).is_empty());
    }

    #[test]
    fn silent_below_the_factor_and_on_a_quiet_lan() {
        let mut d = Spike::new(&Config::default()).unwrap();
        assert!(run(&mut d, 1500, 600, 30, 0).is_empty());
        assert!(run(&mut d, 4000, 600, 5, 30).is_empty(), "2.7× < 3×");
        let mut quiet = Spike::new(&Config::default()).unwrap();
        assert!(run(&mut quiet, 3, 100, 30, 0).is_empty());
        assert!(
            run(&mut quiet, 9, 100, 5, 30).is_empty(),
            "3 → 9 pps is below min_pps"
        );
    }

    #[test]
    fn warm_up_only_learns() {
        let mut d = Spike::new(&Config::default()).unwrap();
        assert!(run(&mut d, 100, 100, 1, 0).is_empty());
        assert!(
            run(&mut d, 50_000, 100, 5, 1).is_empty(),
            "still warming up"
        );
    }

    #[test]
    fn classic_two_times_the_running_mean() {
        let cfg = Config {
            baseline: Baseline::Mean,
            factor: 2.0,
            min_pps: 0.0,
            min_bps: 0.0,
            warmup_intervals: 5,
            ..Config::default()
        };
        let mut d = Spike::new(&cfg).unwrap();
        assert!(run(&mut d, 100, 100, 5, 0).is_empty());
        assert!(run(&mut d, 150, 100, 5, 5).is_empty(), "1.5× the mean");
        // 5 intervals at 150 moved the mean to 125; 300 is 2.4× that, and the mean stays.
        assert_eq!(run(&mut d, 300, 100, 5, 10).len(), 5);
        assert!((d.baseline().0 - 125.0).abs() < 1e-9);
    }

    #[test]
    fn bare_syns_are_not_a_spike() {
        let mut d = Spike::new(&Config::default()).unwrap();
        assert!(run(&mut d, 1500, 600, 30, 0).is_empty());
        let mut out = Vec::new();
        let mut m = interval(30, 1500 + 4000, 1500 * 600 + 4000 * 60);
        m.tcp_flags.syn = 4000;
        d.on_interval(&m, &mut out);
        assert!(out.is_empty());
    }

    #[test]
    fn relearns_a_lasting_change() {
        let cfg = Config {
            relearn_after_intervals: 10,
            ..Config::default()
        };
        let mut d = Spike::new(&cfg).unwrap();
        run(&mut d, 1500, 600, 30, 0);
        let out = run(&mut d, 9000, 600, 30, 30);
        assert_eq!(out.len(), 10);
    }

    #[test]
    fn config_is_checked() {
        let bad = Config {
            factor: 1.0,
            ..Config::default()
        };
        let e = Spike::new(&bad).unwrap_err();
        assert_eq!(
            e.to_string(),
            "detect.spike.factor = 1: must be greater than 1"
        );
        let c: Config = serde_json::from_str(r#"{"baseline": "mean", "factor": 2}"#).unwrap();
        assert_eq!(c.baseline, Baseline::Mean);
        assert!(serde_json::from_str::<Config>(r#"{"fctor": 2}"#).is_err());
    }
}
