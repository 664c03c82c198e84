//! `-o FORMAT[=FILE]` output targets, shared by every command that writes
//! reports. Files are replaced only when every output was written, so a
//! failure leaves existing files untouched.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

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
    write_each(
        rendered,
        |(target, _)| target.file.as_deref(),
        |(_, text), out| out.write_all(text.as_bytes()),
    )
}

/// Writes each output with `write`, which may render the document as it
/// writes it, to the file `file_of` returns or to stdout for `None`.
///
/// Files are written under a temporary name beside the target first.
/// Devices and pipes (`-o json=/dev/null`) are written in place after
/// that, because renaming over them would replace them. The files are
/// renamed into place only when all of them were written, so a failure
/// leaves every target file as it was, and stdout comes last.
pub fn write_each<T>(
    outputs: Vec<T>,
    file_of: impl Fn(&T) -> Option<&Path>,
    write: impl Fn(&T, &mut dyn Write) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut files = Vec::new();
    let mut devices = Vec::new();
    let mut stdout_output = None;
    for output in &outputs {
        match file_of(output) {
            Some(path) if is_device(path) => devices.push((output, path)),
            Some(path) => files.push((output, path)),
            None => stdout_output = Some(output),
        }
    }
    let write_file = |output: &T, path: &Path| {
        let file = std::fs::File::create(path)?;
        let mut writer = std::io::BufWriter::with_capacity(1 << 16, file);
        write(output, &mut writer)?;
        writer.flush()
    };
    let remove_staged = |staged: &[(PathBuf, &Path)]| {
        for (temporary, _) in staged {
            let _ = std::fs::remove_file(temporary);
        }
    };

    let mut staged: Vec<(PathBuf, &Path)> = Vec::new();
    for (output, path) in files {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().into_owned())
            .unwrap_or_default();
        let temporary = path.with_file_name(format!(".{name}.rampart-{}.tmp", std::process::id()));
        if let Err(error) = write_file(output, &temporary) {
            let _ = std::fs::remove_file(&temporary);
            remove_staged(&staged);
            return Err(error).with_context(|| format!("cannot write {}", path.display()));
        }
        staged.push((temporary, path));
    }
    for (output, path) in devices {
        if let Err(error) = write_file(output, path) {
            remove_staged(&staged);
            return Err(error).with_context(|| format!("cannot write {}", path.display()));
        }
    }
    for (index, (temporary, path)) in staged.iter().enumerate() {
        if let Err(error) = std::fs::rename(temporary, path) {
            remove_staged(&staged[index..]);
            return Err(error).with_context(|| format!("cannot write {}", path.display()));
        }
    }
    if let Some(output) = stdout_output {
        let mut stdout = std::io::stdout().lock();
        let written = write(output, &mut stdout).and_then(|()| stdout.flush());
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
