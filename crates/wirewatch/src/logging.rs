//! Log lines on stderr through `tracing`: the libraries log (`tracing::warn!` and friends),
//! the binary decides what is shown. `RUST_LOG` (an env filter such as `debug` or
//! `wirewatch_notify=debug`) wins over `-v`/`-q`; by default warnings and errors are shown.
//! Text lines carry a UTC timestamp and the level; `--log-json` writes one JSON object a line.

use crate::cli::LogArgs;
use tracing_subscriber::EnvFilter;

/// The filter `-v`/`-q` ask for when `RUST_LOG` is not set.
pub fn default_filter(args: &LogArgs) -> &'static str {
    match (args.quiet, args.verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    }
}

/// Installs the stderr subscriber once (a second call is ignored).
pub fn init(args: &LogArgs) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter(args)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(true);
    let _ = if args.log_json {
        builder.json().try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_picks_the_level() {
        let args = |verbose, quiet| LogArgs {
            verbose,
            quiet,
            log_json: false,
        };
        assert_eq!(default_filter(&args(0, false)), "warn");
        assert_eq!(default_filter(&args(1, false)), "info");
        assert_eq!(default_filter(&args(2, false)), "debug");
        assert_eq!(default_filter(&args(5, false)), "trace");
        assert_eq!(default_filter(&args(0, true)), "error");
    }
}
