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
    // A missing folder fails now, before any image is read.
    for file in files {
        if file.is_dir() {
            bail!("cannot write {}: it is a folder", file.display());
        }
        if let Some(parent) = file
            .parent()
            .filter(|parent| !parent.as_os_str().is_empty())
            && !parent.is_dir()
        {
            bail!(
                "cannot write {}: the folder {} does not exist",
                file.display(),
                parent.display()
            );
        }
    }
    Ok(())
}

/// Whether stdout is a terminal (colours and the table default).
pub fn stdout_is_terminal() -> bool {
    std::io::stdout().is_terminal()
}

/// Writes rendered documents to their targets. Files are written under a
/// temporary name beside the target first and renamed into place only when
/// all of them were written, so a failure leaves every target as it was.
pub fn write_all<F>(rendered: Vec<(OutputTarget<F>, String)>) -> anyhow::Result<()> {
    let mut staged: Vec<(PathBuf, PathBuf)> = Vec::new();
    let mut direct: Vec<(PathBuf, String)> = Vec::new();
    let mut stdout_text = None;
    for (target, text) in rendered {
        match target.file {
            // A device or pipe (`-o json=/dev/null`) is written in place:
            // renaming over it would replace it.
            Some(path) if is_device(&path) => direct.push((path, text)),
            Some(path) => {
                let name = path
                    .file_name()
                    .map(|name| name.to_string_lossy().into_owned())
                    .unwrap_or_default();
                let temporary =
                    path.with_file_name(format!(".{name}.rampart-{}.tmp", std::process::id()));
                if let Err(error) = std::fs::write(&temporary, text.as_bytes()) {
                    let _ = std::fs::remove_file(&temporary);
                    for (temporary, _) in &staged {
                        let _ = std::fs::remove_file(temporary);
                    }
                    return Err(error).with_context(|| format!("cannot write {}", path.display()));
                }
                staged.push((temporary, path));
            }
            None => stdout_text = Some(text),
        }
    }
    for (path, text) in direct {
        if let Err(error) = std::fs::write(&path, text.as_bytes()) {
            for (temporary, _) in &staged {
                let _ = std::fs::remove_file(temporary);
            }
            return Err(error).with_context(|| format!("cannot write {}", path.display()));
        }
    }
    for (index, (temporary, path)) in staged.iter().enumerate() {
        if let Err(error) = std::fs::rename(temporary, path) {
            for (temporary, _) in &staged[index..] {
                let _ = std::fs::remove_file(temporary);
            }
            return Err(error).with_context(|| format!("cannot write {}", path.display()));
        }
    }
    if let Some(text) = stdout_text {
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
    Ok(())
}

/// Returns whether a path is a device, pipe or socket, which is written in
/// place.
fn is_device(path: &std::path::Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(path).is_ok_and(|metadata| {
        let kind = metadata.file_type();
        kind.is_char_device() || kind.is_fifo() || kind.is_block_device() || kind.is_socket()
    })
}
