//! Reader for the SQLite package database `rpmdb.sqlite` (rpm ≥ 4.16: RHEL 9, Fedora ≥ 33,
//! CBL-Mariner 2.0).
//!
//! rpm keeps one row per package in `Packages(hnum INTEGER PRIMARY KEY, blob BLOB)`, where
//! `blob` is the header blob. The other tables are indexes that this reader ignores. This
//! follows knqyf263/go-rpmdb `pkg/sqlite3/sqlite3.go` (MIT, commit
//! 061c574f6eb0215060ef309536eddea19bf3189e), which runs `SELECT blob FROM Packages`.
//!
//! The file arrives as bytes and is opened read-only in memory with
//! `sqlite3_deserialize`, so nothing touches the disk.
//!
//! Traps:
//! - rpm's databases use WAL mode (the Mariner fixture does), which sets bytes 18 and 19
//!   of the file header (the write and read format versions) to 2. SQLite's in-memory VFS
//!   cannot open a WAL database, so this reader sets them to 1 (rollback journal) in its
//!   copy. A `-wal` file next to the database is not read, so transactions that were not
//!   yet checkpointed into the main file are missed.
//! - The file is untrusted. The connection runs in defensive mode with
//!   `trusted_schema = OFF` and `cell_size_check = ON`, and `Packages` must be a real table.
//!   A view could run an arbitrary (even endless) query.
//! - go-rpmdb scans `blob` as a string, so a TEXT value is accepted as well as a BLOB.

use std::io::Read;

use rusqlite::config::DbConfig;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, MAIN_DB, OpenFlags};

use super::RpmDbError;

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";
/// Bytes 18 and 19 of the file header contain the write and read format versions.
const FORMAT_VERSION_OFFSET: usize = 18;
const FORMAT_VERSION_WAL: u8 = 2;
const FORMAT_VERSION_ROLLBACK: u8 = 1;
/// Size of the SQLite file header.
const FILE_HEADER_SIZE: usize = 100;

/// Error for an invalid SQLite file or one of its rows.
#[derive(Debug, thiserror::Error)]
pub enum SqliteError {
    #[error(
        "file does not start with the SQLite magic \"SQLite format 3\\0\" (first bytes {0:02x?})"
    )]
    NotSqlite(Vec<u8>),
    #[error("SQLite failed to open or query the database: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("database has no Packages table")]
    NoPackagesTable,
    #[error("Packages is a {0}, expected a table")]
    PackagesNotTable(String),
    #[error("row {hnum}: blob column has SQLite type {column_type}, expected BLOB or TEXT")]
    BlobType { hnum: i64, column_type: String },
}

/// Calls `visit` once per row of the `Packages` table.
///
/// The record number passed to `visit` is the row's `hnum`, and a negative `hnum` becomes 0.
/// Returns an error when `bytes` is not a SQLite database with a `Packages` table, or when
/// SQLite reports corruption while reading the rows.
pub fn for_each_blob(
    bytes: &[u8],
    mut visit: impl FnMut(u64, Result<&[u8], RpmDbError>),
) -> Result<(), SqliteError> {
    if bytes.len() < FILE_HEADER_SIZE || !bytes.starts_with(SQLITE_MAGIC) {
        let prefix = bytes.iter().take(SQLITE_MAGIC.len()).copied().collect();
        return Err(SqliteError::NotSqlite(prefix));
    }

    let connection = open_in_memory(bytes)?;
    check_packages_table(&connection)?;

    let mut statement = connection.prepare("SELECT hnum, blob FROM Packages")?;
    let mut rows = statement.query([])?;
    while let Some(row) = rows.next()? {
        let hnum = match row.get_ref(0)? {
            ValueRef::Integer(hnum) => hnum,
            _ => 0,
        };
        let record = u64::try_from(hnum).unwrap_or(0);
        match row.get_ref(1)? {
            ValueRef::Blob(blob) | ValueRef::Text(blob) => visit(record, Ok(blob)),
            other => {
                let column_type = other.data_type().to_string();
                let error = SqliteError::BlobType { hnum, column_type };
                visit(record, Err(error.into()));
            }
        }
    }
    Ok(())
}

/// Copies `bytes` into SQLite's memory as a read-only database, switched from WAL to
/// rollback-journal mode.
fn open_in_memory(bytes: &[u8]) -> Result<Connection, SqliteError> {
    let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
        | OpenFlags::SQLITE_OPEN_CREATE
        | OpenFlags::SQLITE_OPEN_NO_MUTEX
        | OpenFlags::SQLITE_OPEN_MEMORY;
    let mut connection = Connection::open_in_memory_with_flags(flags)?;
    connection.set_db_config(DbConfig::SQLITE_DBCONFIG_DEFENSIVE, true)?;
    connection.pragma_update(None, "trusted_schema", false)?;

    let versions: Vec<u8> = bytes[FORMAT_VERSION_OFFSET..FORMAT_VERSION_OFFSET + 2]
        .iter()
        .map(|&version| {
            if version == FORMAT_VERSION_WAL {
                FORMAT_VERSION_ROLLBACK
            } else {
                version
            }
        })
        .collect();
    let patched = bytes[..FORMAT_VERSION_OFFSET]
        .chain(versions.as_slice())
        .chain(&bytes[FORMAT_VERSION_OFFSET + 2..]);
    connection.deserialize_read_exact(MAIN_DB, patched, bytes.len(), true)?;

    connection.pragma_update(None, "cell_size_check", true)?;
    Ok(connection)
}

fn check_packages_table(connection: &Connection) -> Result<(), SqliteError> {
    let object_type: Option<String> = connection
        .query_row(
            "SELECT type FROM sqlite_schema WHERE name = 'Packages' COLLATE NOCASE",
            [],
            |row| row.get(0),
        )
        .map(Some)
        .or_else(|error| match error {
            rusqlite::Error::QueryReturnedNoRows => Ok(None),
            other => Err(other),
        })?;
    match object_type.as_deref() {
        Some("table") => Ok(()),
        Some(other) => Err(SqliteError::PackagesNotTable(other.to_owned())),
        None => Err(SqliteError::NoPackagesTable),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::super::header::test_blob::sample_header;
    use super::super::{RpmDbKind, RpmHeader, read_rpmdb};
    use super::*;

    /// go-rpmdb's `cbl-mariner-2.0/rpmdb.sqlite` cut down to 72 packages (see testdata/README.md).
    const MARINER: &[u8] = include_bytes!("testdata/cbl-mariner-2.0-trimmed-rpmdb.sqlite");
    /// `rpm -qa` output of rpm 4.18 for `MARINER`, one package per line.
    const MARINER_RPM_QA: &str = include_str!("testdata/cbl-mariner-2.0-trimmed.rpm-qa.tsv");
    /// `rpm -qa --qf '[%{=NAME}\t%{FILENAMES}\n]'` output of rpm 4.18 for `MARINER`.
    const MARINER_FILES: &str = include_str!("testdata/cbl-mariner-2.0-trimmed.files.tsv");

    /// Formats a header the way the rpm query format in testdata/README.md prints it.
    fn rpm_qa_line(header: &RpmHeader) -> String {
        let optional =
            |value: &Option<String>| value.clone().unwrap_or_else(|| "(none)".to_owned());
        let epoch = header
            .epoch
            .map_or_else(|| "(none)".to_owned(), |epoch| epoch.to_string());
        let size = header
            .size
            .map_or_else(|| "(none)".to_owned(), |size| size.to_string());
        [
            header.name.clone(),
            epoch,
            header.version.clone(),
            header.release.clone(),
            optional(&header.arch),
            optional(&header.source_rpm),
            size,
            optional(&header.license),
            optional(&header.vendor),
        ]
        .join("\t")
    }

    /// Builds an in-memory SQLite database and returns its bytes.
    fn serialize(setup: &str) -> Vec<u8> {
        let mut connection = Connection::open_in_memory().expect("in-memory database");
        connection.execute_batch(setup).expect("setup SQL");
        connection
            .serialize(MAIN_DB)
            .expect("serialized database")
            .to_vec()
    }

    #[test]
    fn mariner_fixture_matches_rpm_qa() {
        let headers = read_rpmdb(RpmDbKind::Sqlite, MARINER).expect("valid database");
        let mut lines: Vec<String> = headers.iter().map(rpm_qa_line).collect();
        lines.sort();
        let expected: Vec<&str> = MARINER_RPM_QA.lines().collect();

        assert_eq!(headers.len(), 72);
        assert_eq!(lines, expected);
    }

    #[test]
    fn mariner_fixture_files_match_rpm() {
        let headers = read_rpmdb(RpmDbKind::Sqlite, MARINER).expect("valid database");
        let mut expected: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for line in MARINER_FILES.lines() {
            let (name, path) = line.split_once('\t').expect("name and path");
            expected.entry(name).or_default().push(path);
        }

        for header in &headers {
            let want = expected
                .get(header.name.as_str())
                .cloned()
                .unwrap_or_default();
            assert_eq!(header.files, want, "files of {}", header.name);
        }
        let total: usize = headers.iter().map(|header| header.files.len()).sum();
        assert_eq!(total, 554);
    }

    #[test]
    fn mariner_curl_matches_go_rpmdb() {
        let headers = read_rpmdb(RpmDbKind::Sqlite, MARINER).expect("valid database");
        let curl = headers
            .iter()
            .find(|header| header.name == "curl")
            .expect("curl is installed");

        assert_eq!(curl.epoch, None);
        assert_eq!(curl.version, "7.76.0");
        assert_eq!(curl.release, "6.cm2");
        assert_eq!(curl.arch.as_deref(), Some("x86_64"));
        assert_eq!(
            curl.source_rpm.as_deref(),
            Some("curl-7.76.0-6.cm2.src.rpm")
        );
        assert_eq!(curl.size, Some(326_023));
        assert_eq!(curl.license.as_deref(), Some("MIT"));
        assert_eq!(curl.vendor.as_deref(), Some("Microsoft Corporation"));
        assert_eq!(
            curl.files,
            [
                "/usr/bin/curl",
                "/usr/bin/curl-config",
                "/usr/share/licenses/curl",
                "/usr/share/licenses/curl/COPYING",
                "/usr/share/man/man1/curl-config.1.gz",
                "/usr/share/man/man1/curl.1.gz",
            ]
        );
    }

    #[test]
    fn mariner_epoch_packages() {
        let headers = read_rpmdb(RpmDbKind::Sqlite, MARINER).expect("valid database");
        let mut with_epoch: Vec<(&str, u32)> = headers
            .iter()
            .filter_map(|header| Some((header.name.as_str(), header.epoch?)))
            .collect();
        with_epoch.sort();
        assert_eq!(
            with_epoch,
            [
                ("ca-certificates-base", 1),
                ("ca-certificates-shared", 1),
                ("ca-certificates-tools", 1)
            ]
        );
    }

    #[test]
    fn fixture_is_in_wal_mode() {
        // The WAL trap is only exercised if the fixture keeps rpm's WAL header bytes.
        assert_eq!(
            MARINER[FORMAT_VERSION_OFFSET..FORMAT_VERSION_OFFSET + 2],
            [2, 2]
        );
    }

    #[test]
    fn rollback_journal_database_is_read() {
        let blob = sample_header("plain", "1.0", None);
        let hex: String = blob.iter().map(|byte| format!("{byte:02x}")).collect();
        let bytes = serialize(&format!(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             INSERT INTO Packages (blob) VALUES (x'{hex}');"
        ));
        assert_eq!(
            bytes[FORMAT_VERSION_OFFSET..FORMAT_VERSION_OFFSET + 2],
            [1, 1]
        );

        let headers = read_rpmdb(RpmDbKind::Sqlite, &bytes).expect("valid database");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, "plain");
    }

    #[test]
    fn corrupt_row_is_skipped() {
        let blob = sample_header("good", "1.0", None);
        let hex: String = blob.iter().map(|byte| format!("{byte:02x}")).collect();
        let bytes = serialize(&format!(
            "CREATE TABLE Packages (hnum INTEGER PRIMARY KEY AUTOINCREMENT, blob BLOB NOT NULL);
             INSERT INTO Packages (blob) VALUES (x'00000001');
             INSERT INTO Packages (blob) VALUES (42);
             INSERT INTO Packages (blob) VALUES (x'{hex}');"
        ));

        let mut records = Vec::new();
        for_each_blob(&bytes, |record, blob| records.push((record, blob.is_ok())))
            .expect("valid database");
        assert_eq!(records, [(1, true), (2, false), (3, true)]);

        let headers = read_rpmdb(RpmDbKind::Sqlite, &bytes).expect("one valid package");
        assert_eq!(headers.len(), 1);
        assert_eq!(headers[0].name, "good");
    }

    #[test]
    fn missing_packages_table_is_rejected() {
        let bytes = serialize("CREATE TABLE Other (x INTEGER);");
        let result = for_each_blob(&bytes, |_, _| {});
        assert!(
            matches!(result, Err(SqliteError::NoPackagesTable)),
            "{result:?}"
        );
    }

    #[test]
    fn packages_view_is_rejected() {
        let bytes = serialize(
            "CREATE VIEW Packages AS
                 WITH RECURSIVE forever(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM forever)
                 SELECT n AS hnum, x'00' AS blob FROM forever;",
        );
        let result = for_each_blob(&bytes, |_, _| {});
        assert!(
            matches!(&result, Err(SqliteError::PackagesNotTable(kind)) if kind == "view"),
            "{result:?}"
        );
    }

    #[test]
    fn empty_packages_table_has_no_packages() {
        let bytes = serialize("CREATE TABLE Packages (hnum INTEGER PRIMARY KEY, blob BLOB);");
        assert_eq!(
            read_rpmdb(RpmDbKind::Sqlite, &bytes).expect("valid database"),
            []
        );
    }

    #[test]
    fn not_sqlite_is_rejected() {
        let result = for_each_blob(b"this is not a real RPM file", |_, _| {});
        assert!(
            matches!(result, Err(SqliteError::NotSqlite(_))),
            "{result:?}"
        );
    }

    #[test]
    fn truncated_fixture_is_an_error_or_partial() {
        for length in [100, 4096, 8192, MARINER.len() / 2, MARINER.len() - 1] {
            let result = read_rpmdb(RpmDbKind::Sqlite, &MARINER[..length]);
            if let Ok(headers) = result {
                assert!(headers.len() <= 72, "length {length}");
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]

        #[test]
        fn mutated_fixture_never_panics(
            edits in proptest::collection::vec((0usize..MARINER.len(), proptest::num::u8::ANY), 1..24)
        ) {
            let mut bytes = MARINER.to_vec();
            for (position, value) in edits {
                bytes[position] = value;
            }
            let _ = read_rpmdb(RpmDbKind::Sqlite, &bytes);
        }

        #[test]
        fn mutated_first_pages_never_panic(
            edits in proptest::collection::vec((0usize..8192, proptest::num::u8::ANY), 1..24)
        ) {
            // The file header, schema and b-tree roots live at the start of the file.
            let mut bytes = MARINER.to_vec();
            for (position, value) in edits {
                bytes[position] = value;
            }
            let _ = read_rpmdb(RpmDbKind::Sqlite, &bytes);
        }
    }
}
