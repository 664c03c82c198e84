//! The redb 5 backend, kept for the benchmark that compared it with SQLite
//! (benches/advisory-db.sh). Each store table is one redb table of `&[u8]`
//! keys and values. The builder commits one transaction per batch without
//! syncing, then syncs once at the end and compacts the file.

use std::path::{Path, PathBuf};

use redb::{
    CompactionMode, Durability, ReadOnlyDatabase, ReadTransaction, ReadableDatabase, ReadableTable,
    TableDefinition,
};

use crate::store::StoreError;
use crate::store::backend::{BackendReader, BackendWriter, Row, Table};

fn definition(table: Table) -> TableDefinition<'static, &'static [u8], &'static [u8]> {
    TableDefinition::new(table.name())
}

pub(crate) struct RedbWriter {
    path: PathBuf,
    database: redb::Database,
}

impl RedbWriter {
    pub(crate) fn create(path: &Path) -> Result<RedbWriter, StoreError> {
        let database = redb::Database::create(path)
            .map_err(|error| StoreError::backend(path, "creating the file", error))?;
        Ok(RedbWriter {
            path: path.to_owned(),
            database,
        })
    }
}

impl BackendWriter for RedbWriter {
    fn insert(&mut self, table: Table, rows: &[Row]) -> Result<(), StoreError> {
        let error = |error: redb::Error| StoreError::backend(&self.path, "inserting rows", error);
        let mut transaction = self.database.begin_write().map_err(|e| error(e.into()))?;
        transaction
            .set_durability(Durability::None)
            .map_err(|e| error(e.into()))?;
        {
            let mut handle = transaction
                .open_table(definition(table))
                .map_err(|e| error(e.into()))?;
            for (key, value) in rows {
                handle
                    .insert(key.as_slice(), value.as_slice())
                    .map_err(|e| error(e.into()))?;
            }
        }
        transaction.commit().map_err(|e| error(e.into()))
    }

    fn finish(mut self: Box<Self>) -> Result<(), StoreError> {
        let error =
            |error: redb::Error| StoreError::backend(&self.path, "finishing the file", error);
        let transaction = self.database.begin_write().map_err(|e| error(e.into()))?;
        for table in Table::ALL {
            transaction
                .open_table(definition(table))
                .map_err(|e| error(e.into()))?;
        }
        transaction.commit().map_err(|e| error(e.into()))?;
        while self
            .database
            .compact(CompactionMode::Maximum)
            .map_err(|e| error(e.into()))?
        {}
        Ok(())
    }
}

pub(crate) struct RedbReader {
    path: PathBuf,
    transaction: ReadTransaction,
    _database: ReadOnlyDatabase,
}

impl RedbReader {
    pub(crate) fn open(path: &Path) -> Result<RedbReader, StoreError> {
        if !path.exists() {
            return Err(StoreError::Missing {
                path: path.to_owned(),
            });
        }
        let database = ReadOnlyDatabase::open(path).map_err(|error| StoreError::NotADatabase {
            path: path.to_owned(),
            reason: error.to_string(),
        })?;
        let transaction = database
            .begin_read()
            .map_err(|error| StoreError::backend(path, "reading", error))?;
        Ok(RedbReader {
            path: path.to_owned(),
            transaction,
            _database: database,
        })
    }
}

impl BackendReader for RedbReader {
    fn get(&self, table: Table, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        let error = |error: redb::Error| StoreError::backend(&self.path, "reading", error);
        let handle = self
            .transaction
            .open_table(definition(table))
            .map_err(|e| error(e.into()))?;
        let value = handle.get(key).map_err(|e| error(e.into()))?;
        Ok(value.map(|guard| guard.value().to_vec()))
    }

    fn visit(
        &self,
        table: Table,
        key: &[u8],
        visit: &mut dyn FnMut(&[u8]),
    ) -> Result<bool, StoreError> {
        let error = |error: redb::Error| StoreError::backend(&self.path, "reading", error);
        let handle = self
            .transaction
            .open_table(definition(table))
            .map_err(|e| error(e.into()))?;
        match handle.get(key).map_err(|e| error(e.into()))? {
            Some(guard) => {
                visit(guard.value());
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn floor(&self, table: Table, key: &[u8]) -> Result<Option<Row>, StoreError> {
        let error = |error: redb::Error| StoreError::backend(&self.path, "reading", error);
        let handle = self
            .transaction
            .open_table(definition(table))
            .map_err(|e| error(e.into()))?;
        let mut range = handle.range(..=key).map_err(|e| error(e.into()))?;
        match range.next_back() {
            Some(row) => {
                let (key, value) = row.map_err(|e| error(e.into()))?;
                Ok(Some((key.value().to_vec(), value.value().to_vec())))
            }
            None => Ok(None),
        }
    }

    fn scan(&self, table: Table, start: &[u8], end: &[u8]) -> Result<Vec<Row>, StoreError> {
        let error = |error: redb::Error| StoreError::backend(&self.path, "reading", error);
        let handle = self
            .transaction
            .open_table(definition(table))
            .map_err(|e| error(e.into()))?;
        let mut rows = Vec::new();
        for row in handle.range(start..end).map_err(|e| error(e.into()))? {
            let (key, value) = row.map_err(|e| error(e.into()))?;
            rows.push((key.value().to_vec(), value.value().to_vec()));
        }
        Ok(rows)
    }
}
