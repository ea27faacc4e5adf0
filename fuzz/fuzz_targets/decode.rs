//! Fuzz target: link, network and transport decoding (see `wirewatch_decode::fuzz_decode`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wirewatch_decode::fuzz_decode(data);
});
