//! The `rampart` command line. Domain logic lives in the library crates;
//! this crate parses arguments, sets up logging and progress, and maps
//! results to exit codes: 0 success, 2 error.

mod logging;
mod output;
mod sbom;
mod version;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for invalid input or any other error.
const EXIT_ERROR: u8 = 2;

#[derive(Parser)]
#[command(
    name = "rampart",
    version,
    about = "Container security: SBOMs of container images",
    long_about = "rampart inventories the operating-system packages of container images and writes \
                  SBOMs (CycloneDX 1.6, SPDX 2.3). Images are read from OCI layouts, OCI and docker \
                  archives, or root filesystem directories and tarballs; nothing is unpacked to disk."
)]
struct Cli {
    /// Log more on stderr: -v for progress notes, -vv for debug detail.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Log only errors, and hide progress bars.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the SBOM (software bill of materials) of a container image.
    Sbom(sbom::SbomArgs),

    /// Compare package versions with an ecosystem's own rules.
    #[command(subcommand)]
    Version(version::VersionCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    logging::init(cli.verbose, cli.quiet);

    let result = match cli.command {
        Command::Sbom(args) => sbom::run(args, cli.quiet),
        Command::Version(command) => version::run(command),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
