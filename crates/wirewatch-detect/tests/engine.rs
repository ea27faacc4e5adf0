//! The detection engine: incidents, quiet time, suppression, rate limits, the cap on open
//! incidents, ids, and bounded state under a spoofed flood.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::net::{IpAddr, Ipv4Addr};
use wirewatch_core::proto::tcp_flags::SYN;
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{IntervalMetrics, ProtoClass, Severity, Timestamp};
use wirewatch_decode::{Network, Packet, TcpInfo, Transport};
use wirewatch_detect::{
    AlertDraft, DetectConfig, DetectionEngine, Detector, IncidentConfig, IncidentStatus,
    SuppressRule,
};

/// 2024-01-01T00:00:00Z, a whole minute.
const T0: u64 = 1_704_067_200;

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

/// The 1-second interval number `i` after T0.
fn interval(i: u64, packets: u64, syn: u64) -> IntervalMetrics {
    let mut m = IntervalMetrics {
        start_ts: Timestamp((T0 + i) * NANOS_PER_SEC),
        duration_ns: NANOS_PER_SEC,
        packets,
        bytes: packets * 60,
        pps: packets as f64,
        bps: packets as f64 * 480.0,
        ..IntervalMetrics::default()
    };
    m.tcp_flags.syn = syn;
    m.protocols.tcp = packets;
    m
}

fn syn(src: IpAddr, dst: IpAddr, dport: u16) -> Packet {
    Packet {
        class: ProtoClass::Tcp,
        network: Network::Ipv4,
        src,
        dst,
        has_src: true,
        has_dst: true,
        ip_proto: 6,
        ttl: 50,
        ip_len: 40,
        transport: Transport::Tcp(TcpInfo {
            src_port: 40_000,
            dst_port: dport,
            seq: 1,
            ack: 0,
            flags: SYN,
            window: 64,
            header_len: 20,
            options: Default::default(),
        }),
        ..Packet::default()
    }
}

fn spoofed(n: u32) -> IpAddr {
    IpAddr::V4(Ipv4Addr::from(0x6440_0000u32.wrapping_add(n)))
}

/// What a scripted detector emits for an interval.
type Plan = Box<dyn FnMut(&IntervalMetrics) -> Vec<AlertDraft> + Send>;

/// A detector that emits what a closure says, for driving the engine precisely.
struct Script {
    name: &'static str,
    plan: Plan,
}

impl Detector for Script {
    fn name(&self) -> &'static str {
        self.name
    }
    fn on_interval(&mut self, m: &IntervalMetrics, out: &mut Vec<AlertDraft>) {
        out.extend((self.plan)(m));
    }
}

fn script(
    name: &'static str,
    plan: impl FnMut(&IntervalMetrics) -> Vec<AlertDraft> + Send + 'static,
) -> Box<dyn Detector> {
    Box::new(Script {
        name,
        plan: Box::new(plan),
    })
}

fn draft(
    kind: &'static str,
    key: &str,
    src: &str,
    dst: &str,
    port: u16,
    m: &IntervalMetrics,
) -> AlertDraft {
    AlertDraft {
        kind,
        severity: Severity::Low,
        confidence: 0.6,
        ts: m.end_ts(),
        sources: vec![ip(src)],
        targets: vec![ip(dst)],
        ports: vec![port],
        message: format!("{key} at {}", m.start_ts.nanos() / NANOS_PER_SEC - T0),
        recommendation: "look".into(),
        evidence: serde_json::json!({"i": m.start_ts.nanos() / NANOS_PER_SEC - T0}),
        incident_key: key.into(),
        magnitude: 1.0,
    }
}

#[test]
fn a_five_minute_syn_flood_is_one_incident_that_ends_after_the_quiet_time() {
    // The rule detectors only: after five minutes the anomaly model would have learned this
    // very flood as its baseline, which is a different test.
    let mut config = DetectConfig::default();
    config.ml_anomaly.enabled = false;
    let mut e = DetectionEngine::new(&config).unwrap();
    assert!(e.wants_packets());
    let target = ip("10.1.0.20");
    let mut id = None;
    let mut last = Timestamp(0);
    for i in 0..300u64 {
        for n in 0..300u32 {
            let ts = Timestamp((T0 + i) * NANOS_PER_SEC + u64::from(n) * 3_000_000);
            e.on_packet(&syn(spoofed(i as u32 * 300 + n), target, 80), 60, ts);
        }
        let ups = e.on_interval_events(&interval(i, 300, 300));
        assert_eq!(ups.len(), 1, "interval {i}: {ups:?}");
        let a = &ups[0].alert;
        assert_eq!(a.kind, "syn_flood");
        let expected = if i == 0 {
            IncidentStatus::Opened
        } else {
            IncidentStatus::Updated
        };
        assert_eq!(ups[0].status, expected);
        assert_eq!(*id.get_or_insert(a.id), a.id, "same incident");
        assert_eq!(a.start_ts, Timestamp((T0 + 1) * NANOS_PER_SEC));
        assert!(a.last_ts > last, "last_ts advances");
        last = a.last_ts;
        assert_eq!(a.updates, i);
    }
    assert_eq!(last, Timestamp((T0 + 300) * NANOS_PER_SEC));
    // Quiet: ends once 60 s of packet time passed without a draft.
    for i in 300..359u64 {
        assert!(
            e.on_interval(&interval(i, 10, 0)).is_empty(),
            "interval {i}"
        );
    }
    let ups = e.on_interval_events(&interval(359, 10, 0));
    assert_eq!(ups.len(), 1);
    assert_eq!(ups[0].status, IncidentStatus::Ended);
    assert_eq!(ups[0].alert.id, 1);
    assert_eq!(ups[0].alert.updates, 299);
    assert_eq!(ups[0].alert.targets, vec![target]);
    assert_eq!(ups[0].alert.ports, vec![80]);
    assert!(
        ups[0].alert.sources.is_empty(),
        "90,000 spoofed sources of one SYN each: none took a notable part, none is named"
    );
    let st = e.stats();
    assert_eq!((st.drafts, st.incidents_opened, st.updates), (300, 1, 299));
    assert_eq!((st.incidents_ended, st.open_incidents), (1, 0));
    assert!(e.finish().is_empty());
}

#[test]
fn updates_keep_the_peak_and_the_latest_evidence() {
    let mut k = 0;
    let det = script("t", move |m| {
        k += 1;
        let mut d = draft("dos", "dos|x", "192.0.2.1", "10.0.0.1", 80, m);
        d.magnitude = [1.0, 5.0, 2.0][k - 1];
        d.severity = [Severity::Low, Severity::High, Severity::Medium][k - 1];
        d.confidence = [0.6, 0.9, 0.7][k - 1];
        d.sources = vec![ip(["192.0.2.1", "192.0.2.2", "192.0.2.3"][k - 1])];
        d.ports = vec![[443, 80, 22][k - 1]];
        vec![d]
    });
    let mut e = DetectionEngine::with_detectors(&DetectConfig::default(), vec![det]).unwrap();
    for i in 0..3 {
        e.on_interval(&interval(i, 0, 0));
    }
    let a = e.finish().pop().unwrap();
    assert_eq!(a.severity, Severity::High, "max severity");
    assert_eq!(a.confidence, 0.9);
    assert_eq!(a.message, "dos|x at 1", "message of the peak draft");
    assert_eq!(a.evidence["i"], 1);
    assert_eq!(a.evidence["peak_magnitude"], 5.0);
    assert_eq!(a.evidence["latest"]["i"], 2);
    assert_eq!(a.sources.len(), 3);
    assert_eq!(a.ports, vec![22, 80, 443]);
    assert_eq!(a.updates, 2);
}

fn engine_with_rules(rules: Vec<SuppressRule>) -> DetectionEngine {
    let det = script("t", |m| {
        vec![
            draft("port_scan", "a", "203.0.113.66", "10.1.0.10", 22, m),
            draft("port_scan", "b", "10.9.9.9", "10.1.0.10", 22, m),
            draft("syn_flood", "c", "100.64.0.1", "10.1.0.20", 80, m),
            draft("brute_force", "d", "203.0.113.5", "10.1.0.22", 3389, m),
        ]
    });
    let cfg = DetectConfig {
        suppress: rules,
        ..DetectConfig::default()
    };
    DetectionEngine::with_detectors(&cfg, vec![det]).unwrap()
}

fn opened_keys(e: &mut DetectionEngine) -> Vec<String> {
    e.on_interval(&interval(0, 0, 0))
        .iter()
        .map(|a| a.message[..1].to_string())
        .collect()
}

#[test]
fn suppression_by_kind_source_destination_and_port() {
    let rule =
        |kind: Option<&str>, source: Option<&str>, destination: Option<&str>, port| SuppressRule {
            kind: kind.map(Into::into),
            source: source.map(Into::into),
            destination: destination.map(Into::into),
            port,
        };
    let cases = [
        (rule(Some("port_scan"), None, None, None), vec!["c", "d"]),
        (
            rule(None, Some("10.0.0.0/8"), None, None),
            vec!["a", "c", "d"],
        ),
        (
            rule(Some("port_scan"), Some("203.0.113.0/24"), None, None),
            vec!["b", "c", "d"],
        ),
        (
            rule(None, None, Some("10.1.0.20"), None),
            vec!["a", "b", "d"],
        ),
        (rule(None, None, None, Some(3389)), vec!["a", "b", "c"]),
        (
            rule(None, Some("2001:db8::/32"), None, None),
            vec!["a", "b", "c", "d"],
        ),
    ];
    for (r, kept) in cases {
        let mut e = engine_with_rules(vec![r.clone()]);
        assert_eq!(opened_keys(&mut e), kept, "{r:?}");
        assert_eq!(e.stats().suppressed, 4 - kept.len() as u64);
    }
    // A source rule needs every source inside: one trusted host among a flood's sources
    // does not hide the flood.
    let det = script("t", |m| {
        let mut d = draft("ddos", "x", "10.0.0.5", "10.1.0.20", 80, m);
        d.sources.push(ip("100.64.0.9"));
        vec![d]
    });
    let cfg = DetectConfig {
        suppress: vec![rule(None, Some("10.0.0.5"), None, None)],
        ..DetectConfig::default()
    };
    let mut e = DetectionEngine::with_detectors(&cfg, vec![det]).unwrap();
    assert_eq!(e.on_interval(&interval(0, 0, 0)).len(), 1);
}

#[test]
fn bad_rules_are_refused_with_their_number() {
    let bad = |r: SuppressRule| {
        let cfg = DetectConfig {
            suppress: vec![
                SuppressRule {
                    kind: Some("spike".into()),
                    ..SuppressRule::default()
                },
                r,
            ],
            ..DetectConfig::default()
        };
        DetectionEngine::new(&cfg).err().unwrap().to_string()
    };
    assert_eq!(
        bad(SuppressRule {
            destination: Some("10.1.0.0/99".into()),
            ..SuppressRule::default()
        }),
        "detect.suppress rule #2: destination: \"10.1.0.0/99\": prefix length must be 0–32"
    );
    assert_eq!(
        bad(SuppressRule {
            source: Some("intranet".into()),
            ..SuppressRule::default()
        }),
        "detect.suppress rule #2: source: \"intranet\" is not an IP address or CIDR prefix (e.g. 10.0.0.0/8)"
    );
    assert!(bad(SuppressRule::default()).contains("rule #2: a rule needs at least one of"));
    let cfg = DetectConfig {
        incident: IncidentConfig {
            quiet_secs: 0,
            ..IncidentConfig::default()
        },
        ..DetectConfig::default()
    };
    assert_eq!(
        DetectionEngine::new(&cfg).err().unwrap().to_string(),
        "detect.incident.quiet_secs = 0: must be at least 1 second"
    );
}

#[test]
fn rate_limits_apply_to_new_incidents_only() {
    // 50 new scanners a second, each its own incident.
    let det = script("many", |m| {
        (0..50)
            .map(|n| {
                let src = format!("198.51.100.{n}");
                draft("port_scan", &format!("k{n}"), &src, "10.1.0.10", 22, m)
            })
            .collect()
    });
    let cfg = DetectConfig {
        incident: IncidentConfig {
            max_new_per_minute_per_detector: 30,
            ..IncidentConfig::default()
        },
        ..DetectConfig::default()
    };
    let mut e = DetectionEngine::with_detectors(&cfg, vec![det]).unwrap();
    let first = e.on_interval_events(&interval(0, 0, 0));
    assert_eq!(first.len(), 30);
    assert!(first.iter().all(|u| u.status == IncidentStatus::Opened));
    let second = e.on_interval_events(&interval(1, 0, 0));
    assert_eq!(
        second.len(),
        30,
        "the open ones update, the others stay limited"
    );
    assert!(second.iter().all(|u| u.status == IncidentStatus::Updated));
    assert_eq!(e.stats().rate_limited, 40);
    // The next minute of packet time lets the rest in.
    let next = e.on_interval_events(&interval(60, 0, 0));
    assert_eq!(
        next.iter()
            .filter(|u| u.status == IncidentStatus::Opened)
            .count(),
        20
    );
    assert_eq!(e.stats().open_incidents, 50);

    // One source, 15 targets: at most 10 new incidents a minute for it.
    let det = script("one", |m| {
        (0..15)
            .map(|n| {
                draft(
                    "brute_force",
                    &format!("b{n}"),
                    "203.0.113.5",
                    &format!("10.1.0.{n}"),
                    22,
                    m,
                )
            })
            .collect()
    });
    let mut e = DetectionEngine::with_detectors(&DetectConfig::default(), vec![det]).unwrap();
    assert_eq!(e.on_interval(&interval(0, 0, 0)).len(), 10);
    assert_eq!(e.stats().rate_limited, 5);
}

#[test]
fn the_oldest_incident_makes_room_when_too_many_are_open() {
    let det = script("t", |m| {
        (0..5)
            .map(|n| {
                draft(
                    "dos",
                    &format!("d{n}"),
                    &format!("192.0.2.{n}"),
                    "10.0.0.1",
                    80,
                    m,
                )
            })
            .collect()
    });
    let cfg = DetectConfig {
        incident: IncidentConfig {
            max_open: 3,
            ..IncidentConfig::default()
        },
        ..DetectConfig::default()
    };
    let mut e = DetectionEngine::with_detectors(&cfg, vec![det]).unwrap();
    let ups = e.on_interval_events(&interval(0, 0, 0));
    let summary: Vec<(u64, IncidentStatus)> = ups.iter().map(|u| (u.alert.id, u.status)).collect();
    assert_eq!(
        summary,
        vec![
            (3, IncidentStatus::Opened),
            (4, IncidentStatus::Opened),
            (5, IncidentStatus::Opened),
            (1, IncidentStatus::Ended),
            (2, IncidentStatus::Ended),
        ]
    );
    let st = e.stats();
    assert_eq!(
        (st.open_incidents, st.incidents_evicted, st.incidents_ended),
        (3, 2, 2)
    );
    assert_eq!(e.open_alerts().len(), 3);
}

#[test]
fn ids_continue_from_set_next_id() {
    let det = script("t", |m| {
        // Not `spike`: the engine holds spike drafts back one interval.
        vec![draft("dos", "s", "192.0.2.1", "10.0.0.1", 0, m)]
    });
    let mut e = DetectionEngine::with_detectors(&DetectConfig::default(), vec![det]).unwrap();
    e.set_next_id(42);
    assert_eq!(e.on_interval(&interval(0, 0, 0))[0].id, 42);
    assert_eq!(e.on_interval(&interval(1, 0, 0))[0].id, 42);
    let ended = e.finish();
    assert_eq!(ended[0].id, 42);
    assert_eq!(
        e.on_interval(&interval(2, 0, 0))[0].id,
        43,
        "a new incident after the end"
    );
    e.set_next_id(0);
    e.finish();
    assert_eq!(e.on_interval(&interval(3, 0, 0))[0].id, 1);
}

#[test]
fn state_stays_bounded_under_a_million_spoofed_sources() {
    let mut e = DetectionEngine::new(&DetectConfig::default()).unwrap();
    let target = ip("10.1.0.20");
    let mut alerts = Vec::new();
    for i in 0..10u64 {
        for n in 0..100_000u32 {
            let ts = Timestamp((T0 + i) * NANOS_PER_SEC + u64::from(n) * 10_000);
            e.on_packet(&syn(spoofed(i as u32 * 100_000 + n), target, 80), 60, ts);
        }
        alerts.extend(e.on_interval(&interval(i, 100_000, 100_000)));
        for (name, n) in e.tracked() {
            let cap = match name {
                // 16,384 sources with one target each.
                "port_scan" => 2 * 16_384,
                // The anomaly baseline: one feature vector per interval, capped.
                "ml_anomaly" => wirewatch_ml::anomaly::MAX_BASELINE_INTERVALS,
                // Per-interval maps were cleared at the close.
                _ => 0,
            };
            assert!(n <= cap, "{name} holds {n} entries");
        }
    }
    let st = e.stats();
    assert!(
        st.state_evictions >= 1_000_000 - 16_384,
        "evictions counted: {}",
        st.state_evictions
    );
    let ended = e.finish();
    assert_eq!(ended.len(), 1, "{ended:?}");
    assert_eq!(ended[0].kind, "syn_flood");
    assert_eq!(ended[0].updates, 9);
    let sources = ended[0].evidence["distinct_sources"].as_u64().unwrap();
    assert!((85_000..115_000).contains(&sources), "{sources}");

    // A spoofed flood spraying 200,000 destinations: per-destination state is capped, the
    // network-wide rule still sees it. (One real source doing this is a scan: port_scan's.)
    let mut e = DetectionEngine::new(&DetectConfig::default()).unwrap();
    for n in 0..200_000u32 {
        let dst = IpAddr::V4(Ipv4Addr::from(0x0a00_0000 + n));
        e.on_packet(
            &syn(spoofed(n), dst, 80),
            60,
            Timestamp(T0 * NANOS_PER_SEC + u64::from(n) * 1000),
        );
    }
    let tracked: Vec<(&str, usize)> = e.tracked();
    assert!(tracked.contains(&("syn_flood", 10_000)), "{tracked:?}");
    let mut m = interval(0, 200_000, 200_000);
    m.distinct_dst_ips = 200_000;
    let alerts = e.on_interval(&m);
    let keys: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    assert!(keys.contains(&"syn_flood"), "{keys:?}");
    assert!(
        alerts
            .iter()
            .any(|a| a.targets.len() <= 5 && a.message.contains("across the network"))
    );
    assert!(e.stats().state_evictions >= 190_000);
}

#[test]
fn config_reads_from_toml_and_rejects_typos() {
    let cfg: DetectConfig = toml::from_str(
        r#"
        [incident]
        quiet_secs = 30

        [[suppress]]
        kind = "port_scan"
        source = "10.0.0.0/8"

        [spike]
        baseline = "mean"
        factor = 2.0

        [port_scan]
        vertical_ports = 50
        "#,
    )
    .unwrap();
    assert!(cfg.enabled);
    assert_eq!(cfg.incident.quiet_secs, 30);
    assert_eq!(cfg.incident.max_open, 1000, "defaults fill the rest");
    assert_eq!(cfg.suppress[0].source.as_deref(), Some("10.0.0.0/8"));
    assert_eq!(cfg.port_scan.vertical_ports, 50);
    assert_eq!(cfg.port_scan.horizontal_hosts, 25);
    assert!(DetectionEngine::new(&cfg).is_ok());
    let err = toml::from_str::<DetectConfig>("[syn_flood]\nmin_rate = 5\n").unwrap_err();
    assert!(
        err.to_string().contains("unknown field `min_rate`"),
        "{err}"
    );
    // Every default round-trips.
    let text = toml::to_string(&DetectConfig::default()).unwrap();
    assert_eq!(
        toml::from_str::<DetectConfig>(&text).unwrap(),
        DetectConfig::default()
    );
}

#[test]
fn finished_flows_reach_the_brute_force_detector() {
    use wirewatch_core::flow::DirectionStats;
    use wirewatch_core::{EndReason, FlowRecord, TcpState};
    let mut e = DetectionEngine::new(&DetectConfig::default()).unwrap();
    assert!(e.wants_flows());
    for n in 0..12u64 {
        let end = Timestamp((T0 + n * 2) * NANOS_PER_SEC);
        e.on_flow(&FlowRecord {
            ip_proto: 6,
            src_ip: ip("203.0.113.5"),
            src_port: 40_000 + n as u16,
            dst_ip: ip("10.1.0.22"),
            dst_port: 22,
            fwd: DirectionStats {
                packets: 12,
                bytes: 2000,
                payload_bytes: 1200,
                tcp_flags: 0x1b,
                payload_packets: 0,
                repeated_small_payloads: 0,
                last_payload_len: 0,
            },
            rev: DirectionStats {
                packets: 10,
                bytes: 2500,
                payload_bytes: 1800,
                tcp_flags: 0x1b,
                payload_packets: 0,
                repeated_small_payloads: 0,
                last_payload_len: 0,
            },
            first_ts: Timestamp(end.nanos() - 3 * NANOS_PER_SEC),
            last_ts: end,
            state: TcpState::Closed,
            end_reason: EndReason::Fin,
            app: Default::default(),
            details: None,
            reputation: None,
            features: None,
            tcp_health: None,
            vlan: None,
            tunnel: None,
        });
    }
    let alerts = e.on_interval(&interval(30, 100, 0));
    assert_eq!(alerts.len(), 1);
    assert_eq!(alerts[0].kind, "brute_force");
    assert_eq!(
        alerts[0].message,
        "203.0.113.5 made 12 login attempts (12 connections, short, exchanging data) with 10.1.0.22:22 (ssh) in the last 60 s (0 reset)"
    );
}

#[test]
fn disabled_detection_does_nothing() {
    let cfg = DetectConfig {
        enabled: false,
        ..DetectConfig::default()
    };
    let mut e = DetectionEngine::new(&cfg).unwrap();
    assert!(!e.wants_packets());
    assert!(e.detector_names().is_empty());
    assert!(e.on_interval(&interval(0, 1_000_000, 1_000_000)).is_empty());
    let all = DetectionEngine::new(&DetectConfig::default()).unwrap();
    assert_eq!(
        all.detector_names(),
        vec![
            "spike",
            "syn_flood",
            "port_scan",
            "dos",
            "reflection",
            "brute_force",
            "flood",
            "dns",
            "ml_anomaly",
            "ml_threat",
            "threat_intel"
        ]
    );
}

#[test]
fn a_flood_explains_its_own_spike() {
    // The spike detector fires in every interval; the flood detector in intervals 3 and 4.
    let spike = script("spike", |m| {
        vec![draft("spike", "spike", "192.0.2.9", "10.0.0.1", 0, m)]
    });
    let mut k = 0;
    let flood = script("flood", move |m| {
        k += 1;
        if (4..=5).contains(&k) {
            vec![draft(
                "icmp_flood",
                "icmp_flood|10.0.0.1",
                "192.0.2.9",
                "10.0.0.1",
                0,
                m,
            )]
        } else {
            Vec::new()
        }
    });
    let mut e =
        DetectionEngine::with_detectors(&DetectConfig::default(), vec![spike, flood]).unwrap();
    // Spikes are held one interval: the first shows when interval 1 closes.
    assert!(e.on_interval(&interval(0, 0, 0)).is_empty());
    assert_eq!(e.on_interval(&interval(1, 0, 0))[0].kind, "spike");
    for i in 2..7 {
        e.on_interval(&interval(i, 0, 0));
    }
    let alerts = e.finish();
    let kinds: Vec<&str> = alerts.iter().map(|a| a.kind.as_str()).collect();
    assert_eq!(kinds, ["spike", "icmp_flood"]);
    // Spikes of intervals 2-5 (next to, or during, the flood) are the flood's; 0, 1 and 6 not.
    assert_eq!(e.stats().explained, 4);
    assert_eq!(alerts[0].updates, 2);
}
