//! One module per subcommand; [`run`] dispatches the parsed command line to them.

pub mod analyze;
pub mod bench;
pub mod export;
pub mod extract;
pub mod generate;
pub mod intel;
pub mod interfaces;
pub mod model;
pub mod run;
pub mod train;

use crate::cli::{Cli, Command};

/// Runs the parsed command line; returns the process exit code.
pub fn run(cli: Cli) -> anyhow::Result<i32> {
    tracing::debug!(version = env!("CARGO_PKG_VERSION"), "wirewatch starting");
    match cli.command {
        Some(Command::Analyze(args)) => analyze::run(&args),
        Some(Command::Generate(args)) => generate::run(&args),
        Some(Command::Bench(args)) => bench::run(&args),
        Some(Command::Run(args)) => run::run(&args),
        Some(Command::Export(args)) => export::run(&args),
        Some(Command::Extract(args)) => extract::run(&args),
        Some(Command::Intel(args)) => intel::run(&args),
        Some(Command::Model(args)) => model::run(&args),
        Some(Command::Train(args)) => train::run(&args),
        Some(Command::Token) => {
            println!("{}", wirewatch_web::generate_token()?);
            Ok(0)
        }
        Some(Command::Interfaces(args)) => interfaces::run(&args),
        Some(Command::Completions { shell }) => {
            // Generated into memory first: clap_complete panics on a write error (a closed
            // pipe), and the script is small.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut cmd, "wirewatch", &mut script);
            std::io::Write::write_all(&mut std::io::stdout(), &script)?;
            Ok(0)
        }
        Some(Command::Man) => {
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut std::io::stdout())?;
            Ok(0)
        }
        None => run::run(&cli.run),
    }
}
