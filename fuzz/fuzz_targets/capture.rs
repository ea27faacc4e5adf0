//! Fuzz target: arbitrary bytes as a pcap/pcapng file through the capture reader, the engine
//! (timestamps included) and the report (see `wirewatch::fuzz_path::analyze_capture_bytes`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(wirewatch::fuzz_path::analyze_capture_bytes(data));
});
