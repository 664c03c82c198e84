//! The key-value interface that the store needs from a storage engine:
//! a few tables of byte keys and byte values, written once in key order and
//! then read with point lookups and prefix scans.

use crate::store::StoreError;

/// The tables of an advisory database.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Table {
    /// Format magic, schema version, metadata and the zstd dictionary, by name.
    Meta,
    /// Merged advisories by (id, source).
    Advisory,
    /// (alias, id, source) of every alias, with an empty value.
    Alias,
    /// All non-withdrawn affected entries of one (namespace, package).
    Affected,
    /// KEV entries by CVE id.
    Kev,
    /// EPSS scores in buckets of up to 100 CVE ids.
    Epss,
}

impl Table {
    pub(crate) const ALL: [Table; 6] = [
        Table::Meta,
        Table::Advisory,
        Table::Alias,
        Table::Affected,
        Table::Kev,
        Table::Epss,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Table::Meta => "meta",
            Table::Advisory => "advisory",
            Table::Alias => "alias",
            Table::Affected => "affected",
            Table::Kev => "kev",
            Table::Epss => "epss",
        }
    }
}

/// One key and its value.
pub(crate) type Row = (Vec<u8>, Vec<u8>);

/// Writes a new database file.
pub(crate) trait BackendWriter: Send {
    /// Inserts `rows` into `table` in one write transaction. Callers pass
    /// rows in key order where they can, which keeps B-tree pages full.
    fn insert(&mut self, table: Table, rows: &[Row]) -> Result<(), StoreError>;

    /// Completes the file: compacts it and flushes it to disk.
    fn finish(self: Box<Self>) -> Result<(), StoreError>;
}

/// Reads a finished database file from many threads at once.
pub(crate) trait BackendReader: Send + Sync {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;

    /// Looks up `key` and passes the value, borrowed from the engine, to
    /// `visit`; returns whether the key exists.
    fn visit(
        &self,
        table: Table,
        key: &[u8],
        visit: &mut dyn FnMut(&[u8]),
    ) -> Result<bool, StoreError>;

    /// Returns the row with the greatest key at or below `key`.
    fn floor(&self, table: Table, key: &[u8]) -> Result<Option<Row>, StoreError>;

    /// Returns the rows with `start <= key < end`, in key order.
    fn scan(&self, table: Table, start: &[u8], end: &[u8]) -> Result<Vec<Row>, StoreError>;
}
