//! Fuzz target: the ssh decoder (see `wirewatch_decode::app::fuzz::fuzz_ssh`).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    wirewatch_decode::app::fuzz::fuzz_ssh(data);
});
