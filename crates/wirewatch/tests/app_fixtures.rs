//! Application classification on the project's own captures (made with real tools in a
//! network namespace by `scripts/make-scenarios.sh`: dig against dnsmasq, curl against an HTTP
//! server, an OpenSSH session), so these checks run on every checkout.

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may fail loudly

use std::path::PathBuf;
use wirewatch::analyze::report::AnalyzeReport;
use wirewatch::analyze::{AnalyzeOptions, NoProgress, analyze_files};
use wirewatch_core::{AppProto, AppSource, NameSource};

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/scenarios")
        .join(name)
}

fn analyze(name: &str, options: &AnalyzeOptions) -> AnalyzeReport {
    let r = analyze_files(&[fixture(name)], options, &mut NoProgress);
    assert!(r.errors.is_empty(), "{:?}", r.errors);
    r
}

#[test]
fn real_dns_http_and_ssh_are_named_from_their_payloads() {
    let r = analyze("clean_background.pcap", &AnalyzeOptions::default());
    let dns: Vec<_> = r.flows.iter().filter(|f| f.dst_port == 53).collect();
    assert!(dns.len() >= 20, "{} DNS flows", dns.len());
    for f in &dns {
        assert_eq!(
            (f.app.proto, f.app.source),
            (AppProto::Dns, AppSource::Payload)
        );
        let d = f.details.as_ref().unwrap();
        assert_eq!(d.dns_queries.len(), 1, "{d:?}");
        assert!(
            d.dns_queries[0].ends_with(".scenario.test"),
            "{:?}",
            d.dns_queries
        );
        assert_eq!(d.dns_rcodes.get("NOERROR"), Some(&1));
        assert_eq!(d.server_name_source, Some(NameSource::DnsQuery));
    }
    let http: Vec<_> = r
        .flows
        .iter()
        .filter(|f| f.dst_port == 80 && f.fwd.payload_bytes > 0)
        .collect();
    assert!(http.len() >= 20, "{} HTTP flows", http.len());
    for f in &http {
        assert_eq!(
            (f.app.proto, f.app.source),
            (AppProto::Http, AppSource::Payload)
        );
        let h = f.details.as_ref().unwrap().http.as_ref().unwrap();
        assert_eq!(h.method.as_deref(), Some("GET"));
        assert!(
            h.user_agent.as_deref().unwrap().starts_with("curl/"),
            "{h:?}"
        );
        assert_eq!(h.status, Some(200));
    }
    let ssh: Vec<_> = r.flows.iter().filter(|f| f.dst_port == 22).collect();
    assert_eq!(ssh.len(), 1);
    let banners = ssh[0].details.as_ref().unwrap().ssh.as_ref().unwrap();
    assert!(banners.client.as_deref().unwrap().starts_with("OpenSSH_"));
    assert!(banners.server.as_deref().unwrap().starts_with("OpenSSH_"));

    // The victim's address was in the DNS answers: it is named in the talkers and the totals.
    let victim = r
        .top_sources
        .iter()
        .find(|t| t.ip.to_string() == "10.210.0.2")
        .unwrap();
    assert!(victim.name.as_deref().unwrap().ends_with(".scenario.test"));
    let a = &r.applications;
    assert_eq!(a.dns_rcodes.get("NOERROR").copied(), Some(dns.len() as u64));
    assert!(a.host_names_learned >= 1);
    let asked: u64 = a.top_dns_queries.iter().map(|q| q.flows).sum();
    assert!(asked >= a.top_dns_queries.len() as u64);
}

#[test]
fn alerts_name_the_hosts_they_involve() {
    let r = analyze("hping3_syn_flood.pcap", &AnalyzeOptions::default());
    let flood = r.alerts.iter().find(|a| a.kind == "syn_flood").unwrap();
    assert_eq!(flood.targets[0].to_string(), "10.210.0.2");
    let name = flood.evidence["host_names"]["10.210.0.2"].as_str().unwrap();
    assert!(name.ends_with(".scenario.test"), "{name}");
}

#[test]
fn every_flow_packet_is_counted_under_one_application() {
    let r = analyze("nmap_connect_scan.pcap", &AnalyzeOptions::default());
    let in_intervals: u64 = r
        .intervals
        .iter()
        .flat_map(|i| i.apps.iter())
        .map(|a| a.packets)
        .sum();
    let in_flows: u64 = r.flows.iter().map(|f| f.packets()).sum();
    assert_eq!(in_intervals, in_flows);
    let in_totals: u64 = r.applications.apps.iter().map(|a| a.packets).sum();
    assert_eq!(in_totals, in_flows);
    let flows: u64 = r.applications.apps.iter().map(|a| a.flows).sum();
    assert_eq!(flows, r.flows.len() as u64);
    // A scan's probes to closed ports with well-known numbers are guesses, never payload.
    let vnc = r.applications.apps.iter().find(|a| a.app == AppProto::Vnc);
    assert_eq!(vnc.map(|a| a.flows_from_payload), Some(0));
}

#[test]
fn without_app_decoding_only_port_guesses_remain() {
    let mut options = AnalyzeOptions::default();
    options.engine.flows.app_decoding = false;
    let r = analyze("clean_background.pcap", &options);
    assert!(r.flows.iter().all(|f| f.details.is_none()));
    assert!(r.flows.iter().all(|f| f.app.source != AppSource::Payload));
    assert!(
        r.flows
            .iter()
            .any(|f| f.dst_port == 80 && f.app.source == AppSource::Port)
    );
    assert_eq!(r.applications.host_names_learned, 0);
    // Clean traffic stays clean with the detectors decoding DNS themselves.
    assert!(r.alerts.is_empty());
}
