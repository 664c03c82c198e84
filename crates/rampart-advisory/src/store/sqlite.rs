//! The SQLite backend: one `WITHOUT ROWID` table per store table, each with
//! a `BLOB` key and a `BLOB` value.
//!
//! The builder writes with journaling and syncing off, because the file is
//! a temporary one that the caller renames only after [`BackendWriter::finish`]
//! returned, then syncs once at the end. Readers open the file read-only and
//! `immutable=1` (no locks, no change detection), which holds because a
//! database file is replaced by rename and never changed in place.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::store::backend::{BackendReader, BackendWriter, Row, Table};
use crate::store::{StoreError, key};

const SQLITE_MAGIC: &[u8; 16] = b"SQLite format 3\0";

/// The page size of new files. An advisory block value is 4 to 8 KiB; SQLite
/// keeps up to about a quarter of a page inside the B-tree cell and moves
/// the rest to overflow pages, whose unused tail is lost. With 32 KiB pages
/// blocks stay in their leaf page, and the synthetic benchmark file was 20 %
/// smaller than with 8 KiB pages.
const PAGE_SIZE: u32 = 32768;

/// Bytes of the memory map of a reader connection; lookups then copy from
/// the page cache without a read system call.
const MMAP_SIZE: u64 = 1 << 30;

pub(crate) struct SqliteWriter {
    path: PathBuf,
    connection: Connection,
}

impl SqliteWriter {
    pub(crate) fn create(path: &Path) -> Result<SqliteWriter, StoreError> {
        let error =
            |operation| move |error: rusqlite::Error| StoreError::backend(path, operation, error);
        let connection = Connection::open(path).map_err(error("creating the file"))?;
        connection
            .execute_batch(&format!(
                "PRAGMA page_size = {PAGE_SIZE};
                 PRAGMA journal_mode = OFF;
                 PRAGMA synchronous = OFF;
                 PRAGMA locking_mode = EXCLUSIVE;
                 PRAGMA cache_size = -65536;"
            ))
            .map_err(error("setting up the file"))?;
        for table in Table::ALL {
            connection
                .execute_batch(&format!(
                    "CREATE TABLE {} (k BLOB PRIMARY KEY NOT NULL, v BLOB NOT NULL) WITHOUT ROWID",
                    table.name()
                ))
                .map_err(error("creating the tables"))?;
        }
        Ok(SqliteWriter {
            path: path.to_owned(),
            connection,
        })
    }
}

impl BackendWriter for SqliteWriter {
    fn insert(&mut self, table: Table, rows: &[Row]) -> Result<(), StoreError> {
        let error =
            |error: rusqlite::Error| StoreError::backend(&self.path, "inserting rows", error);
        let transaction = self.connection.transaction().map_err(error)?;
        {
            let mut statement = transaction
                .prepare_cached(&format!(
                    "INSERT OR REPLACE INTO {} (k, v) VALUES (?1, ?2)",
                    table.name()
                ))
                .map_err(error)?;
            for (key, value) in rows {
                statement.execute(params![key, value]).map_err(error)?;
            }
        }
        transaction.commit().map_err(error)
    }

    fn finish(self: Box<Self>) -> Result<(), StoreError> {
        let path = self.path;
        self.connection
            .execute_batch("PRAGMA optimize;")
            .map_err(|error| StoreError::backend(&path, "optimizing the file", error))?;
        self.connection
            .close()
            .map_err(|(_, error)| StoreError::backend(&path, "closing the file", error))?;
        File::open(&path)
            .and_then(|file| file.sync_all())
            .map_err(|error| StoreError::io(&path, error))
    }
}

/// A pool of read-only connections: a connection serves one thread at a
/// time, so each lookup takes one from the pool (opening a new one when all
/// are busy) and puts it back.
pub(crate) struct SqliteReader {
    path: PathBuf,
    pool: Mutex<Vec<Connection>>,
}

impl SqliteReader {
    /// Opens a file after checking that it is a complete SQLite file; what
    /// the file contains is the caller's check.
    pub(crate) fn open(path: &Path) -> Result<SqliteReader, StoreError> {
        check_header(path)?;
        let connection = open_connection(path)?;
        Ok(SqliteReader {
            path: path.to_owned(),
            pool: Mutex::new(vec![connection]),
        })
    }

    fn with_connection<T>(
        &self,
        operation: impl FnOnce(&Connection) -> Result<T, rusqlite::Error>,
    ) -> Result<T, StoreError> {
        let pooled = self.pool.lock().unwrap_or_else(|e| e.into_inner()).pop();
        let connection = match pooled {
            Some(connection) => connection,
            None => open_connection(&self.path)?,
        };
        let result = operation(&connection);
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(connection);
        result.map_err(|error| read_error(&self.path, error))
    }
}

impl BackendReader for SqliteReader {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(select_value(table))?;
            statement.query_row([key], |row| row.get(0)).optional()
        })
    }

    fn visit(
        &self,
        table: Table,
        key: &[u8],
        visit: &mut dyn FnMut(&[u8]),
    ) -> Result<bool, StoreError> {
        self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(select_value(table))?;
            let mut rows = statement.query([key])?;
            match rows.next()? {
                Some(row) => {
                    visit(row.get_ref(0)?.as_blob()?);
                    Ok(true)
                }
                None => Ok(false),
            }
        })
    }

    fn floor(&self, table: Table, key: &[u8]) -> Result<Option<Row>, StoreError> {
        self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT k, v FROM {} WHERE k <= ?1 ORDER BY k DESC LIMIT 1",
                table.name()
            ))?;
            statement
                .query_row([key], |row| Ok((row.get(0)?, row.get(1)?)))
                .optional()
        })
    }

    fn scan(&self, table: Table, start: &[u8], end: &[u8]) -> Result<Vec<Row>, StoreError> {
        self.with_connection(|connection| {
            let mut statement = connection.prepare_cached(&format!(
                "SELECT k, v FROM {} WHERE k >= ?1 AND k < ?2 ORDER BY k",
                table.name()
            ))?;
            let rows =
                statement.query_map(params![start, end], |row| Ok((row.get(0)?, row.get(1)?)))?;
            rows.collect()
        })
    }
}

/// Returns the point lookup of a table, as a constant so that the hot path
/// formats no SQL.
fn select_value(table: Table) -> &'static str {
    match table {
        Table::Meta => "SELECT v FROM meta WHERE k = ?1",
        Table::Advisory => "SELECT v FROM advisory WHERE k = ?1",
        Table::Alias => "SELECT v FROM alias WHERE k = ?1",
        Table::Affected => "SELECT v FROM affected WHERE k = ?1",
        Table::Kev => "SELECT v FROM kev WHERE k = ?1",
        Table::Epss => "SELECT v FROM epss WHERE k = ?1",
    }
}

fn open_connection(path: &Path) -> Result<Connection, StoreError> {
    let uri = format!("file:{}?immutable=1", uri_path(path));
    let flags = OpenFlags::SQLITE_OPEN_READ_ONLY
        | OpenFlags::SQLITE_OPEN_URI
        | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    let connection =
        Connection::open_with_flags(uri, flags).map_err(|error| read_error(path, error))?;
    connection
        .execute_batch(&format!("PRAGMA mmap_size = {MMAP_SIZE};"))
        .map_err(|error| read_error(path, error))?;
    Ok(connection)
}

/// Percent-encodes the characters that a `file:` URI gives a meaning to.
fn uri_path(path: &Path) -> String {
    let mut encoded = String::new();
    for c in path.to_string_lossy().chars() {
        match c {
            '%' | '?' | '#' => encoded.push_str(&format!("%{:02X}", c as u32)),
            c => encoded.push(c),
        }
    }
    encoded
}

/// Maps an SQLite error of a reader to the store's error: damaged and
/// non-database files to [`StoreError::Corrupt`] and
/// [`StoreError::NotADatabase`], anything else to [`StoreError::Backend`].
fn read_error(path: &Path, error: rusqlite::Error) -> StoreError {
    match error.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseCorrupt) => StoreError::corrupt(path, error.to_string()),
        Some(rusqlite::ErrorCode::NotADatabase) => StoreError::NotADatabase {
            path: path.to_owned(),
            reason: error.to_string(),
        },
        _ => StoreError::backend(path, "reading", error),
    }
}

/// Checks the 100-byte SQLite header: the magic string, and a file length
/// that covers every page the header counts. SQLite itself would notice a
/// missing page only when a lookup reaches it.
fn check_header(path: &Path) -> Result<(), StoreError> {
    let mut file = File::open(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => StoreError::Missing {
            path: path.to_owned(),
        },
        _ => StoreError::io(path, error),
    })?;
    let length = file
        .metadata()
        .map_err(|error| StoreError::io(path, error))?
        .len();
    let mut header = Vec::with_capacity(100);
    (&mut file)
        .take(100)
        .read_to_end(&mut header)
        .map_err(|error| StoreError::io(path, error))?;

    if header.len() < SQLITE_MAGIC.len() || header[..SQLITE_MAGIC.len()] != SQLITE_MAGIC[..] {
        let reason = if length == 0 {
            "the file is empty".to_owned()
        } else {
            "no SQLite header".to_owned()
        };
        return Err(StoreError::NotADatabase {
            path: path.to_owned(),
            reason,
        });
    }
    if header.len() < 100 {
        return Err(StoreError::corrupt(
            path,
            format!("{length} bytes, shorter than the 100-byte SQLite header"),
        ));
    }

    let page_size = match u16::from_be_bytes([header[16], header[17]]) {
        1 => 65536,
        size => u64::from(size),
    };
    let page_count = u64::from(u32::from_be_bytes([
        header[28], header[29], header[30], header[31],
    ]));
    let expected = page_size * page_count;
    if page_size < 512 || !page_size.is_power_of_two() {
        return Err(StoreError::corrupt(
            path,
            format!("invalid page size {page_size} in the SQLite header"),
        ));
    }
    if length < expected {
        return Err(StoreError::corrupt(
            path,
            format!(
                "{length} bytes, but the header counts {page_count} pages of {page_size} bytes ({expected} bytes)"
            ),
        ));
    }
    Ok(())
}

/// Rewrites the `schema_version` row of a finished file.
pub(crate) fn set_schema_version(path: &Path, version: u32) -> Result<(), StoreError> {
    let error =
        |error: rusqlite::Error| StoreError::backend(path, "setting the schema version", error);
    let connection = Connection::open(path).map_err(error)?;
    connection
        .execute(
            "UPDATE meta SET v = ?1 WHERE k = ?2",
            params![
                version.to_le_bytes().to_vec(),
                key::encode(&[crate::store::database::META_SCHEMA_VERSION])
            ],
        )
        .map_err(error)?;
    connection.close().map_err(|(_, e)| error(e))
}
