//! The feature vector of one closed interval: the one place where the anomaly model's inputs
//! are defined and documented.
//!
//! Every feature is a rate per second or a share, so a model trained on 1-second intervals
//! reads 5-second intervals the same way. Counts are heavy-tailed (a flood multiplies the packet
//! rate by a hundred), so rates go through `ln(1 + x)` ([`Transform::Log1p`]): the random split
//! points of an Isolation Forest then fall evenly across orders of magnitude instead of all
//! below the first outlier. Shares, the mean packet size and entropies are kept as they are.
//!
//! | # | name | unit | transform |
//! |---|---|---|---|
//! | 0 | `packets_per_sec` | packets/s | log1p |
//! | 1 | `bytes_per_sec` | bytes/s | log1p |
//! | 2 | `mean_packet_size` | bytes | none |
//! | 3 | `tcp_share` | share of packets | none |
//! | 4 | `udp_share` | share of packets | none |
//! | 5 | `icmp_share` | share of packets | none |
//! | 6 | `syn_share` | share of TCP segments | none |
//! | 7 | `syn_unanswered_share` | share of SYNs | none |
//! | 8 | `rst_share` | share of TCP segments | none |
//! | 9 | `src_addresses_per_sec` | addresses/s | log1p |
//! | 10 | `dst_addresses_per_sec` | addresses/s | log1p |
//! | 11 | `dst_ports_per_sec` | ports/s | log1p |
//! | 12 | `new_flows_per_sec` | flows/s | log1p |
//! | 13 | `src_entropy` | bits | none |
//! | 14 | `dst_entropy` | bits | none |
//!
//! [`FEATURES`] holds the same list with descriptions; a saved model records the names and is
//! refused when they differ from this list. Changing the list means retraining.
//!
//! This module only computes numbers from an [`IntervalMetrics`]; it keeps no state.

use wirewatch_core::IntervalMetrics;
use wirewatch_core::time::NANOS_PER_SEC;

/// Number of features per interval.
pub const FEATURE_COUNT: usize = 15;

/// The features of one interval, in the order of [`FEATURES`], transformed (model space).
pub type FeatureVector = [f64; FEATURE_COUNT];

/// Shortest interval length assumed when turning counts into rates (1 ms, the shortest interval
/// the metrics accept), so a zero duration cannot divide by zero.
const MIN_INTERVAL_NS: u64 = 1_000_000;

/// How a raw value is turned into the model's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transform {
    /// Used as it is.
    Identity,
    /// `ln(1 + x)`: for heavy-tailed, non-negative rates.
    Log1p,
}

impl Transform {
    /// The model-space value of raw value `x`.
    pub fn apply(self, x: f64) -> f64 {
        match self {
            Transform::Identity => x,
            Transform::Log1p => x.max(0.0).ln_1p(),
        }
    }

    /// The raw value of model-space value `v` (for explanations).
    pub fn invert(self, v: f64) -> f64 {
        match self {
            Transform::Identity => v,
            Transform::Log1p => v.exp_m1(),
        }
    }
}

/// What one feature is.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FeatureInfo {
    /// Stable snake_case name (stored in model files and alerts).
    pub name: &'static str,
    /// Words for explanations ("SYN share").
    pub label: &'static str,
    /// Unit of the raw value.
    pub unit: &'static str,
    /// Suffix printed after raw values in explanations ("/s", " B", " bits" or nothing).
    pub suffix: &'static str,
    /// What it measures and why it is here.
    pub description: &'static str,
    /// Raw value → model input.
    pub transform: Transform,
    /// The smallest spread (in model space) treated as meaningful when measuring how far a
    /// value is from the baseline: a feature that never moved during the baseline would
    /// otherwise make any change look infinitely unusual.
    pub min_scale: f64,
}

/// Smallest meaningful change of a log1p rate: 0.05 ≈ 5 %.
const RATE_MIN_SCALE: f64 = 0.05;
/// Smallest meaningful change of a share: one percentage point.
const SHARE_MIN_SCALE: f64 = 0.01;
/// Smallest meaningful change of an entropy: a tenth of a bit.
const ENTROPY_MIN_SCALE: f64 = 0.1;
/// Smallest meaningful change of the mean packet size, bytes.
const SIZE_MIN_SCALE: f64 = 10.0;

const fn rate(
    name: &'static str,
    label: &'static str,
    unit: &'static str,
    description: &'static str,
) -> FeatureInfo {
    FeatureInfo {
        name,
        label,
        unit,
        suffix: "/s",
        description,
        transform: Transform::Log1p,
        min_scale: RATE_MIN_SCALE,
    }
}

const fn share(
    name: &'static str,
    label: &'static str,
    unit: &'static str,
    description: &'static str,
) -> FeatureInfo {
    FeatureInfo {
        name,
        label,
        unit,
        suffix: "",
        description,
        transform: Transform::Identity,
        min_scale: SHARE_MIN_SCALE,
    }
}

const fn entropy(
    name: &'static str,
    label: &'static str,
    description: &'static str,
) -> FeatureInfo {
    FeatureInfo {
        name,
        label,
        unit: "bits",
        suffix: " bits",
        description,
        transform: Transform::Identity,
        min_scale: ENTROPY_MIN_SCALE,
    }
}

/// Every feature, in vector order. The one documented list.
pub const FEATURES: &[FeatureInfo; FEATURE_COUNT] = &[
    rate(
        "packets_per_sec",
        "packet rate",
        "packets/s",
        "Frames per second. Floods and spikes raise it; an outage drops it.",
    ),
    rate(
        "bytes_per_sec",
        "byte rate",
        "bytes/s",
        "Wire bytes per second. Bulk transfers raise it more than packet floods do.",
    ),
    FeatureInfo {
        name: "mean_packet_size",
        label: "mean packet size",
        unit: "bytes",
        suffix: " B",
        description: "Bytes per frame (0 without frames). Floods and scans of bare SYNs pull \
                      it towards 60; bulk downloads push it towards 1,500.",
        transform: Transform::Identity,
        min_scale: SIZE_MIN_SCALE,
    },
    share(
        "tcp_share",
        "TCP share",
        "share of packets",
        "TCP frames / all frames.",
    ),
    share(
        "udp_share",
        "UDP share",
        "share of packets",
        "UDP frames / all frames. UDP floods and DNS amplification raise it.",
    ),
    share(
        "icmp_share",
        "ICMP share",
        "share of packets",
        "ICMP and ICMPv6 frames / all frames. Ping floods and sweeps raise it.",
    ),
    share(
        "syn_share",
        "SYN share",
        "share of TCP segments",
        "Segments with SYN and without ACK / TCP segments (0 without TCP). Connection \
         attempts dominate during SYN floods and SYN scans.",
    ),
    share(
        "syn_unanswered_share",
        "unanswered SYN share",
        "share of SYNs",
        "(SYNs − SYN-ACKs) / SYNs, at least 0 (0 without SYNs). Spoofed floods and scans of \
         closed ports get no SYN-ACK.",
    ),
    share(
        "rst_share",
        "RST share",
        "share of TCP segments",
        "Segments with RST / TCP segments (0 without TCP). Closed ports answer scans with RST.",
    ),
    rate(
        "src_addresses_per_sec",
        "distinct source addresses",
        "addresses/s",
        "Distinct source IP addresses per second of interval. Spoofed floods raise it.",
    ),
    rate(
        "dst_addresses_per_sec",
        "distinct destination addresses",
        "addresses/s",
        "Distinct destination IP addresses per second of interval. Host sweeps and replies to \
         spoofed sources raise it.",
    ),
    rate(
        "dst_ports_per_sec",
        "distinct destination ports",
        "ports/s",
        "Distinct TCP/UDP destination ports that connection initiators used, per second of \
         interval. Port scans raise it.",
    ),
    rate(
        "new_flows_per_sec",
        "new flows",
        "flows/s",
        "Flows started per second. Scans, floods and sweeps open a flow per probe.",
    ),
    entropy(
        "src_entropy",
        "source address entropy",
        "Shannon entropy of packets over source addresses. Spoofed floods raise it; one \
         dominant sender lowers it.",
    ),
    entropy(
        "dst_entropy",
        "destination address entropy",
        "Shannon entropy of packets over destination addresses. Traffic converging on one \
         victim lowers it.",
    ),
];

/// The feature names in vector order (what a model file records).
pub fn feature_names() -> Vec<String> {
    FEATURES.iter().map(|f| f.name.to_string()).collect()
}

/// The position of the feature called `name`.
pub fn feature_index(name: &str) -> Option<usize> {
    FEATURES.iter().position(|f| f.name == name)
}

/// `part / whole`, 0 when `whole` is 0.
fn ratio(part: u64, whole: u64) -> f64 {
    if whole == 0 {
        0.0
    } else {
        part as f64 / whole as f64
    }
}

/// The raw (untransformed) feature values of one interval.
pub fn raw_features(m: &IntervalMetrics) -> FeatureVector {
    let secs = m.duration_ns.max(MIN_INTERVAL_NS) as f64 / NANOS_PER_SEC as f64;
    let per_sec = |n: u64| n as f64 / secs;
    let p = &m.protocols;
    let f = &m.tcp_flags;
    let finite = |x: f64| if x.is_finite() { x.max(0.0) } else { 0.0 };
    [
        per_sec(m.packets),
        per_sec(m.bytes),
        ratio(m.bytes, m.packets),
        ratio(p.tcp, m.packets),
        ratio(p.udp, m.packets),
        ratio(p.icmp + p.icmpv6, m.packets),
        ratio(f.syn, p.tcp).min(1.0),
        ratio(f.syn.saturating_sub(f.syn_ack), f.syn),
        ratio(f.rst, p.tcp).min(1.0),
        per_sec(m.distinct_src_ips),
        per_sec(m.distinct_dst_ips),
        per_sec(m.distinct_dst_ports),
        per_sec(m.flows_new),
        finite(m.src_entropy),
        finite(m.dst_entropy),
    ]
}

/// The model-space feature vector of one interval: [`raw_features`] with each feature's
/// [`Transform`] applied. Always finite.
pub fn interval_features(m: &IntervalMetrics) -> FeatureVector {
    to_model_space(&raw_features(m))
}

/// Applies each feature's transform to raw values.
pub fn to_model_space(raw: &FeatureVector) -> FeatureVector {
    let mut out = *raw;
    for (v, info) in out.iter_mut().zip(FEATURES.iter()) {
        *v = info.transform.apply(*v);
    }
    out
}

/// Undoes each feature's transform (model space → raw values).
pub fn to_raw(model: &FeatureVector) -> FeatureVector {
    let mut out = *model;
    for (v, info) in out.iter_mut().zip(FEATURES.iter()) {
        *v = info.transform.invert(*v);
    }
    out
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

    use super::*;
    use std::collections::HashSet;
    use wirewatch_core::{ProtocolCounts, TcpFlagCounts};

    fn sample(duration_ns: u64) -> IntervalMetrics {
        IntervalMetrics {
            duration_ns,
            packets: 1000,
            bytes: 600_000,
            protocols: ProtocolCounts {
                tcp: 800,
                udp: 150,
                icmp: 30,
                icmpv6: 20,
                ..Default::default()
            },
            tcp_flags: TcpFlagCounts {
                syn: 40,
                syn_ack: 30,
                rst: 8,
                fin: 20,
            },
            distinct_src_ips: 50,
            distinct_dst_ips: 70,
            distinct_dst_ports: 12,
            flows_new: 35,
            src_entropy: 4.5,
            dst_entropy: 5.25,
            ..IntervalMetrics::default()
        }
    }

    #[test]
    fn the_list_is_documented_and_unique() {
        assert!(FEATURES.len() >= 13);
        let names: HashSet<_> = FEATURES.iter().map(|f| f.name).collect();
        assert_eq!(names.len(), FEATURES.len());
        for f in FEATURES {
            assert!(!f.description.is_empty() && !f.label.is_empty() && !f.unit.is_empty());
            assert!(f.min_scale > 0.0, "{}", f.name);
        }
        assert_eq!(feature_index("syn_share"), Some(6));
        assert_eq!(feature_names().len(), FEATURE_COUNT);
    }

    #[test]
    fn raw_values() {
        let r = raw_features(&sample(NANOS_PER_SEC));
        let want = [
            1000.0, 600_000.0, 600.0, 0.8, 0.15, 0.05, 0.05, 0.25, 0.01, 50.0, 70.0, 12.0, 35.0,
            4.5, 5.25,
        ];
        for (i, (g, w)) in r.iter().zip(want).enumerate() {
            assert!((g - w).abs() < 1e-12, "{}: {g} vs {w}", FEATURES[i].name);
        }
    }

    #[test]
    fn interval_length_does_not_matter_for_steady_traffic() {
        let one = interval_features(&sample(NANOS_PER_SEC));
        // Five seconds with five times every count (entropies and shares unchanged).
        let mut five = sample(5 * NANOS_PER_SEC);
        for c in [
            &mut five.packets,
            &mut five.bytes,
            &mut five.protocols.tcp,
            &mut five.protocols.udp,
            &mut five.protocols.icmp,
            &mut five.protocols.icmpv6,
            &mut five.tcp_flags.syn,
            &mut five.tcp_flags.syn_ack,
            &mut five.tcp_flags.rst,
            &mut five.distinct_src_ips,
            &mut five.distinct_dst_ips,
            &mut five.distinct_dst_ports,
            &mut five.flows_new,
        ] {
            *c *= 5;
        }
        let five = interval_features(&five);
        for (i, (a, b)) in one.iter().zip(five.iter()).enumerate() {
            assert!((a - b).abs() < 1e-12, "{}", FEATURES[i].name);
        }
    }

    #[test]
    fn empty_and_degenerate_intervals_stay_finite() {
        for m in [
            IntervalMetrics::default(),
            IntervalMetrics {
                packets: 5,
                src_entropy: f64::NAN,
                dst_entropy: f64::INFINITY,
                tcp_flags: TcpFlagCounts {
                    syn: 3,
                    syn_ack: 9,
                    ..Default::default()
                },
                ..IntervalMetrics::default()
            },
        ] {
            let v = interval_features(&m);
            assert!(v.iter().all(|x| x.is_finite() && *x >= 0.0), "{v:?}");
        }
    }

    #[test]
    fn transforms_invert() {
        let raw = raw_features(&sample(NANOS_PER_SEC));
        let back = to_raw(&to_model_space(&raw));
        for (a, b) in raw.iter().zip(back.iter()) {
            assert!((a - b).abs() <= 1e-9 * a.abs().max(1.0));
        }
        assert_eq!(Transform::Log1p.apply(-3.0), 0.0);
    }
}
