//! The run-time control API on real captures: filters and interfaces change without a restart
//! and without losing what was gathered; bad requests are refused and capture goes on.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

mod support;

use std::time::Duration;
use support::{TestNet, udp_sink};
use wirewatch::analyze::{AnalyzeReport, ReportCollector};
use wirewatch::live::{ControlError, Monitor, SourceSpec};
use wirewatch::pipeline::EngineConfig;
use wirewatch_capture::CaptureError;
use wirewatch_capture::live::LiveConfig;
use wirewatch_testkit::wait_until;

fn monitor() -> Monitor<ReportCollector> {
    Monitor::new(&EngineConfig::default(), ReportCollector::new(10_000)).unwrap()
}

fn live(interface: &str, filter: Option<&str>) -> SourceSpec {
    SourceSpec::Live(LiveConfig {
        interface: interface.into(),
        filter: filter.map(String::from),
        ..LiveConfig::default()
    })
}

/// Waits until the engine has processed `n` packets (bounded), and no more.
fn wait_packets(m: &Monitor<ReportCollector>, n: u64) {
    wait_until(
        Duration::from_secs(10),
        &format!("the engine to process {n} packets"),
        || m.packets() >= n,
    );
    assert_eq!(m.packets(), n, "engine saw a different number of packets");
}

fn finish(m: Monitor<ReportCollector>) -> AnalyzeReport {
    // Deliberate: everything sent was counted already (`wait_packets`); this is time for a
    // stray packet to show up, so the exact counts the tests assert prove there was none.
    std::thread::sleep(Duration::from_millis(200));
    let (engine, sink) = m.shutdown().unwrap();
    sink.into_report(&engine, Vec::new(), 10)
}

fn udp_packets_to(r: &AnalyzeReport, port: u16) -> u64 {
    r.flows
        .iter()
        .filter(|f| f.ip_proto == 17 && f.dst_port == port)
        .map(|f| f.packets())
        .sum()
}

#[test]
fn filter_changes_take_effect_from_the_next_packet() {
    let Some(net) = TestNet::create() else { return };
    let (_a, _b) = (udp_sink(&net.host_ip, 7000), udp_sink(&net.host_ip, 7001));
    let m = monitor();
    m.start(live(&net.host_if, Some("udp port 7000"))).unwrap();
    net.send_udp(7000, 30, 10);
    net.send_udp(7001, 30, 10);
    wait_packets(&m, 30);

    m.set_filter(Some("udp port 7001")).unwrap();
    assert_eq!(m.status().filter.as_deref(), Some("udp port 7001"));
    net.send_udp(7000, 40, 10);
    net.send_udp(7001, 40, 10);
    wait_packets(&m, 70);

    // A filter libpcap rejects is refused with its message; the old one stays in force.
    let err = m.set_filter(Some("udp port banana")).unwrap_err();
    assert!(
        matches!(err, ControlError::Capture(CaptureError::BadFilter { .. })),
        "{err}"
    );
    assert!(err.to_string().contains("udp port banana"), "{err}");
    assert_eq!(m.status().filter.as_deref(), Some("udp port 7001"));
    net.send_udp(7000, 5, 10);
    net.send_udp(7001, 5, 10);
    wait_packets(&m, 75);

    // No filter: everything.
    m.set_filter(None).unwrap();
    net.send_udp(7000, 3, 10);
    wait_packets(&m, 78);

    let r = finish(m);
    assert_eq!(udp_packets_to(&r, 7000), 33);
    assert_eq!(udp_packets_to(&r, 7001), 45);
}

#[test]
fn switching_interfaces_keeps_what_was_gathered() {
    let (Some(a), Some(b)) = (TestNet::create(), TestNet::create()) else {
        return;
    };
    let (_sa, _sb) = (udp_sink(&a.host_ip, 6000), udp_sink(&b.host_ip, 6000));
    let m = monitor();
    m.start(live(&a.host_if, Some("udp"))).unwrap();
    a.send_udp(6000, 20, 10);
    wait_packets(&m, 20);

    m.switch_interface(&b.host_if).unwrap();
    let status = m.status();
    assert_eq!(status.interface.as_deref(), Some(b.host_if.as_str()));
    assert_eq!(status.filter.as_deref(), Some("udp"), "the filter is kept");
    assert!(status.running);
    a.send_udp(6000, 10, 10); // no longer watched
    b.send_udp(6000, 30, 10);
    wait_packets(&m, 50);

    // An interface that cannot be opened is refused; capture stays where it was.
    let err = m.switch_interface("wwnosuch1").unwrap_err();
    assert!(
        matches!(
            err,
            ControlError::Capture(CaptureError::NoSuchInterface { .. })
        ),
        "{err}"
    );
    assert_eq!(m.status().interface.as_deref(), Some(b.host_if.as_str()));
    b.send_udp(6000, 5, 10);
    wait_packets(&m, 55);

    // Stop, traffic unseen, start again: the totals carry on.
    m.stop();
    assert!(!m.status().running);
    b.send_udp(6000, 7, 10);
    m.start(live(&b.host_if, Some("udp"))).unwrap();
    b.send_udp(6000, 4, 10);
    wait_packets(&m, 59);

    let r = finish(m);
    assert_eq!(r.packets, 59);
    let from = |ip: &str| -> u64 {
        r.flows
            .iter()
            .filter(|f| f.src_ip.to_string() == ip)
            .map(|f| f.packets())
            .sum()
    };
    assert_eq!(from(&a.ns_ip), 20);
    assert_eq!(from(&b.ns_ip), 39);
}

#[test]
fn filter_changes_need_a_live_capture() {
    let m = monitor();
    assert!(matches!(
        m.set_filter(Some("tcp")),
        Err(ControlError::NotLive)
    ));
}
