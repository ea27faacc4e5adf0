//! Fuzz target: the quic decoder (see `wirewatch_decode::app::fuzz::fuzz_quic`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wirewatch_decode::app::fuzz::fuzz_quic(data);
});
