//! Running the `wirewatch` binary and reading what it said.

use std::process::{Command, Output};

/// Runs `wirewatch ARGS` to the end.
pub fn wirewatch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wirewatch"))
        .args(args)
        .output()
        .expect("run wirewatch")
}

/// Its standard error, as text.
pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
