//! The `wirewatch` binary.

use clap::Parser;

fn main() {
    let cli = wirewatch::cli::Cli::parse();
    wirewatch::logging::init(&cli.log);
    match wirewatch::commands::run(cli) {
        Ok(code) => std::process::exit(code),
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
