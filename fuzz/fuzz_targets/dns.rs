//! Fuzz target: the dns decoder (see `wirewatch_decode::app::fuzz::fuzz_dns`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wirewatch_decode::app::fuzz::fuzz_dns(data);
});
