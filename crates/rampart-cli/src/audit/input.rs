//! Reading manifests from files, directories (recursively) and stdin, and
//! reading them again at report time for the line numbers of findings.

use std::borrow::Cow;
use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rampart_posture::{MAX_MANIFEST_BYTES, Manifests, locate_field, parse_manifests};
use rampart_report::audit::InputError;
use rayon::prelude::*;

/// File name extensions read from directories. Files named on the command
/// line are read whatever their name.
const MANIFEST_EXTENSIONS: &[&str] = &["yaml", "yml", "json"];

/// Maximum directory nesting followed below a named directory.
const MAX_DEPTH: usize = 32;

/// Maximum number of files read from the given paths, so that a mistaken
/// `/` fails fast.
const MAX_FILES: usize = 100_000;

/// The objects of every input, and the inputs that could not be read.
#[derive(Default)]
pub struct Loaded {
    pub manifests: Manifests,
    pub errors: Vec<InputError>,
    pub texts: SourceTexts,
}

/// The inputs' texts for report time: stdin's text itself, because stdin
/// cannot be read twice, and a fingerprint of each file, so that positions
/// are never taken from a file that changed after it was audited.
#[derive(Default)]
pub struct SourceTexts {
    stdin: Option<String>,
    files: HashMap<String, Fingerprint>,
    /// Files whose text differed when read again.
    changed: Mutex<Vec<String>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint {
    length: usize,
    crc: u32,
}

impl Fingerprint {
    fn of(text: &str) -> Fingerprint {
        // CRC-32 with the length: it only has to notice an edit made
        // while the audit ran, and runs at memory speed where SipHash
        // took a noticeable share of a large audit.
        Fingerprint {
            length: text.len(),
            crc: crc32fast::hash(text.as_bytes()),
        }
    }
}

impl SourceTexts {
    /// Returns the text `source` was parsed from, reading a file again.
    /// Returns `None` for an unknown source, and for a file that can no
    /// longer be read or whose text changed, which [`Self::changed`] then
    /// lists.
    pub fn text_of(&self, source: &str) -> Option<Cow<'_, str>> {
        if source == "-" {
            return self.stdin.as_deref().map(Cow::Borrowed);
        }
        let expected = self.files.get(source)?;
        let text = read_bounded(Path::new(source))
            .ok()
            .and_then(|bytes| String::from_utf8(bytes).ok())
            .filter(|text| Fingerprint::of(text) == *expected);
        if text.is_none() {
            self.changed
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .push(source.to_owned());
        }
        text.map(Cow::Owned)
    }

    /// Returns the files that changed or vanished between the audit and
    /// [`Self::text_of`], sorted.
    pub fn changed(self) -> Vec<String> {
        let mut changed = self
            .changed
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        changed.sort();
        changed
    }
}

/// The part of one input kept for report time.
enum KeptText {
    Stdin(String),
    File(String, Fingerprint),
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

    let results: Vec<Result<(Manifests, KeptText), InputError>> =
        files.par_iter().map(|file| read_file(file)).collect();
    for result in results {
        match result {
            Ok((manifests, kept)) => {
                loaded.manifests.extend(manifests);
                match kept {
                    KeptText::Stdin(text) => loaded.texts.stdin = Some(text),
                    KeptText::File(source, fingerprint) => {
                        loaded.texts.files.insert(source, fingerprint);
                    }
                }
            }
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

fn read_file(path: &Path) -> Result<(Manifests, KeptText), InputError> {
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
    let mut manifests = parse_manifests(&text, &source).map_err(|manifest_error| {
        error(None, strip_source(&manifest_error.to_string(), &source))
    })?;
    // A value that does not match its schema is reported at its own line.
    for invalid in &mut manifests.invalid {
        let Some(field) = invalid.field.as_deref() else {
            continue;
        };
        let origin = &invalid.origin;
        if let Some(position) = locate_field(&text, origin.document, origin.item, Some(field)) {
            invalid.origin.line = position.line;
        }
    }
    let kept = if source == "-" {
        KeptText::Stdin(text)
    } else {
        let fingerprint = Fingerprint::of(&text);
        KeptText::File(source, fingerprint)
    };
    Ok((manifests, kept))
}

/// Reads at most one byte over the manifest limit, so a huge file fails
/// without being read whole.
fn read_bounded(path: &Path) -> Result<Vec<u8>, String> {
    let limit = MAX_MANIFEST_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    let result = if path.as_os_str() == "-" {
        std::io::stdin().lock().take(limit).read_to_end(&mut bytes)
    } else {
        std::fs::File::open(path).and_then(|file| {
            // Sized from the metadata, the buffer is filled in a few reads
            // instead of growing from a few bytes.
            let length = file.metadata().map_or(0, |metadata| metadata.len());
            bytes.reserve(length.min(limit) as usize + 1);
            file.take(limit).read_to_end(&mut bytes)
        })
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

#[cfg(test)]
mod tests {
    use super::*;

    const POD: &str = "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: x}]\n";

    #[test]
    fn unchanged_file_read_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pod.yaml");
        std::fs::write(&path, POD).unwrap();
        let loaded = load(std::slice::from_ref(&path)).unwrap();
        let source = path.display().to_string();
        assert_eq!(loaded.texts.text_of(&source).as_deref(), Some(POD));
        assert_eq!(loaded.texts.text_of("other.yaml"), None);
        assert!(loaded.texts.changed().is_empty());
    }

    #[test]
    fn changed_file_not_located_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pod.yaml");
        std::fs::write(&path, POD).unwrap();
        let loaded = load(std::slice::from_ref(&path)).unwrap();
        std::fs::write(&path, POD.replace("hostPID", "hostIPC")).unwrap();

        let source = path.display().to_string();
        assert_eq!(loaded.texts.text_of(&source), None);
        assert_eq!(loaded.texts.changed(), vec![source]);
    }

    #[test]
    fn removed_file_not_located_in() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pod.yaml");
        std::fs::write(&path, POD).unwrap();
        let loaded = load(std::slice::from_ref(&path)).unwrap();
        std::fs::remove_file(&path).unwrap();

        let source = path.display().to_string();
        assert_eq!(loaded.texts.text_of(&source), None);
        assert_eq!(loaded.texts.changed(), vec![source]);
    }
}
