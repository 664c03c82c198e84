//! The embedded advisory database: one file that `rampart db build` writes
//! and `rampart scan` reads, with keyed lookups by (namespace, package), by
//! advisory id or alias, and of KEV entries and EPSS scores by CVE id.
//!
//! The file is an SQLite 3 database (the bundled SQLite of `rusqlite`) of
//! six `WITHOUT ROWID` tables with byte keys and byte values:
//!
//! | table | key | value |
//! |---|---|---|
//! | `meta` | name | format magic, schema version, [`Metadata`] as JSON, zstd dictionary |
//! | `advisory` | (id, source) | the merged [`Advisory`], postcard, zstd with the dictionary |
//! | `alias` | (alias, id, source) | empty |
//! | `affected` | (namespace, package) | every non-withdrawn affected entry of the package, postcard, zstd |
//! | `kev` | CVE id | [`KevEntry`], postcard |
//! | `epss` | CVE id without its last two bytes | up to 100 [`EpssScore`]s, postcard, zstd |
//!
//! Keys are tuples of strings in an order-preserving byte encoding (see
//! `key.rs`). Values are postcard, the compact serde format, because the
//! file is rebuilt rather than migrated: a change of any stored type bumps
//! [`SCHEMA_VERSION`], and [`Database::open`] rejects other versions.
//!
//! NOTE: SQLite was chosen over redb 5 by measurement (benches/advisory-db.sh,
//! numbers in docs/advisory-db.md). On one million synthetic advisories on
//! 2 cores, both met the lookup target, and SQLite gave the smaller file, the
//! faster build and an error instead of a possible panic on a corrupted
//! file. The redb backend stays behind the `redb-backend` feature for the
//! benchmark only.

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

/// The storage engine of a database file. Only the benchmark picks one; the
/// shipped code uses [`Backend::Sqlite`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Backend {
    #[default]
    Sqlite,
    #[cfg(feature = "redb-backend")]
    Redb,
}

/// What can fail when building or reading an advisory database.
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

    #[error("cannot access advisory database {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("advisory database {path}: {operation} failed: {reason}")]
    Backend {
        path: PathBuf,
        operation: &'static str,
        reason: String,
    },
}

impl StoreError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> StoreError {
        StoreError::Io {
            path: path.to_owned(),
            source,
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

/// Test hooks; not part of the stable interface.
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
