//! The `wirewatch` binary.

use clap::Parser;
use std::io::ErrorKind;

fn main() {
    let cli = wirewatch::cli::Cli::parse();
    match wirewatch::commands::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) if closed_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}

/// Whether the error is a write to a pipe whose reader has gone (`wirewatch analyze F | head
/// -1`): as with tcpdump, that ends the command quietly. SIGPIPE stays ignored (Rust's default)
/// instead of being reset to kill the process: a `run` piped into `head` would otherwise die in
/// the middle of writing its database or its `-w` file. This way every output finishes and
/// only the exit is quiet (the terminal's interval lines ignore write errors).
fn closed_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        let io = c.downcast_ref::<std::io::Error>().map(std::io::Error::kind);
        let json = c.downcast_ref::<serde_json::Error>();
        io.or_else(|| json.and_then(serde_json::Error::io_error_kind))
            == Some(ErrorKind::BrokenPipe)
    })
}
