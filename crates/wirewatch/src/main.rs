//! The `wirewatch` binary.

use clap::Parser;

fn main() {
    let cli = wirewatch::cli::Cli::parse();
    match wirewatch::commands::run(cli) {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::exit(1);
        }
    }
}
