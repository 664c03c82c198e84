//! The `rampart` command line. Domain logic lives in the library crates;
//! this crate parses arguments, sets up logging and progress, and maps
//! results to exit codes: 0 success, 2 error.

mod allocator;
mod audit;
mod cache;
mod db;
mod diff;
mod logging;
mod output;
mod sbom;
mod scan;
mod version;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Exit code for invalid input or any other error.
const EXIT_ERROR: u8 = 2;

/// Exit code of `rampart scan` when `--fail-on` or `--fail-on-kev` is met,
/// and of `rampart diff` when `--fail-if-worse` is.
const EXIT_POLICY: u8 = 1;

#[derive(Parser)]
#[command(
    name = "rampart",
    version,
    about = "Container security: SBOMs and vulnerability scans of container images",
    long_about = "rampart inventories the packages of container images, writes SBOMs (CycloneDX \
                  1.6, SPDX 2.3), reports their known vulnerabilities and compares two images. \
                  Images are pulled from OCI registries or read from OCI layouts, OCI and docker \
                  archives, or root filesystem directories and tarballs; nothing is unpacked to disk."
)]
struct Cli {
    /// Log more on stderr: -v for progress notes, -vv for debug detail.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    /// Log only errors, and hide progress bars.
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,

    /// Cache directory for the vulnerability database and downloaded feeds.
    /// Default: $XDG_CACHE_HOME/rampart, else ~/.cache/rampart.
    #[arg(long, global = true, value_name = "DIR", env = "RAMPART_CACHE_DIR")]
    cache_dir: Option<std::path::PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the SBOM (software bill of materials) of a container image.
    Sbom(sbom::SbomArgs),

    /// Report the known vulnerabilities of an image's packages (or of an
    /// SBOM's, with sbom:FILE).
    Scan(scan::ScanArgs),

    /// Compare two images (a standard one and its hardened equivalent):
    /// packages, findings per severity and image facts, with one database.
    Diff(diff::DiffArgs),

    /// Audit the Kubernetes configuration of manifests or a live cluster:
    /// Pod Security Standards, escape to host, RBAC, NetworkPolicy, secrets,
    /// images and admission coverage.
    Audit(Box<audit::AuditArgs>),

    /// Build, update and inspect the vulnerability database.
    #[command(subcommand)]
    Db(db::DbCommand),

    /// Inspect and empty the cache directory (database, feeds, image blobs).
    #[command(subcommand)]
    Cache(cache::CacheCommand),

    /// Compare package versions with an ecosystem's own rules.
    #[command(subcommand)]
    Version(version::VersionCommand),
}

/// Stack size of rayon's worker threads. The YAML parsers recurse once per
/// nesting level up to their depth limits (128), which needs more than the
/// 2 MiB default in debug builds.
const WORKER_STACK_BYTES: usize = 16 * 1024 * 1024;

fn main() -> ExitCode {
    let cli = Cli::parse();
    if !matches!(cli.command, Command::Audit(_)) {
        allocator::return_freed_memory_at_once();
    }
    // Fails only if a pool was built before, which nothing here does.
    let _ = rayon::ThreadPoolBuilder::new()
        .stack_size(WORKER_STACK_BYTES)
        .build_global();
    logging::init(cli.verbose, cli.quiet);

    let cache_dir = cli.cache_dir;
    let quiet = cli.quiet;
    let outcome = match cli.command {
        Command::Scan(args) => {
            cache::CacheDir::resolve(cache_dir).and_then(|cache| scan::run(args, &cache, quiet))
        }
        Command::Diff(args) => {
            cache::CacheDir::resolve(cache_dir).and_then(|cache| diff::run(args, &cache))
        }
        Command::Sbom(args) => cache::CacheDir::resolve(cache_dir)
            .and_then(|cache| sbom::run(args, &cache, quiet))
            .map(|()| scan::ScanOutcome::Passed),
        Command::Audit(args) => audit::run(*args, quiet),
        Command::Version(command) => version::run(command).map(|()| scan::ScanOutcome::Passed),
        Command::Cache(command) => cache::CacheDir::resolve(cache_dir)
            .and_then(|cache| cache::run(command, &cache))
            .map(|()| scan::ScanOutcome::Passed),
        Command::Db(command) => cache::CacheDir::resolve(cache_dir)
            .and_then(|cache| db::run(command, &cache, quiet))
            .map(|()| scan::ScanOutcome::Passed),
    };
    match outcome {
        Ok(scan::ScanOutcome::Passed) => ExitCode::SUCCESS,
        Ok(scan::ScanOutcome::PolicyFailed(reason)) => {
            eprintln!("failed: {reason}");
            ExitCode::from(EXIT_POLICY)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
