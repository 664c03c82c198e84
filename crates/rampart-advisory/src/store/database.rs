//! Reading a database: open checks and the keyed lookups.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use zstd::zstd_safe::DDict;

use crate::store::backend::{BackendReader, Table};
use crate::store::codec::{self, EntryView, StoredEpss};
use crate::store::metadata::Metadata;
use crate::store::{
    Backend, FORMAT_MAGIC, PackageAdvisory, SCHEMA_VERSION, StoreError, key, sqlite,
};
use crate::{Advisory, EpssScore, KevEntry, Namespace};

/// Names of the rows of the `meta` table.
pub(crate) const META_FORMAT: &str = "format";
pub(crate) const META_SCHEMA_VERSION: &str = "schema_version";
pub(crate) const META_METADATA: &str = "metadata";
pub(crate) const META_ADVISORY_DICTIONARY: &str = "advisory_dictionary";
pub(crate) const META_AFFECTED_DICTIONARY: &str = "affected_dictionary";

/// A read-only advisory database. It is `Send + Sync`: lookups from many
/// threads run concurrently, each on its own SQLite connection.
pub struct Database {
    path: PathBuf,
    reader: Box<dyn BackendReader>,
    metadata: Metadata,
    namespaces: HashSet<String>,
    advisory_dictionary: Option<DDict<'static>>,
    affected_dictionary: Option<DDict<'static>>,
}

impl Database {
    /// Opens a database file.
    ///
    /// Each way a file can be unusable has its own error: the file is
    /// missing ([`StoreError::Missing`]), is not a rampart advisory database
    /// ([`StoreError::NotADatabase`]), is truncated or damaged
    /// ([`StoreError::Corrupt`]), or has another schema version
    /// ([`StoreError::SchemaVersion`]). Damage past the pages that the open
    /// reads shows up as [`StoreError::Corrupt`] from the lookup that
    /// reaches it.
    pub fn open(path: &Path) -> Result<Database, StoreError> {
        Database::open_with_backend(path, Backend::Sqlite)
    }

    /// Opens a database file written with the given storage engine; for the
    /// benchmark that compares them.
    #[doc(hidden)]
    pub fn open_with_backend(path: &Path, backend: Backend) -> Result<Database, StoreError> {
        let reader: Box<dyn BackendReader> = match backend {
            Backend::Sqlite => Box::new(sqlite::SqliteReader::open(path)?),
            #[cfg(feature = "redb-backend")]
            Backend::Redb => Box::new(crate::store::redb::RedbReader::open(path)?),
        };

        let not_a_database = |reason: String| StoreError::NotADatabase {
            path: path.to_owned(),
            reason,
        };
        let format = match reader.get(Table::Meta, &key::encode(&[META_FORMAT])) {
            Ok(format) => format,
            Err(StoreError::Backend { reason, .. }) => return Err(not_a_database(reason)),
            Err(error) => return Err(error),
        };
        if format.as_deref() != Some(FORMAT_MAGIC.as_bytes()) {
            return Err(not_a_database("no rampart format marker".to_owned()));
        }

        let version = reader
            .get(Table::Meta, &key::encode(&[META_SCHEMA_VERSION]))?
            .and_then(|bytes| <[u8; 4]>::try_from(bytes.as_slice()).ok())
            .map(u32::from_le_bytes)
            .ok_or_else(|| StoreError::corrupt(path, "missing or invalid schema version"))?;
        if version != SCHEMA_VERSION {
            return Err(StoreError::SchemaVersion {
                path: path.to_owned(),
                found: version,
                expected: SCHEMA_VERSION,
            });
        }

        let metadata_json = reader
            .get(Table::Meta, &key::encode(&[META_METADATA]))?
            .ok_or_else(|| StoreError::corrupt(path, "missing metadata"))?;
        let metadata: Metadata = serde_json::from_slice(&metadata_json)
            .map_err(|error| StoreError::corrupt(path, format!("invalid metadata: {error}")))?;

        let advisory_dictionary = load_dictionary(reader.as_ref(), META_ADVISORY_DICTIONARY, path)?;
        let affected_dictionary = load_dictionary(reader.as_ref(), META_AFFECTED_DICTIONARY, path)?;

        let namespaces = metadata
            .namespaces
            .iter()
            .map(|(namespace, _)| namespace.as_str().to_owned())
            .collect();
        Ok(Database {
            path: path.to_owned(),
            reader,
            metadata,
            namespaces,
            advisory_dictionary,
            affected_dictionary,
        })
    }

    pub fn metadata(&self) -> &Metadata {
        &self.metadata
    }

    /// Returns the affected entries of non-withdrawn advisories for a
    /// package, ordered by advisory id and then source. `package` must
    /// already be normalised with [`Namespace::normalize_package`].
    pub fn affected(
        &self,
        namespace: &Namespace,
        package: &str,
    ) -> Result<Vec<PackageAdvisory>, StoreError> {
        // The value is decoded in place in the engine's page, into a reused
        // decompression buffer, so the lookup allocates only the entries.
        let mut decoded = None;
        self.reader.visit(
            Table::Affected,
            &key::encode(&[namespace.as_str(), package]),
            &mut |value| {
                let entries =
                    codec::with_decoded_value(value, self.affected_dictionary.as_ref(), |raw| {
                        codec::decode_entries(raw, namespace, package)
                    });
                decoded = Some(entries.and_then(|entries| entries));
            },
        )?;
        match decoded {
            Some(entries) => {
                entries.map_err(|reason| self.corrupt_value("package index entry", reason))
            }
            None => Ok(Vec::new()),
        }
    }

    /// Looks a package up like [`Database::affected`], but decodes each entry
    /// in place and passes it to `select`. Only the entries for which
    /// `select` returns a value are converted to owned records. The matcher
    /// uses this lookup because evaluating versions needs no owned strings,
    /// and most entries of a package do not affect the installed version.
    pub fn affected_matching<T>(
        &self,
        namespace: &Namespace,
        package: &str,
        mut select: impl FnMut(&EntryView<'_>) -> Option<T>,
    ) -> Result<Vec<(PackageAdvisory, T)>, StoreError> {
        let mut selected = Vec::new();
        let mut outcome = Ok(());
        self.reader.visit(
            Table::Affected,
            &key::encode(&[namespace.as_str(), package]),
            &mut |value| {
                outcome =
                    codec::with_decoded_value(value, self.affected_dictionary.as_ref(), |raw| {
                        codec::visit_entries(raw, |entry| {
                            if let Some(result) = select(entry) {
                                selected
                                    .push((entry.to_package_advisory(namespace, package), result));
                            }
                        })
                    })
                    .and_then(|result| result);
            },
        )?;
        outcome.map_err(|reason| self.corrupt_value("package index entry", reason))?;
        Ok(selected)
    }

    /// Returns the advisories of every source whose id or one of whose
    /// aliases is `id`: first those with the id, then those with the alias,
    /// each group ordered by id and source.
    pub fn advisories(&self, id: &str) -> Result<Vec<Advisory>, StoreError> {
        let prefix = key::encode(&[id]);
        let end = key::prefix_end(&prefix);
        let mut advisories = Vec::new();

        // Blocks are keyed by their first advisory, so the advisories of
        // `id` start in the block at or below the prefix and may go on in
        // blocks whose first key has the prefix.
        let mut blocks: Vec<Vec<u8>> = Vec::new();
        if let Some((_, value)) = self.reader.floor(Table::Advisory, &prefix)? {
            blocks.push(value);
        }
        for (_, value) in self.reader.scan(Table::Advisory, &prefix, &end)? {
            blocks.push(value);
        }
        for value in blocks {
            let raw = self.decompress_block(&value)?;
            let records = codec::block_records(&raw)
                .map_err(|reason| self.corrupt_value("advisory block", reason))?;
            for (record_key, record) in records {
                if record_key.starts_with(&prefix) {
                    advisories.push(self.decode_record(record)?);
                }
            }
        }

        for (alias_key, _) in self.reader.scan(Table::Alias, &prefix, &end)? {
            let components = key::decode(&alias_key)
                .ok_or_else(|| StoreError::corrupt(&self.path, "invalid alias key"))?;
            let [_, advisory_id, source] = components.as_slice() else {
                return Err(StoreError::corrupt(&self.path, "invalid alias key"));
            };
            if advisories
                .iter()
                .any(|known| &known.id == advisory_id && &known.source == source)
            {
                continue;
            }
            if let Some(advisory) = self.advisory(&key::encode(&[advisory_id, source]))? {
                advisories.push(advisory);
            }
        }
        Ok(advisories)
    }

    /// Returns the advisory with the encoded key (id, source).
    fn advisory(&self, advisory_key: &[u8]) -> Result<Option<Advisory>, StoreError> {
        let Some((_, value)) = self.reader.floor(Table::Advisory, advisory_key)? else {
            return Ok(None);
        };
        let raw = self.decompress_block(&value)?;
        let records = codec::block_records(&raw)
            .map_err(|reason| self.corrupt_value("advisory block", reason))?;
        match records.iter().find(|(key, _)| *key == advisory_key) {
            Some((_, record)) => self.decode_record(record).map(Some),
            None => Ok(None),
        }
    }

    fn decode_record(&self, record: &[u8]) -> Result<Advisory, StoreError> {
        codec::from_postcard(record).map_err(|reason| self.corrupt_value("advisory", reason))
    }

    pub fn kev(&self, cve: &str) -> Result<Option<KevEntry>, StoreError> {
        match self.reader.get(Table::Kev, &key::encode(&[cve]))? {
            Some(value) => codec::from_postcard(&value)
                .map(Some)
                .map_err(|reason| self.corrupt_value("KEV entry", reason)),
            None => Ok(None),
        }
    }

    pub fn epss(&self, cve: &str) -> Result<Option<EpssScore>, StoreError> {
        let (bucket, suffix) = codec::epss_bucket(cve);
        let Some(value) = self.reader.get(Table::Epss, &key::encode(&[bucket]))? else {
            return Ok(None);
        };
        let raw = codec::decode_value(&value, None)
            .map_err(|reason| self.corrupt_value("EPSS scores", reason))?;
        let scores: Vec<StoredEpss> = codec::from_postcard(&raw)
            .map_err(|reason| self.corrupt_value("EPSS scores", reason))?;
        Ok(scores
            .into_iter()
            .find(|score| score.suffix == suffix)
            .map(|score| EpssScore {
                cve: cve.to_owned(),
                score: score.score,
                percentile: score.percentile,
                date: score.date,
            }))
    }

    /// Tells whether any non-withdrawn advisory affects a package of the
    /// namespace, so a scan can warn that a distro release has no data.
    pub fn has_namespace(&self, namespace: &Namespace) -> bool {
        self.namespaces.contains(namespace.as_str())
    }

    fn decompress_block(&self, value: &[u8]) -> Result<Vec<u8>, StoreError> {
        codec::decode_value(value, self.advisory_dictionary.as_ref())
            .map_err(|reason| self.corrupt_value("advisory block", reason))
    }

    fn corrupt_value(&self, what: &str, reason: String) -> StoreError {
        StoreError::corrupt(&self.path, format!("invalid {what}: {reason}"))
    }
}

impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Database")
            .field("path", &self.path)
            .field("schema_version", &self.metadata.schema_version)
            .finish_non_exhaustive()
    }
}

/// Loads a zstd dictionary from the `meta` table; an empty value means the
/// values were compressed without one.
fn load_dictionary(
    reader: &dyn BackendReader,
    name: &str,
    path: &Path,
) -> Result<Option<DDict<'static>>, StoreError> {
    match reader.get(Table::Meta, &key::encode(&[name]))? {
        Some(bytes) if !bytes.is_empty() => DDict::try_create(&bytes)
            .map(Some)
            .ok_or_else(|| StoreError::corrupt(path, format!("invalid zstd dictionary {name}"))),
        Some(_) => Ok(None),
        None => Err(StoreError::corrupt(
            path,
            format!("missing zstd dictionary row {name}"),
        )),
    }
}
