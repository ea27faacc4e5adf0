//! Fuzz target: the tls decoder (see `wirewatch_decode::app::fuzz::fuzz_tls`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wirewatch_decode::app::fuzz::fuzz_tls(data);
});
