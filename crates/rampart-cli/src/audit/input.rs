//! Reading manifests from files, directories (recursively) and stdin.

use std::io::Read;
use std::path::{Path, PathBuf};

use rampart_posture::{MAX_MANIFEST_BYTES, Manifests, parse_manifests};
use rampart_report::audit::InputError;
use rayon::prelude::*;

/// File name extensions read from directories. Files named on the command
/// line are read whatever their name.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Deepest directory nesting followed below a named directory.
const MAX_DEPTH: usize = 32;

/// Most files read from one command line, so a mistaken `/` fails fast.
const MAX_FILES: usize = 100_000;

/// The objects of every input, and the inputs that could not be read.
#[derive(Default)]
pub struct Loaded {
    pub manifests: Manifests,
    pub errors: Vec<InputError>,
}

/// Reads every path (`-` is stdin): files as given, directories recursively.
pub fn load(paths: &[PathBuf]) -> anyhow::Result<Loaded> {
    let mut files = Vec::new();
    let mut loaded = Loaded::default();
    for path in paths {
        if path.as_os_str() == "-" {
            files.push(path.clone());
            continue;
        }
        let metadata = std::fs::metadata(path).map_err(|error| {
            anyhow::anyhow!("cannot read {}: {error}; check the path", path.display())
        })?;
        if metadata.is_dir() {
            collect_dir(path, 0, &mut files, &mut loaded.errors)?;
        } else {
            files.push(path.clone());
        }
    }
    if files.len() > MAX_FILES {
        anyhow::bail!(
            "more than {MAX_FILES} manifest files under the given paths; audit fewer directories at once"
        );
    }

    let results: Vec<Result<Manifests, InputError>> =
        files.par_iter().map(|file| read_file(file)).collect();
    for result in results {
        match result {
            Ok(manifests) => loaded.manifests.extend(manifests),
            Err(error) => loaded.errors.push(error),
        }
    }
    for invalid in &loaded.manifests.invalid {
        let message = if invalid.kind.is_empty() {
            format!("document {}: {}", invalid.origin.document, invalid.message)
        } else {
            let name = invalid.name.as_deref().unwrap_or("(no name)");
            format!(
                "document {}: {} {name:?} does not match its schema: {}",
                invalid.origin.document, invalid.kind, invalid.message
            )
        };
        loaded.errors.push(InputError {
            source: invalid.origin.source.to_string(),
            line: Some(invalid.origin.line),
            message,
        });
    }
    Ok(loaded)
}

fn collect_dir(
    dir: &Path,
    depth: usize,
    files: &mut Vec<PathBuf>,
    errors: &mut Vec<InputError>,
) -> anyhow::Result<()> {
    if depth > MAX_DEPTH {
        errors.push(InputError {
            source: dir.display().to_string(),
            line: None,
            message: format!("directory nested more than {MAX_DEPTH} levels deep; not read"),
        });
        return Ok(());
    }
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(|error| anyhow::anyhow!("cannot read directory {}: {error}", dir.display()))?
        .filter_map(Result::ok)
        .collect();
    entries.sort_by_key(|entry| entry.file_name());
    for entry in entries {
        let path = entry.path();
        // Symbolic links are not followed, so a link cannot lead out of
        // the tree or into a loop.
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if kind.is_dir() && !hidden {
            collect_dir(&path, depth + 1, files, errors)?;
        } else if kind.is_file() && has_manifest_extension(&path) {
            files.push(path);
        }
    }
    Ok(())
}

fn has_manifest_extension(path: &Path) -> bool {
    path.extension()
        .and_then(|extension| extension.to_str())
        .is_some_and(|extension| {
            MANIFEST_EXTENSIONS.contains(&extension.to_ascii_lowercase().as_str())
        })
}

fn read_file(path: &Path) -> Result<Manifests, InputError> {
    let source = if path.as_os_str() == "-" {
        "-".to_owned()
    } else {
        path.display().to_string()
    };
    let error = |line, message: String| InputError {
        source: source.clone(),
        line,
        message,
    };
    let bytes = read_bounded(path).map_err(|message| error(None, message))?;
    let text = String::from_utf8(bytes).map_err(|e| {
        error(
            None,
            format!(
                "not UTF-8 text (invalid byte at offset {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })?;
    parse_manifests(&text, &source)
        .map_err(|manifest_error| error(None, strip_source(&manifest_error.to_string(), &source)))
}

/// Reads at most one byte over the manifest limit, so a huge file fails
/// without being read whole.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let limit = MAX_MANIFEST_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| file.take(limit).read_to_end(&mut bytes))
    };
    result.map_err(|error| format!("cannot read: {error}"))?;
    if bytes.len() as u64 >= limit {
        return Err(format!(
            "larger than the {MAX_MANIFEST_BYTES}-byte limit for one manifest file; split it into smaller files"
        ));
    }
    Ok(bytes)
}

fn strip_source(message: &str, source: &str) -> String {
    message
        .strip_prefix(source)
        .and_then(|rest| rest.strip_prefix(": "))
        .unwrap_or(message)
        .to_owned()
}
