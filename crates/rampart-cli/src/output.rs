//! `-o FORMAT[=FILE]` output targets, shared by every command that writes
//! reports. All outputs are rendered before any is written, so a failure
//! leaves existing files untouched.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use anyhow::{Context, bail};

/// One requested output.
#[derive(Clone, Debug)]
pub struct OutputTarget<F> {
    pub format: F,
    /// `None` means stdout.
    pub file: Option<PathBuf>,
}

/// Parses `FORMAT`, `FORMAT=FILE`, or `FORMAT=-` for stdout.
pub fn parse_target<F>(text: &str) -> Result<OutputTarget<F>, String>
where
    F: std::str::FromStr,
    F::Err: std::fmt::Display,
{
    let (format, file) = match text.split_once('=') {
        Some((format, "-")) => (format, None),
        Some((format, file)) if !file.is_empty() => (format, Some(PathBuf::from(file))),
        Some((_, _)) => return Err(format!("output {text:?} has an empty file name after '='")),
        None => (text, None),
    };
    Ok(OutputTarget {
        format: format.parse().map_err(|e: F::Err| e.to_string())?,
        file,
    })
}

/// Checks that at most one target writes to stdout.
pub fn check_targets<F>(targets: &[OutputTarget<F>]) -> anyhow::Result<()> {
    if targets.iter().filter(|t| t.file.is_none()).count() > 1 {
        bail!("more than one output goes to stdout; give all but one a file with -o FORMAT=FILE");
    }
    let mut files: Vec<&PathBuf> = targets.iter().filter_map(|t| t.file.as_ref()).collect();
    files.sort();
    if let Some(pair) = files.windows(2).find(|pair| pair[0] == pair[1]) {
        bail!(
            "more than one output goes to {}; give each output its own file",
            pair[0].display()
        );
    }
    Ok(())
}

/// Whether stdout is a terminal (colours and the table default).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Writes rendered documents to their targets.
pub fn write_all<F>(rendered: Vec<(OutputTarget<F>, String)>) -> anyhow::Result<()> {
    for (target, text) in rendered {
        match &target.file {
            Some(path) => std::fs::write(path, text.as_bytes())
                .with_context(|| format!("cannot write {}", path.display()))?,
            None => {
                let mut stdout = std::io::stdout().lock();
                let written = stdout
                    .write_all(text.as_bytes())
                    .and_then(|()| stdout.flush());
                match written {
                    // A closed pipe (`rampart sbom … | head`) means the reader has what it wants.
                    Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => return Ok(()),
                    other => other.context("cannot write to stdout")?,
                }
            }
        }
    }
    Ok(())
}
