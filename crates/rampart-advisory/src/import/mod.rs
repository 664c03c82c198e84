//! Importers of the native feed formats. Each importer streams one file and
//! hands normalised records to a [`RecordSink`]; a malformed record is
//! reported to the sink as [`Skipped`] (naming the file and the record) and
//! the import goes on. An importer returns an [`ImportError`] only when the
//! file as a whole cannot be read as its format.

pub mod alpine;
pub mod cve5;
pub mod debian;
pub mod debian_list;
pub mod detect;
pub mod epss;
pub mod kev;
pub mod nvd;
pub mod osv;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::{Advisory, EpssScore, KevEntry};

/// The feed formats rampart imports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum FeedKind {
    /// OSV records: JSON or YAML files, directories of them, or `all.zip`.
    Osv,
    /// Alpine secdb, YAML or JSON, one file per branch and repository.
    AlpineSecdb,
    /// The Debian Security Tracker JSON export (keyed by source package).
    DebianTracker,
    /// The Debian tracker's `DSA/list`, `DLA/list` and `DTSA/list` files.
    DebianAdvisoryList,
    /// NVD CVE API 2.0 JSON (an API page or a yearly feed file).
    Nvd,
    /// CVE JSON 5 records (the CVE Program's `cvelistV5`).
    Cve5,
    /// The CISA Known Exploited Vulnerabilities catalog, JSON or CSV.
    Kev,
    /// FIRST EPSS scores, CSV (`cve,epss,percentile` with a model line) or
    /// the headerless `CVE;epss;percentile` variant.
    Epss,
}

impl FeedKind {
    pub const ALL: [FeedKind; 8] = [
        FeedKind::Osv,
        FeedKind::AlpineSecdb,
        FeedKind::DebianTracker,
        FeedKind::DebianAdvisoryList,
        FeedKind::Nvd,
        FeedKind::Cve5,
        FeedKind::Kev,
        FeedKind::Epss,
    ];

    /// Returns the feed's name as logs and `db info` show it.
    pub fn name(self) -> &'static str {
        match self {
            FeedKind::Osv => "osv",
            FeedKind::AlpineSecdb => "alpine-secdb",
            FeedKind::DebianTracker => "debian-tracker",
            FeedKind::DebianAdvisoryList => "debian-advisories",
            FeedKind::Nvd => "nvd",
            FeedKind::Cve5 => "cve5",
            FeedKind::Kev => "kev",
            FeedKind::Epss => "epss",
        }
    }
}

impl fmt::Display for FeedKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A record an importer could not use.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The feed file (for a zip archive: `archive.zip!entry.json`).
    pub file: PathBuf,
    /// The record's id when it could be read, else its position (`line 12`,
    /// `record 40`).
    pub record: String,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: skipped {}: {}",
            self.file.display(),
            self.record,
            self.reason
        )
    }
}

/// Receives what importers read.
///
/// `source` names the feed a record came from as `db info` counts it
/// (`osv:pypi`, `alpine-secdb`, `debian-tracker`, `debian-dsa`, `nvd`, …).
/// Records with the same `source` and `id` are parts of one advisory (the
/// Debian export lists a CVE once per source package, Alpine once per
/// branch); the store merges them.
pub trait RecordSink {
    fn advisory(&mut self, advisory: Advisory);
    fn kev(&mut self, entry: KevEntry);
    fn epss(&mut self, score: EpssScore);
    fn skipped(&mut self, skipped: Skipped);
}

/// A feed file that cannot be read at all.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a valid {feed} file: {reason}")]
    Format {
        path: PathBuf,
        feed: FeedKind,
        reason: String,
    },
}

impl ImportError {
    pub fn io(path: &Path, source: std::io::Error) -> Self {
        ImportError::Io {
            path: path.to_owned(),
            source,
        }
    }

    pub fn format(path: &Path, feed: FeedKind, reason: impl Into<String>) -> Self {
        ImportError::Format {
            path: path.to_owned(),
            feed,
            reason: reason.into(),
        }
    }
}

/// A sink that keeps everything in memory, for tests and small imports.
#[derive(Debug, Default)]
pub struct CollectingSink {
    pub advisories: Vec<Advisory>,
    pub kev: Vec<KevEntry>,
    pub epss: Vec<EpssScore>,
    pub skipped: Vec<Skipped>,
}

impl RecordSink for CollectingSink {
    fn advisory(&mut self, advisory: Advisory) {
        self.advisories.push(advisory);
    }

    fn kev(&mut self, entry: KevEntry) {
        self.kev.push(entry);
    }

    fn epss(&mut self, score: EpssScore) {
        self.epss.push(score);
    }

    fn skipped(&mut self, skipped: Skipped) {
        self.skipped.push(skipped);
    }
}
