//! Reader for the rpm package database of an image (RHEL, CentOS, Fedora, SUSE, Mariner).
//!
//! rpm has stored its database in three formats, and each stores one header blob per
//! installed package:
//!
//! | kind | file | used by | module |
//! |---|---|---|---|
//! | [`RpmDbKind::BerkeleyDb`] | `var/lib/rpm/Packages` | RHEL/CentOS ≤ 8, Amazon Linux 2 | `bdb.rs` |
//! | [`RpmDbKind::Ndb`] | `var/lib/rpm/Packages.db` (or `usr/lib/sysimage/rpm/`) | SUSE Linux Enterprise 15 | `ndb.rs` |
//! | [`RpmDbKind::Sqlite`] | `var/lib/rpm/rpmdb.sqlite` (or `usr/lib/sysimage/rpm/`) | RHEL 9, Fedora ≥ 33, Mariner 2 | `sqlite.rs` |
//!
//! [`read_rpmdb`] extracts the blobs with the module for the kind and decodes each with
//! `header.rs`. Each module documents its format, its source and the traps of the format. The design and the Berkeley DB and NDB logic follow knqyf263/go-rpmdb (MIT),
//! which this code ports without copying.
//!
//! The input comes from untrusted images. Every length, count, offset and page number is
//! checked against the input before use, loops are bounded by the input size, and no
//! allocation trusts a length field. A record that cannot be read (one corrupt header, a
//! looping overflow chain) is skipped with a `tracing` warning. A file that is not a
//! database of the requested kind is an error, and so is a database in which no record
//! contains a valid header.

mod bdb;
mod cataloger;
mod header;
mod ndb;
mod sqlite;

pub use bdb::BdbError;
pub use cataloger::{RpmCataloger, package_from_header};
pub use header::{EntryProblem, HeaderError};
pub use ndb::NdbError;
pub use sqlite::SqliteError;

/// Maximum number of skipped records logged one by one. Later ones are only counted.
const MAX_LOGGED_SKIPS: usize = 20;

/// Storage format of an rpm package database.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RpmDbKind {
    /// Berkeley DB hash database, file `Packages`.
    BerkeleyDb,
    /// rpm's own "new database" format, file `Packages.db`.
    Ndb,
    /// SQLite database, file `rpmdb.sqlite`.
    Sqlite,
}

impl RpmDbKind {
    /// Returns the database kind for a path by its file name: `Packages`, `Packages.db` or
    /// `rpmdb.sqlite`. The directory is not checked.
    pub fn from_path(path: &str) -> Option<Self> {
        let file_name = path.rsplit('/').next().unwrap_or(path);
        match file_name {
            "Packages" => Some(Self::BerkeleyDb),
            "Packages.db" => Some(Self::Ndb),
            "rpmdb.sqlite" => Some(Self::Sqlite),
            _ => None,
        }
    }
}

/// One installed package as recorded in the rpm database.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RpmHeader {
    /// NAME tag (1000).
    pub name: String,
    /// EPOCH tag (1003), absent for most packages. rpm compares an absent epoch as 0.
    pub epoch: Option<u32>,
    /// VERSION tag (1001).
    pub version: String,
    /// RELEASE tag (1002).
    pub release: String,
    /// ARCH tag (1022), absent for `gpg-pubkey` entries.
    pub arch: Option<String>,
    /// SOURCERPM tag (1044), the file name of the source package.
    pub source_rpm: Option<String>,
    /// LICENSE tag (1014).
    pub license: Option<String>,
    /// VENDOR tag (1011).
    pub vendor: Option<String>,
    /// Installed size in bytes: LONGSIZE (5009) if present, else SIZE (1009).
    pub size: Option<u64>,
    /// Installed file paths from BASENAMES/DIRNAMES/DIRINDEXES, or FILENAMES (1027) in old
    /// packages. Empty when the package lists no files or its file list is invalid.
    pub files: Vec<String>,
}

/// Error for a database that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum RpmDbError {
    #[error("invalid Berkeley DB rpm database: {0}")]
    BerkeleyDb(#[from] BdbError),
    #[error("invalid NDB rpm database: {0}")]
    Ndb(#[from] NdbError),
    #[error("invalid SQLite rpm database: {0}")]
    Sqlite(#[from] SqliteError),
    #[error("record {record}: invalid rpm header: {source}")]
    Header {
        record: u64,
        #[source]
        source: HeaderError,
    },
    #[error(
        "none of the {records} records contains a valid rpm header, first error: {first_error}"
    )]
    NoValidHeaders {
        records: usize,
        first_error: Box<RpmDbError>,
    },
}

/// Reads every package header from a whole database file.
///
/// Records that cannot be read are skipped with a `tracing` warning. Returns an error if
/// `bytes` is not a database of `kind`, or if the database has records but none of them
/// contains a valid header. An empty database returns an empty list.
pub fn read_rpmdb(kind: RpmDbKind, bytes: &[u8]) -> Result<Vec<RpmHeader>, RpmDbError> {
    let mut collector = HeaderCollector::new(kind);
    match kind {
        RpmDbKind::BerkeleyDb => {
            bdb::for_each_blob(bytes, |record, blob| collector.add(record, blob))?
        }
        RpmDbKind::Ndb => ndb::for_each_blob(bytes, |record, blob| collector.add(record, blob))?,
        RpmDbKind::Sqlite => {
            sqlite::for_each_blob(bytes, |record, blob| collector.add(record, blob))?
        }
    }
    collector.finish()
}

/// Splits a source rpm file name into name and `version-release`.
///
/// `perl-5.26.3-417.el8_3.src.rpm` gives `("perl", "5.26.3-417.el8_3")`. The file name
/// carries no epoch. Returns `None` unless the name has the form
/// `<name>-<version>-<release>.<arch>.rpm` with all four parts non-empty.
pub fn parse_source_rpm(file_name: &str) -> Option<(String, String)> {
    let stem = file_name.strip_suffix(".rpm")?;
    let (name_version_release, arch) = stem.rsplit_once('.')?;
    let (name_version, release) = name_version_release.rsplit_once('-')?;
    let (name, version) = name_version.rsplit_once('-')?;
    if [name, version, release, arch]
        .iter()
        .any(|part| part.is_empty())
    {
        return None;
    }
    Some((name.to_owned(), format!("{version}-{release}")))
}

/// Decodes the blobs that a backend yields, logs the ones it skips and keeps the first error.
struct HeaderCollector {
    kind: RpmDbKind,
    headers: Vec<RpmHeader>,
    records: usize,
    skipped: usize,
    first_error: Option<RpmDbError>,
}

impl HeaderCollector {
    fn new(kind: RpmDbKind) -> Self {
        Self {
            kind,
            headers: Vec::new(),
            records: 0,
            skipped: 0,
            first_error: None,
        }
    }

    fn add(&mut self, record: u64, blob: Result<&[u8], RpmDbError>) {
        self.records += 1;
        let error = match blob {
            Ok(blob) => match header::parse_header(blob) {
                Ok(parsed) => {
                    self.headers.push(parsed);
                    return;
                }
                Err(source) => RpmDbError::Header { record, source },
            },
            Err(error) => error,
        };

        self.skipped += 1;
        if self.skipped <= MAX_LOGGED_SKIPS {
            tracing::warn!(kind = ?self.kind, record, %error, "skipping unreadable rpm database record");
        }
        self.first_error.get_or_insert(error);
    }

    fn finish(self) -> Result<Vec<RpmHeader>, RpmDbError> {
        if self.skipped > MAX_LOGGED_SKIPS {
            tracing::warn!(
                kind = ?self.kind,
                skipped = self.skipped,
                records = self.records,
                "skipped unreadable rpm database records, only the first {MAX_LOGGED_SKIPS} were logged"
            );
        }
        match self.first_error {
            Some(first_error) if self.headers.is_empty() => Err(RpmDbError::NoValidHeaders {
                records: self.records,
                first_error: Box::new(first_error),
            }),
            _ => Ok(self.headers),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_path_maps_file_names() {
        assert_eq!(
            RpmDbKind::from_path("var/lib/rpm/Packages"),
            Some(RpmDbKind::BerkeleyDb)
        );
        assert_eq!(
            RpmDbKind::from_path("/var/lib/rpm/Packages.db"),
            Some(RpmDbKind::Ndb)
        );
        assert_eq!(
            RpmDbKind::from_path("usr/lib/sysimage/rpm/rpmdb.sqlite"),
            Some(RpmDbKind::Sqlite)
        );
        assert_eq!(
            RpmDbKind::from_path("Packages"),
            Some(RpmDbKind::BerkeleyDb)
        );
        assert_eq!(RpmDbKind::from_path("var/lib/rpm/Packages.bak"), None);
        assert_eq!(RpmDbKind::from_path("var/lib/rpm/rpmdb.sqlite-wal"), None);
        assert_eq!(RpmDbKind::from_path(""), None);
    }

    #[test]
    fn parse_source_rpm_grype_perl_case() {
        assert_eq!(
            parse_source_rpm("perl-5.26.3-417.el8_3.src.rpm"),
            Some(("perl".to_owned(), "5.26.3-417.el8_3".to_owned()))
        );
    }

    #[test]
    fn parse_source_rpm_fixture_names() {
        let cases = [
            (
                "util-linux-2.32.1-42.el8_8.src.rpm",
                "util-linux",
                "2.32.1-42.el8_8",
            ),
            ("curl-7.76.0-6.cm2.src.rpm", "curl", "7.76.0-6.cm2"),
            ("dive-0.9.2-1.src.rpm", "dive", "0.9.2-1"),
            ("python3-3.6.8-51.el8.nosrc.rpm", "python3", "3.6.8-51.el8"),
        ];
        for (file_name, name, version_release) in cases {
            assert_eq!(
                parse_source_rpm(file_name),
                Some((name.to_owned(), version_release.to_owned())),
                "{file_name}"
            );
        }
    }

    #[test]
    fn parse_source_rpm_rejects_malformed() {
        for file_name in [
            "",
            ".rpm",
            "perl.src.rpm",
            "perl-5.26.3.src.rpm",
            "perl-5.26.3-417.el8_3.src",
            "-5.26.3-417.src.rpm",
            "perl--417.src.rpm",
            "perl-5.26.3-.src.rpm",
            "perl-5.26.3-417..rpm",
            "(none)",
        ] {
            assert_eq!(parse_source_rpm(file_name), None, "{file_name:?}");
        }
    }

    #[test]
    fn garbage_is_an_error_for_every_kind() {
        let garbage = b"this is not a real RPM file";
        for kind in [RpmDbKind::BerkeleyDb, RpmDbKind::Ndb, RpmDbKind::Sqlite] {
            let result = read_rpmdb(kind, garbage);
            assert!(result.is_err(), "{kind:?}: {result:?}");
            assert!(read_rpmdb(kind, &[]).is_err(), "{kind:?} with empty input");
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(256))]

        #[test]
        fn read_rpmdb_never_panics(
            bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..16384),
            kind in proptest::sample::select(vec![RpmDbKind::BerkeleyDb, RpmDbKind::Ndb, RpmDbKind::Sqlite]),
        ) {
            let _ = read_rpmdb(kind, &bytes);
        }
    }
}
