//! Fuzz target: tunnel decapsulation (see `wirewatch_decode::fuzz_tunnel`: the first byte picks
//! an outer encapsulation, the rest is its body inside valid outer headers, opened three deep).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(wirewatch_decode::fuzz_tunnel(data));
});
