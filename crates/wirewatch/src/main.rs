//! The `wirewatch` binary.
fn main() {}
