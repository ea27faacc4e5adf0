//! Fuzz target: IP fragment reassembly (see `wirewatch_flow::reassembly::fuzz::fuzz_reassembly`:
//! the input is a program of fragments, raw datagrams and time steps; the caps and the
//! accounting of every fragment are checked after each step).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    std::hint::black_box(wirewatch_flow::reassembly::fuzz::fuzz_reassembly(data));
});
