//! The `wirewatch` binary.

use clap::Parser;
use std::io::ErrorKind;

fn main() {
    let cli = wirewatch::cli::Cli::parse();
    wirewatch::logging::init(&cli.log);
    match wirewatch::commands::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) if closed_pipe(&e) => std::process::exit(0),
        Err(e) => {
            eprintln!("error: {}", said_once(&e));
            std::process::exit(1);
        }
    }
}

/// The error and its causes joined by `: `, each said once: a cause whose text the message
/// already contains (a library error that prints its source too) is not repeated.
fn said_once(e: &anyhow::Error) -> String {
    let mut text = String::new();
    for cause in e.chain() {
        let part = cause.to_string();
        if !text.contains(&part) {
            if !text.is_empty() {
                text.push_str(": ");
            }
            text.push_str(&part);
        }
    }
    text
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

#[cfg(test)]
mod tests {
    #[test]
    fn causes_are_said_once() {
        let io = std::io::Error::new(std::io::ErrorKind::NotFound, "No such file");
        let e = anyhow::Error::new(io)
            .context("x.pcap: No such file")
            .context("cannot read");
        assert_eq!(super::said_once(&e), "cannot read: x.pcap: No such file");
    }
}
