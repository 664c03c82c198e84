//! Building and installing the database file: walk the feed inputs, import
//! every file into a new database beside the current one, and replace the
//! current one atomically.
//!
//! Crash safety: the new database is written to a temporary file in the
//! same directory, synced, and renamed over the old one. The directory is
//! synced after the rename. A crash (even SIGKILL) at any point leaves either
//! the old or the new database under the final name, never a partial file.
//! An exclusive lock on a lock file beside the database keeps two writers
//! apart; the operating system releases it when its process dies.

use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use chrono::Utc;
use tracing::{debug, info, warn};

use crate::import::detect::{self, Detected};
use crate::import::{FeedKind, ImportError, RecordSink, Skipped};
use crate::store::{BuildMetadata, Database, DatabaseBuilder, InputMeta, Metadata, StoreError};

/// Directories deeper than this below an input are not walked.
const MAX_WALK_DEPTH: usize = 32;

/// Prefix of the temporary files a build writes beside the database.
const TEMP_PREFIX: &str = ".rampart-db-new-";

/// One input of a build: a feed file or a directory of feed files.
#[derive(Clone, Debug)]
pub struct FeedInput {
    pub path: PathBuf,
    /// The feed's kind when the caller knows it (a download of a named
    /// feed); `None` detects it per file.
    pub kind: Option<FeedKind>,
    /// The input's origin, recorded in the database's metadata.
    pub meta: InputMeta,
}

impl FeedInput {
    /// Creates an input of local files whose kind is detected.
    pub fn local(path: &Path) -> FeedInput {
        FeedInput {
            path: path.to_owned(),
            kind: None,
            meta: InputMeta {
                feed: "local".to_owned(),
                location: path.display().to_string(),
                fetched_at: None,
                etag: None,
                last_modified: None,
            },
        }
    }
}

/// An error that stops a build or an install. The previous database stays.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("cannot read feed input {path}: {error}")]
    Input { path: PathBuf, error: io::Error },
    #[error("cannot read the database file {path}: {error}")]
    DatabaseFile { path: PathBuf, error: io::Error },
    #[error(
        "{path} is not a feed file rampart can import (expected OSV JSON/YAML/zip, Alpine secdb, \
         Debian tracker JSON or DSA/DLA list, NVD 2.0, CVE 5, KEV or EPSS)"
    )]
    NotAFeed { path: PathBuf },
    #[error("no feed files found under {path}; point --from at the folders that contain the feeds")]
    NoFeeds { path: PathBuf },
    #[error("{0}; the previous database was left in place")]
    Import(ImportError),
    #[error(
        "the feed downloaded from {url} cannot be imported: {error}; check that the URL serves \
         that feed's format. The previous database was left in place"
    )]
    Downloaded { url: String, error: ImportError },
    #[error(
        "the feed files gave no records ({skipped} skipped{}); the previous database was left in place",
        example.as_deref().map(|e| format!(", for example {e}")).unwrap_or_default()
    )]
    Empty {
        skipped: u64,
        example: Option<String>,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "{path} is not a usable rampart database ({reason}); the previous database was left in place"
    )]
    InvalidDatabase { path: PathBuf, reason: String },
    #[error("cannot write the database in {dir}: {error}")]
    Write { dir: PathBuf, error: io::Error },
    #[error(
        "another rampart process is writing the database in {dir}; wait for it to finish \
         and run the command again"
    )]
    Locked { dir: PathBuf },
}

// Not `#[from]`: that would also make the import error the source, and
// `{:#}` would print it twice.
impl From<ImportError> for BuildError {
    fn from(error: ImportError) -> Self {
        BuildError::Import(error)
    }
}

/// The files a build read, beside the metadata stored in the database.
#[derive(Clone, Debug, Default)]
pub struct BuildReport {
    /// Imported files per feed kind.
    pub files: Vec<(FeedKind, usize)>,
    /// Files under input directories that are not feeds.
    pub ignored_files: Vec<PathBuf>,
}

/// Builds a database from `inputs` and installs it at `database`.
pub fn build_database(
    database: &Path,
    inputs: &[FeedInput],
    meta_time: Option<chrono::DateTime<Utc>>,
) -> Result<(Metadata, BuildReport), BuildError> {
    let mut report = BuildReport::default();
    let mut plan: Vec<(PathBuf, FeedKind, bool, usize)> = Vec::new();
    let mut zips: Vec<(PathBuf, usize)> = Vec::new();

    for (index, input) in inputs.iter().enumerate() {
        let files = collect_files(&input.path)?;
        let explicit = files.len() == 1 && files[0] == input.path;
        let mut found = 0;
        for file in files {
            let detected = match input.kind {
                Some(FeedKind::Osv) if has_extension(&file, "zip") => Detected::OsvZip,
                Some(kind) => Detected::Feed(kind),
                None => detect::detect(&file).map_err(|source| BuildError::Input {
                    path: file.clone(),
                    error: source,
                })?,
            };
            match detected {
                Detected::Feed(kind) => {
                    plan.push((file, kind, !explicit, index));
                    found += 1;
                }
                Detected::OsvZip => {
                    zips.push((file, index));
                    found += 1;
                }
                Detected::NotAFeed if explicit => {
                    return Err(BuildError::NotAFeed { path: file });
                }
                Detected::NotAFeed => {
                    debug!(file = %file.display(), "not a feed file, ignored");
                    report.ignored_files.push(file);
                }
            }
        }
        if found == 0 {
            return Err(BuildError::NoFeeds {
                path: input.path.clone(),
            });
        }
    }

    let directory = database_dir(database);
    fs::create_dir_all(&directory).map_err(|source| BuildError::Write {
        dir: directory.clone(),
        error: source,
    })?;
    let _lock = lock_directory(&directory)?;
    remove_stale_temporaries(&directory);

    let temporary = temporary_path(&directory);
    let result = (|| {
        let mut builder = DatabaseBuilder::create(&temporary)?;
        let mut counts: std::collections::BTreeMap<FeedKind, usize> = Default::default();
        for (file, kind, in_directory, index) in &plan {
            import_one(&mut builder, file, *kind, *in_directory)
                .map_err(|error| with_origin(error, &inputs[*index]))?;
            *counts.entry(*kind).or_default() += 1;
        }
        for (file, index) in &zips {
            crate::import::osv::import_osv_zip(file, &mut builder)
                .map_err(|error| with_origin(BuildError::from(error), &inputs[*index]))?;
            *counts.entry(FeedKind::Osv).or_default() += 1;
        }
        report.files = counts.into_iter().collect();

        let meta = BuildMetadata {
            built_at: meta_time.unwrap_or_else(Utc::now),
            rampart_version: env!("CARGO_PKG_VERSION").to_owned(),
            inputs: inputs.iter().map(|input| input.meta.clone()).collect(),
        };
        let metadata = builder.finish(meta)?;
        let records: u64 = metadata.sources.iter().map(|source| source.records).sum();
        if records + metadata.kev_count + metadata.epss_count == 0 {
            return Err(BuildError::Empty {
                skipped: metadata.skipped,
                example: metadata.skipped_examples.first().cloned(),
            });
        }
        Ok::<_, BuildError>(metadata)
    })();

    match result {
        Ok(metadata) => {
            replace(&temporary, database)?;
            info!(database = %database.display(), "database installed");
            Ok((metadata, report))
        }
        Err(error) => {
            let _ = fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// Names the URL a downloaded feed file came from in an import error, so
/// the message points at the feed rather than at the cache.
fn with_origin(error: BuildError, input: &FeedInput) -> BuildError {
    let is_url =
        input.meta.location.starts_with("http://") || input.meta.location.starts_with("https://");
    match error {
        BuildError::Import(error) if is_url => BuildError::Downloaded {
            url: input.meta.location.clone(),
            error,
        },
        other => other,
    }
}

/// Imports one file. One OSV record file inside a directory is one record,
/// so a file that is not valid OSV is skipped there, not fatal.
fn import_one(
    builder: &mut DatabaseBuilder,
    file: &Path,
    kind: FeedKind,
    in_directory: bool,
) -> Result<(), BuildError> {
    debug!(file = %file.display(), feed = %kind, "importing");
    let result = match kind {
        FeedKind::Osv => crate::import::osv::import_osv_file(file, builder),
        FeedKind::AlpineSecdb => crate::import::alpine::import_alpine_secdb(file, builder),
        FeedKind::DebianTracker => crate::import::debian::import_file(file, builder),
        FeedKind::DebianAdvisoryList => crate::import::debian_list::import_file(file, builder),
        FeedKind::Nvd => crate::import::nvd::import_file(file, builder),
        FeedKind::Cve5 => crate::import::cve5::import_file(file, builder),
        FeedKind::Kev => crate::import::kev::import_file(file, builder),
        FeedKind::Epss => crate::import::epss::import_file(file, builder),
    };
    match result {
        Err(ImportError::Format { path, reason, .. }) if kind == FeedKind::Osv && in_directory => {
            warn!(file = %path.display(), "skipped an unreadable OSV record: {reason}");
            builder.skipped(Skipped {
                file: path,
                record: "record 1".to_owned(),
                reason,
            });
            Ok(())
        }
        other => other.map_err(BuildError::from),
    }
}

/// Installs a prebuilt database file at `database` after checking that it
/// opens. A zstd-compressed file (`.db.zst`) is decompressed on the way.
pub fn install_database(database: &Path, source: &Path) -> Result<Metadata, BuildError> {
    let directory = database_dir(database);
    fs::create_dir_all(&directory).map_err(|error| BuildError::Write {
        dir: directory.clone(),
        error,
    })?;
    let _lock = lock_directory(&directory)?;
    remove_stale_temporaries(&directory);

    // A plain file is checked where it is, so errors name it; a compressed
    // one can only be checked once decompressed.
    let compressed = is_zstd(source).map_err(|error| BuildError::DatabaseFile {
        path: source.to_owned(),
        error,
    })?;
    if !compressed {
        Database::open(source).map_err(|error| BuildError::InvalidDatabase {
            path: source.to_owned(),
            reason: error.reason(),
        })?;
    }

    let temporary = temporary_path(&directory);
    let result = (|| {
        copy_maybe_compressed(source, &temporary).map_err(|error| BuildError::DatabaseFile {
            path: source.to_owned(),
            error,
        })?;
        let database = Database::open(&temporary).map_err(|error| BuildError::InvalidDatabase {
            path: source.to_owned(),
            reason: error.reason(),
        })?;
        let metadata = database.metadata().clone();
        drop(database);
        Ok::<_, BuildError>(metadata)
    })();
    match result {
        Ok(metadata) => {
            replace(&temporary, database)?;
            Ok(metadata)
        }
        Err(error) => {
            let _ = fs::remove_file(&temporary);
            Err(error)
        }
    }
}

/// Returns whether a file starts with the zstd frame magic.
fn is_zstd(path: &Path) -> io::Result<bool> {
    let mut magic = [0u8; 4];
    let read = File::open(path)?.read(&mut magic)?;
    Ok(read == 4 && magic == ZSTD_MAGIC)
}

/// The first four bytes of a zstd frame.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

fn copy_maybe_compressed(source: &Path, target: &Path) -> io::Result<()> {
    let compressed = is_zstd(source)?;
    let input = File::open(source)?;
    let mut output = File::create(target)?;
    if compressed {
        let mut decoder = zstd::stream::read::Decoder::new(input)?;
        io::copy(&mut decoder, &mut output)?;
    } else {
        io::copy(&mut io::BufReader::new(input), &mut output)?;
    }
    output.flush()?;
    output.sync_all()
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|found| found.eq_ignore_ascii_case(extension))
}

/// Lists the files of an input: the file itself, or every regular file
/// below a directory in sorted order. Hidden entries and symbolic links to
/// directories are skipped, so a link cycle cannot loop.
fn collect_files(path: &Path) -> Result<Vec<PathBuf>, BuildError> {
    let metadata = fs::metadata(path).map_err(|source| BuildError::Input {
        path: path.to_owned(),
        error: source,
    })?;
    if metadata.is_file() {
        return Ok(vec![path.to_owned()]);
    }

    let mut files = Vec::new();
    let mut stack = vec![(path.to_owned(), 0usize)];
    while let Some((directory, depth)) = stack.pop() {
        let entries = fs::read_dir(&directory).map_err(|source| BuildError::Input {
            path: directory.clone(),
            error: source,
        })?;
        for entry in entries {
            let entry = entry.map_err(|source| BuildError::Input {
                path: directory.clone(),
                error: source,
            })?;
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let file_type = entry.file_type().map_err(|source| BuildError::Input {
                path: entry.path(),
                error: source,
            })?;
            if file_type.is_dir() {
                if depth + 1 < MAX_WALK_DEPTH {
                    stack.push((entry.path(), depth + 1));
                } else {
                    warn!(dir = %entry.path().display(), "feed folder nested too deep, not read");
                }
            } else if file_type.is_file() || (file_type.is_symlink() && entry.path().is_file()) {
                files.push(entry.path());
            }
        }
    }
    files.sort();
    Ok(files)
}

fn database_dir(database: &Path) -> PathBuf {
    match database.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
        _ => PathBuf::from("."),
    }
}

fn temporary_path(directory: &Path) -> PathBuf {
    directory.join(format!("{TEMP_PREFIX}{}", std::process::id()))
}

/// Removes temporary files that a killed build left. Runs under the lock,
/// so no live build owns them.
fn remove_stale_temporaries(directory: &Path) {
    let Ok(entries) = fs::read_dir(directory) else {
        return;
    };
    for entry in entries.flatten() {
        if entry.file_name().to_string_lossy().starts_with(TEMP_PREFIX) {
            debug!(file = %entry.path().display(), "removing a stale temporary database");
            let _ = fs::remove_file(entry.path());
        }
    }
}

/// Takes the exclusive writer lock of a database directory.
fn lock_directory(directory: &Path) -> Result<File, BuildError> {
    let path = directory.join(".rampart-db.lock");
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|source| BuildError::Write {
            dir: directory.to_owned(),
            error: source,
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(fs::TryLockError::WouldBlock) => Err(BuildError::Locked {
            dir: directory.to_owned(),
        }),
        Err(fs::TryLockError::Error(source)) => Err(BuildError::Write {
            dir: directory.to_owned(),
            error: source,
        }),
    }
}

/// Renames `temporary` over `database` and syncs the directory, so the
/// rename itself survives a power loss.
fn replace(temporary: &Path, database: &Path) -> Result<(), BuildError> {
    let directory = database_dir(database);
    let write_error = |source| BuildError::Write {
        dir: directory.clone(),
        error: source,
    };
    File::open(temporary)
        .and_then(|file| file.sync_all())
        .map_err(write_error)?;
    fs::rename(temporary, database).map_err(write_error)?;
    File::open(&directory)
        .and_then(|dir| dir.sync_all())
        .map_err(write_error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walk_sorted_and_skips_hidden() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("b/c")).unwrap();
        fs::write(dir.path().join("b/c/z.json"), "{}").unwrap();
        fs::write(dir.path().join("a.json"), "{}").unwrap();
        fs::write(dir.path().join(".hidden.json"), "{}").unwrap();
        let files = collect_files(dir.path()).unwrap();
        let names: Vec<_> = files
            .iter()
            .map(|file| file.strip_prefix(dir.path()).unwrap().to_owned())
            .collect();
        assert_eq!(
            names,
            [PathBuf::from("a.json"), PathBuf::from("b/c/z.json")]
        );
    }

    #[test]
    fn second_lock_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let _first = lock_directory(dir.path()).unwrap();
        let second = lock_directory(dir.path());
        assert!(matches!(second, Err(BuildError::Locked { .. })));
    }

    #[test]
    fn stale_temporaries_removed() {
        let dir = tempfile::tempdir().unwrap();
        let stale = dir.path().join(format!("{TEMP_PREFIX}99999"));
        fs::write(&stale, "partial").unwrap();
        remove_stale_temporaries(dir.path());
        assert!(!stale.exists());
    }
}
