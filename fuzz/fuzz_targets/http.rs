//! Fuzz target: the http decoder (see `wirewatch_decode::app::fuzz::fuzz_http`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wirewatch_decode::app::fuzz::fuzz_http(data);
});
