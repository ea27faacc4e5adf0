//! End to end on synthetic traffic: the demo scenario and plain background traffic go through
//! decode → flow table → interval aggregator → detection engine, driven the way the pipeline
//! drives them (intervals close when a packet's time passes their end, idle flows expire at
//! each boundary, finished flows go to the engine).

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stderr)]

use std::collections::BTreeMap;
use std::net::IpAddr;
use wirewatch_capture::synth::{
    FLOOD_PORT, FLOOD_TARGET, Generator, GeneratorConfig, Phase, SCAN_OPEN_PORTS, SCAN_TARGET,
    SCANNER, Scenario, ScenarioConfig, TIMELINE,
};
use wirewatch_core::time::NANOS_PER_SEC;
use wirewatch_core::{Alert, LinkType, Timestamp};
use wirewatch_decode::decode;
use wirewatch_detect::{AlertUpdate, DetectConfig, DetectStats, DetectionEngine, IncidentStatus};
use wirewatch_flow::{FlowConfig, FlowTable};
use wirewatch_metrics::{IntervalAggregator, MetricsConfig};

/// The pipeline's stages, wired as `crates/wirewatch-engine/src/pipeline.rs` wires them.
struct Harness {
    flows: FlowTable,
    intervals: IntervalAggregator,
    engine: DetectionEngine,
    /// Every update the engine returned.
    updates: Vec<AlertUpdate>,
    packets: u64,
}

impl Harness {
    fn new(config: &DetectConfig) -> Self {
        Harness {
            flows: FlowTable::new(&FlowConfig::default()),
            intervals: IntervalAggregator::new(&MetricsConfig::default()),
            engine: DetectionEngine::new(config).unwrap(),
            updates: Vec::new(),
            packets: 0,
        }
    }

    fn frame(&mut self, ts: Timestamp, linktype: LinkType, data: &[u8], wire_len: u32) {
        let pkt = decode(linktype, data);
        if self.intervals.must_close_before(ts) {
            self.close_until(Some(ts));
        }
        let flow = self.flows.ingest(&pkt, wire_len, ts);
        self.intervals
            .record_packet(&pkt, wire_len, data.len() as u32, ts, flow);
        if self.engine.wants_packets() {
            self.engine
                .on_packet_in_flow(&pkt, wire_len, ts, flow.as_ref());
        }
        for record in self.flows.drain_finished() {
            self.engine.on_flow(&record);
        }
        self.packets += 1;
    }

    /// Closes every interval ending at or before `ts` (all of them, then the open one, when
    /// `ts` is `None`: the end of the capture).
    fn close_until(&mut self, ts: Option<Timestamp>) {
        while let Some(end) = self.intervals.current_end() {
            if ts.is_some_and(|ts| ts < end) {
                break;
            }
            self.flows.expire(end);
            for record in self.flows.drain_finished() {
                self.engine.on_flow(&record);
            }
            if let Some(m) = self.intervals.close(self.flows.stats(), ts) {
                self.updates.extend(self.engine.on_interval_events(&m));
            }
            self.flows.next_epoch();
            if ts.is_none() {
                break;
            }
        }
    }

    /// End of capture: every flow, the open interval, every incident.
    fn finish(&mut self) -> Vec<Alert> {
        self.flows.finish_all();
        for record in self.flows.drain_finished() {
            self.engine.on_flow(&record);
        }
        self.close_until(None);
        let ended = self.engine.finish();
        self.updates.extend(ended.iter().map(|a| AlertUpdate {
            status: IncidentStatus::Ended,
            alert: a.clone(),
        }));
        ended
    }

    /// The final state of every incident, by id.
    fn incidents(&self) -> BTreeMap<u64, Alert> {
        let mut m = BTreeMap::new();
        for u in &self.updates {
            m.insert(u.alert.id, u.alert.clone());
        }
        m
    }

    fn stats(&self) -> DetectStats {
        self.engine.stats()
    }
}

fn secs(ns: u64) -> f64 {
    ns as f64 / NANOS_PER_SEC as f64
}

#[test]
fn one_scenario_cycle_gives_exactly_the_three_attacks() {
    let cfg = ScenarioConfig {
        phase_secs: 20,
        ..ScenarioConfig::default()
    };
    let mut demo = Scenario::new(cfg);
    let start = demo.config().start;
    let phase_ns = cfg.phase_secs * NANOS_PER_SEC;
    let end = start.plus(phase_ns * TIMELINE.len() as u64);
    let mut h = Harness::new(&DetectConfig::default());
    let mut buf = Vec::with_capacity(2048);
    loop {
        let f = demo.next_frame(&mut buf);
        if f.ts >= end {
            break;
        }
        h.frame(f.ts, f.linktype, &buf, f.wire_len);
    }
    h.finish();

    let phase_start = |p: Phase| {
        let i = TIMELINE.iter().position(|q| *q == p).unwrap() as u64;
        start.plus(i * phase_ns)
    };
    // The phase an update belongs to: that of the interval that ended at its timestamp.
    let phase_of = |ts: Timestamp| demo.phase_at(Timestamp(ts.nanos() - 1));

    let incidents = h.incidents();
    let summary: Vec<String> = incidents
        .values()
        .map(|a| {
            format!(
                "#{} {} {:?} start +{:.1}s last +{:.1}s updates {} — {}",
                a.id,
                a.kind,
                a.severity,
                secs(a.start_ts.since(start)),
                secs(a.last_ts.since(start)),
                a.updates,
                a.message
            )
        })
        .collect();
    eprintln!("{} packets\n{}", h.packets, summary.join("\n"));
    assert_eq!(incidents.len(), 3, "{summary:#?}");

    // No draft at all during a Normal phase: every opening and update lies in its attack phase.
    for u in &h.updates {
        if u.status == IncidentStatus::Ended {
            continue;
        }
        let phase = phase_of(u.alert.last_ts);
        assert_ne!(phase, Phase::Normal, "{:?} during a Normal phase", u.alert);
        assert_eq!(phase.name(), u.alert.kind, "{:?}", u.alert);
    }

    let one = |kind: &str| {
        let v: Vec<&Alert> = incidents.values().filter(|a| a.kind == kind).collect();
        assert_eq!(v.len(), 1, "{kind}: {summary:#?}");
        v[0].clone()
    };

    let scan = one("port_scan");
    let scan_ttd = scan.start_ts.since(phase_start(Phase::PortScan));
    assert_eq!(scan.sources, vec![IpAddr::V4(SCANNER)]);
    assert_eq!(scan.targets, vec![IpAddr::V4(SCAN_TARGET)]);
    let mut open = SCAN_OPEN_PORTS.to_vec();
    open.sort_unstable();
    assert_eq!(scan.ports, open, "the open ports found");
    assert!(
        scan_ttd <= 2 * NANOS_PER_SEC,
        "port scan detected after {} s",
        secs(scan_ttd)
    );
    assert_eq!(scan.evidence["style"], "syn");
    // 1,024 ports at 100/s: about 11 one-second intervals of evidence.
    assert!((9..=12).contains(&scan.updates), "{}", scan.updates);

    let flood = one("syn_flood");
    let flood_ttd = flood.start_ts.since(phase_start(Phase::SynFlood));
    assert_eq!(flood.targets, vec![IpAddr::V4(FLOOD_TARGET)]);
    assert_eq!(flood.ports, vec![FLOOD_PORT]);
    assert!(
        flood_ttd <= 2 * NANOS_PER_SEC,
        "SYN flood detected after {} s",
        secs(flood_ttd)
    );
    assert!(flood.updates >= 18, "{}", flood.updates);
    let peak = flood.evidence["peak_magnitude"].as_f64().unwrap();
    assert!((3600.0..4600.0).contains(&peak), "{peak} SYNs/s");
    assert!(
        flood.message.starts_with("10.1.0.20:80 received "),
        "{}",
        flood.message
    );

    let spike = one("spike");
    let spike_ttd = spike.start_ts.since(phase_start(Phase::Spike));
    assert!(
        spike_ttd <= 2 * NANOS_PER_SEC,
        "spike detected after {} s",
        secs(spike_ttd)
    );
    assert!(spike.updates >= 15, "{}", spike.updates);

    eprintln!(
        "time to detect: port_scan {:.1} s, syn_flood {:.1} s, spike {:.1} s; stats {:?}",
        secs(scan_ttd),
        secs(flood_ttd),
        secs(spike_ttd),
        h.stats()
    );
    let st = h.stats();
    assert_eq!(st.incidents_opened, 3);
    assert_eq!(st.suppressed + st.rate_limited, 0);
    assert_eq!(st.open_incidents, 0, "finish() ended them all");
}

/// Plain background traffic of `pps` frames/s for `secs` seconds.
fn background(pps: f64, secs: u64, seed: u64) -> Harness {
    let packets = (pps * secs as f64) as u64;
    let mut g = Generator::new(GeneratorConfig {
        seed,
        packets,
        flows: packets / 50,
        packets_per_second: pps,
        ..GeneratorConfig::default()
    });
    let mut h = Harness::new(&DetectConfig::default());
    let mut buf = Vec::with_capacity(2048);
    while let Some(f) = g.next_frame(&mut buf) {
        h.frame(f.ts, f.linktype, &buf, f.wire_len);
    }
    h.finish();
    h
}

fn assert_silent(pps: f64, secs: u64, seed: u64) {
    let h = background(pps, secs, seed);
    let incidents = h.incidents();
    assert!(
        incidents.is_empty(),
        "{pps} pps: {:#?}",
        incidents.values().map(|a| &a.message).collect::<Vec<_>>()
    );
    let st = h.stats();
    assert_eq!(st.drafts, 0, "{pps} pps");
    assert_eq!(
        st.state_evictions, 0,
        "{pps} pps: no cap reached on normal traffic"
    );
    eprintln!("{pps} pps for {secs} s: {} packets, {st:?}", h.packets);
}

// Sizes are chosen for a debug build: the generator and the pipeline stages cost about 3–4 µs
// a frame unoptimised, so these runs take a few seconds in all.

#[test]
fn two_minutes_of_quiet_office_traffic_raise_nothing() {
    assert_silent(1500.0, 120, 3);
}

#[test]
fn half_a_minute_at_twenty_thousand_frames_a_second_raises_nothing() {
    assert_silent(20_000.0, 30, 4);
}
