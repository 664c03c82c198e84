//! `rampart version compare`: compare two versions with an ecosystem's rules,
//! so users can see why a version is or is not inside an advisory's range.

use std::cmp::Ordering;
use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use rampart_version::Scheme;

#[derive(Subcommand)]
pub enum VersionCommand {
    /// Compare versions and print `<`, `=` or `>` (the first version against the second).
    Compare(CompareArgs),
}

#[derive(Args)]
pub struct CompareArgs {
    /// Version scheme: dpkg, rpm, apk, pep440, semver, go, maven, rubygems,
    /// nuget or packagist.
    #[arg(long)]
    scheme: Scheme,

    /// Read tab-separated pairs from stdin, one per line, and print one result
    /// per line (`invalid` where a version is invalid; the exit code is then 2).
    #[arg(long, conflicts_with_all = ["first", "second"])]
    batch: bool,

    /// The first version.
    #[arg(required_unless_present = "batch")]
    first: Option<String>,

    /// The second version.
    #[arg(required_unless_present = "batch")]
    second: Option<String>,
}

fn symbol(ordering: Ordering) -> &'static str {
    match ordering {
        Ordering::Less => "<",
        Ordering::Equal => "=",
        Ordering::Greater => ">",
    }
}

pub fn run(command: VersionCommand) -> anyhow::Result<()> {
    let VersionCommand::Compare(args) = command;
    if !args.batch {
        let (first, second) = (
            args.first.unwrap_or_default(),
            args.second.unwrap_or_default(),
        );
        let ordering = rampart_version::compare(args.scheme, &first, &second)?;
        println!("{}", symbol(ordering));
        return Ok(());
    }

    let stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    let mut failures = 0usize;
    for (index, line) in stdin.lines().enumerate() {
        let line = line.context("cannot read stdin")?;
        if line.trim().is_empty() {
            continue;
        }
        let number = index + 1;
        // An invalid line prints `invalid`, so output lines stay aligned with input lines.
        let result = match line.split_once('\t') {
            Some((first, second)) => {
                rampart_version::compare(args.scheme, first, second.trim_end_matches('\r'))
                    .map_err(|error| error.to_string())
            }
            None => Err("expected two versions separated by a tab".to_owned()),
        };
        let output = match result {
            Ok(ordering) => symbol(ordering),
            Err(message) => {
                eprintln!("error: line {number}: {message}");
                failures += 1;
                "invalid"
            }
        };
        writeln!(stdout, "{output}").context("cannot write to stdout")?;
    }
    if failures > 0 {
        bail!("{failures} line(s) could not be compared");
    }
    Ok(())
}
