#[test]
fn dump() {
    let n: u64 = std::env::var("N").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let f: u64 = std::env::var("F").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let c = wirewatch_capture::synth::GeneratorConfig { seed: 2024, packets: n, flows: f, ..Default::default() };
    let s = wirewatch_capture::synth::write_pcap(&c, std::fs::File::create("/tmp/synth/s.pcap").unwrap()).unwrap();
    println!("{s:#?}");
}
