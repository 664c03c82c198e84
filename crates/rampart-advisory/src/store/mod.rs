//! The embedded advisory database: one file that `rampart db build` writes
//! and `rampart scan` reads, with keyed lookups by (namespace, package), by
//! advisory id or alias, and of KEV entries and EPSS scores by CVE id.
//!
//! The file is an SQLite 3 database (the bundled SQLite of `rusqlite`) of
//! six `WITHOUT ROWID` tables with byte keys and byte values:
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | format marker, schema version, [`Metadata`] as JSON, the two zstd dictionaries |
//! | `advisory` | (id, source) of the block's first advisory | a block of up to 16 merged [`crate::Advisory`] records in key order, postcard, zstd level 9 with a trained dictionary |
//! | `alias` | (alias, id, source) | empty |
//! | `affected` | (namespace, package) | every non-withdrawn affected entry of the package, postcard, zstd with a second trained dictionary |
//! | `kev` | CVE id | [`crate::KevEntry`], postcard |
//! | `epss` | CVE id without its last two bytes | up to 100 [`crate::EpssScore`]s, postcard, zstd |
//!
//! Keys are tuples of strings in an order-preserving byte encoding (see
//! `key.rs`), so a lookup by id is a range scan. Values are postcard, the
//! compact serde format, because the file is rebuilt rather than migrated:
//! a change of any stored type bumps [`SCHEMA_VERSION`], and
//! [`Database::open`] rejects other versions.
//!
//! NOTE: SQLite was chosen over redb 5 by measurement (benches/advisory-db.sh,
//! numbers in docs/advisory-db.md). On one million synthetic advisories on 2
//! cores, the SQLite file was 37.5 % of the JSON input and the redb file
//! 46.2 %, over the 40 % target. SQLite also built 7 % faster, and it reports
//! a damaged file as an error where redb 5.0 documents that a read-only open
//! of an altered file may panic. redb's lookups were 5 to 15 % faster. The
//! redb backend stays behind the `redb-backend` feature for the benchmark
//! only.
//!
//! The p99 latency of [`Database::affected`] over random packages is 28 µs
//! on that set and 44 µs on the corpus: packages with tens of entries spend
//! that time allocating owned entries, not in SQLite. The matcher therefore
//! uses [`Database::affected_matching`], which decodes entries in place and
//! converts only the selected ones (p99 14 µs and 18 µs).

mod backend;
mod builder;
mod codec;
mod database;
mod key;
mod metadata;
#[cfg(feature = "redb-backend")]
mod redb;
mod spool;
mod sqlite;

use std::path::{Path, PathBuf};

pub use builder::DatabaseBuilder;
pub use codec::EntryView;
pub use database::Database;
pub use metadata::{BuildMetadata, InputMeta, Metadata, SourceMeta};

use crate::AffectedPackage;

/// The version of the file layout and of every stored type. A database of
/// another version is rejected on open and must be built again.
pub const SCHEMA_VERSION: u32 = 1;

/// The value of the `format` row of the `meta` table.
pub(crate) const FORMAT_MAGIC: &str = "rampart-advisory-db";

/// One affected entry of one advisory, as a lookup by package returns it.
#[derive(Clone, Debug, PartialEq)]
pub struct PackageAdvisory {
    /// The feed that published the advisory ([`crate::Advisory::source`]).
    pub source: String,
    pub id: String,
    /// The advisory's aliases, merged over all its parts.
    pub aliases: Vec<String>,
    pub affected: AffectedPackage,
}

/// The storage engine of a database file. Only the benchmark picks one, and
/// the shipped code uses [`Backend::Sqlite`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    #[default]
    Sqlite,
    #[cfg(feature = "redb-backend")]
    Redb,
}

/// An error of building or reading an advisory database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(
        "advisory database {path} not found: run `rampart db build --from PATH` or `rampart db update` to create it"
    )]
    Missing { path: PathBuf },

    #[error(
        "{path} is not a rampart advisory database ({reason}): run `rampart db build --from PATH` or `rampart db update` to replace it"
    )]
    NotADatabase { path: PathBuf, reason: String },

    #[error(
        "advisory database {path} is truncated or corrupt ({reason}): run `rampart db build --from PATH` or `rampart db update` to replace it"
    )]
    Corrupt { path: PathBuf, reason: String },

    #[error(
        "advisory database {path} has schema version {found}, but this rampart reads version {expected}: run `rampart db build --from PATH` or `rampart db update` to replace it"
    )]
    SchemaVersion {
        path: PathBuf,
        found: u32,
        expected: u32,
    },

    #[error("cannot access advisory database {path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },

    #[error("advisory database {path}: {operation} failed: {reason}")]
    Backend {
        path: PathBuf,
        operation: &'static str,
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn io(path: &Path, error: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_owned(),
            error,
        }
    }

    /// Returns what is wrong, without the path and the advice, for messages
    /// about another file (a database being imported).
    pub fn reason(&self) -> String {
        match self {
            StoreError::Missing { .. } => "not found".to_owned(),
            StoreError::NotADatabase { reason, .. } | StoreError::Corrupt { reason, .. } => {
                reason.clone()
            }
            StoreError::SchemaVersion {
                found, expected, ..
            } => format!("schema version {found}, but this rampart reads version {expected}"),
            StoreError::Io { error, .. } => error.to_string(),
            StoreError::Backend {
                operation, reason, ..
            } => format!("{operation} failed: {reason}"),
        }
    }

    pub(crate) fn corrupt(path: &Path, reason: impl Into<String>) -> StoreError {
        StoreError::Corrupt {
            path: path.to_owned(),
            reason: reason.into(),
        }
    }

    pub(crate) fn backend(
        path: &Path,
        operation: &'static str,
        reason: impl ToString,
    ) -> StoreError {
        StoreError::Backend {
            path: path.to_owned(),
            operation,
            reason: reason.to_string(),
        }
    }
}

/// Test hooks, outside the stable interface.
#[doc(hidden)]
pub mod testing {
    use std::path::Path;

    use super::{StoreError, sqlite};

    /// Rewrites the schema version recorded in a finished database, so
    /// tests can produce a database of another version.
    pub fn set_schema_version(path: &Path, version: u32) -> Result<(), StoreError> {
        sqlite::set_schema_version(path, version)
    }
}
