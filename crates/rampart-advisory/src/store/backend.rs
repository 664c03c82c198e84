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
    /// EPSS scores by CVE id.
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

    /// Returns the rows whose key starts with `prefix`, in key order.
    fn scan_prefix(&self, table: Table, prefix: &[u8]) -> Result<Vec<Row>, StoreError>;
}
