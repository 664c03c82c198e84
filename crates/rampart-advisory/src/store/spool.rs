//! An append-only temporary file of encoded records with an in-memory index
//! of (key, offset, length), so a build holds only the keys in memory, not
//! the records, and can read the records back grouped in key order.

use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use rayon::slice::ParallelSliceMut;

use crate::store::StoreError;

/// One spooled record.
pub(crate) struct SpoolEntry {
    pub key: Box<[u8]>,
    offset: u64,
    length: u32,
}

pub(crate) struct Spool {
    /// The database path the spool belongs to, for error messages.
    path: PathBuf,
    writer: BufWriter<File>,
    written: u64,
    entries: Vec<SpoolEntry>,
}

impl Spool {
    /// Creates an unnamed temporary file in `directory`. The file lives on
    /// the file system of the database rather than in a `/tmp` that may be
    /// memory-backed, and the operating system removes it on close.
    pub(crate) fn create(directory: &Path, database: &Path) -> Result<Spool, StoreError> {
        let file =
            tempfile::tempfile_in(directory).map_err(|error| StoreError::io(directory, error))?;
        Ok(Spool {
            path: database.to_owned(),
            writer: BufWriter::with_capacity(1 << 20, file),
            written: 0,
            entries: Vec::new(),
        })
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn push(&mut self, key: Vec<u8>, record: &[u8]) -> Result<(), StoreError> {
        let length = u32::try_from(record.len()).map_err(|_| {
            StoreError::backend(&self.path, "spooling a record", "record larger than 4 GiB")
        })?;
        self.writer
            .write_all(record)
            .map_err(|error| StoreError::io(&self.path, error))?;
        self.entries.push(SpoolEntry {
            key: key.into_boxed_slice(),
            offset: self.written,
            length,
        });
        self.written += u64::from(length);
        Ok(())
    }

    /// Sorts the index by key, keeping the push order of equal keys, and
    /// returns a reader of the records.
    pub(crate) fn into_sorted(mut self) -> Result<SortedSpool, StoreError> {
        self.writer
            .flush()
            .map_err(|error| StoreError::io(&self.path, error))?;
        let file = self
            .writer
            .into_inner()
            .map_err(|error| StoreError::io(&self.path, error.into_error()))?;
        self.entries.par_sort_by(|a, b| a.key.cmp(&b.key));
        Ok(SortedSpool {
            path: self.path,
            file,
            entries: self.entries,
        })
    }
}

pub(crate) struct SortedSpool {
    path: PathBuf,
    file: File,
    pub entries: Vec<SpoolEntry>,
}

impl SortedSpool {
    /// Reads the record of one entry.
    pub(crate) fn read(&mut self, index: usize) -> Result<Vec<u8>, StoreError> {
        let entry = &self.entries[index];
        let mut record = vec![0; entry.length as usize];
        self.file
            .seek(SeekFrom::Start(entry.offset))
            .and_then(|_| self.file.read_exact(&mut record))
            .map_err(|error| StoreError::io(&self.path, error))?;
        Ok(record)
    }
}
