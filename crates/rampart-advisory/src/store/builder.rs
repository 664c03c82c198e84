//! Writing a database: records are spooled to a temporary file as they
//! arrive, then merged per (source, id), indexed and written in key order.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, Utc};
use rayon::prelude::*;
use zstd::zstd_safe::CDict;

use crate::import::{RecordSink, Skipped};
use crate::store::backend::{BackendWriter, Row, Table};
use crate::store::codec::{self, Compressor, StoredEntryRef, StoredEpss};
use crate::store::database::{
    META_ADVISORY_DICTIONARY, META_AFFECTED_DICTIONARY, META_FORMAT, META_METADATA,
    META_SCHEMA_VERSION,
};
use crate::store::metadata::{BuildMetadata, Metadata, SourceMeta};
use crate::store::spool::{SortedSpool, Spool};
use crate::store::{Backend, FORMAT_MAGIC, SCHEMA_VERSION, StoreError, key, sqlite};
use crate::{Advisory, EpssScore, KevEntry};

/// Records encoded per parallel batch while importing, and groups merged per
/// write transaction while finishing.
const BATCH: usize = 4096;

/// How many skipped records keep their description in the metadata.
const SKIPPED_EXAMPLES: usize = 100;

/// Values sampled to train each zstd dictionary. A dictionary needs some
/// thousand samples to pay off; smaller builds compress without one.
const DICTIONARY_SAMPLES: usize = 4000;
const DICTIONARY_MIN_SAMPLES: usize = 1000;

/// Dictionary sizes: zstd's default for advisories, a smaller one for the
/// short package index values.
const ADVISORY_DICTIONARY_SIZE: usize = 112 * 1024;
const AFFECTED_DICTIONARY_SIZE: usize = 64 * 1024;

/// The zstd level of advisory blocks. In one pair of runs on one million
/// synthetic advisories (benches/advisory-db.sh, 2 cores), level 9 instead
/// of 3 made the file 5 % smaller: 37.5 % instead of 39.3 % of the JSON
/// input. The build took 39 s instead of 27 s.
const ADVISORY_LEVEL: i32 = 9;

/// Writes a new advisory database file.
///
/// Feed the builder through [`RecordSink`] (or the `add_*` methods) and
/// call [`DatabaseBuilder::finish`]. Records with the same source and id
/// are merged into one advisory (see [`DatabaseBuilder::finish`]). Memory
/// contains the keys of the records, the KEV entries and the EPSS scores,
/// while the advisories themselves wait in a temporary file beside the
/// output.
pub struct DatabaseBuilder {
    path: PathBuf,
    writer: Box<dyn BackendWriter>,
    pending: Vec<Advisory>,
    spool: Spool,
    kev: Vec<KevEntry>,
    epss: Vec<EpssScore>,
    skipped_by_file: HashMap<PathBuf, u64>,
    skipped_examples: Vec<String>,
    /// The first error of a [`RecordSink`] call. The trait cannot return
    /// it, so [`DatabaseBuilder::finish`] does.
    failure: Option<StoreError>,
}

impl DatabaseBuilder {
    /// Creates the database file at `path`, which must not exist yet or be
    /// an empty file. Callers build into a temporary path and rename the
    /// file into place after [`DatabaseBuilder::finish`], so readers never
    /// see a partial database.
    pub fn create(path: &Path) -> Result<DatabaseBuilder, StoreError> {
        DatabaseBuilder::create_with_backend(path, Backend::Sqlite)
    }

    /// Creates the database file with the given storage engine, for the
    /// benchmark that compares them.
    #[doc(hidden)]
    pub fn create_with_backend(
        path: &Path,
        backend: Backend,
    ) -> Result<DatabaseBuilder, StoreError> {
        if std::fs::metadata(path).is_ok_and(|metadata| metadata.len() > 0) {
            return Err(StoreError::backend(
                path,
                "creating the database",
                "the file already exists and is not empty; build into a new temporary path",
            ));
        }
        let directory = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        let writer: Box<dyn BackendWriter> = match backend {
            Backend::Sqlite => Box::new(sqlite::SqliteWriter::create(path)?),
            #[cfg(feature = "redb-backend")]
            Backend::Redb => Box::new(crate::store::redb::RedbWriter::create(path)?),
        };
        Ok(DatabaseBuilder {
            path: path.to_owned(),
            writer,
            pending: Vec::with_capacity(BATCH),
            spool: Spool::create(directory, path)?,
            kev: Vec::new(),
            epss: Vec::new(),
            skipped_by_file: HashMap::new(),
            skipped_examples: Vec::new(),
            failure: None,
        })
    }

    pub fn add_advisory(&mut self, advisory: Advisory) -> Result<(), StoreError> {
        self.pending.push(advisory);
        if self.pending.len() >= BATCH {
            self.spool_pending()?;
        }
        Ok(())
    }

    pub fn add_kev(&mut self, entry: KevEntry) -> Result<(), StoreError> {
        self.kev.push(entry);
        Ok(())
    }

    pub fn add_epss(&mut self, score: EpssScore) -> Result<(), StoreError> {
        self.epss.push(score);
        Ok(())
    }

    /// Encodes the pending advisories in parallel and appends them to the spool.
    fn spool_pending(&mut self) -> Result<(), StoreError> {
        let path = &self.path;
        let encoded: Vec<(Vec<u8>, Vec<u8>)> = self
            .pending
            .par_iter()
            .map(|advisory| {
                let record = codec::to_postcard(advisory)
                    .map_err(|reason| StoreError::backend(path, "encoding an advisory", reason))?;
                Ok((key::encode(&[&advisory.id, &advisory.source]), record))
            })
            .collect::<Result<_, StoreError>>()?;
        self.pending.clear();
        for (key, record) in encoded {
            self.spool.push(key, &record)?;
        }
        Ok(())
    }

    /// Merges the records of each (source, id), indexes them by package and
    /// by alias, writes everything with the metadata, and flushes the file
    /// to disk.
    ///
    /// Merging concatenates the affected lists, unions aliases, related ids,
    /// CWEs and references, and drops duplicate severities. It keeps the
    /// first non-empty summary and details, the earliest `published`, and
    /// the newest `modified` and `withdrawn`. A withdrawn advisory is stored for
    /// lookup by id but gets no entries in the package index.
    pub fn finish(mut self, build: BuildMetadata) -> Result<Metadata, StoreError> {
        if let Some(failure) = self.failure.take() {
            return Err(failure);
        }
        self.spool_pending()?;
        tracing::debug!(
            records = self.spool.len(),
            path = %self.path.display(),
            "merging advisory records"
        );

        let started = std::time::Instant::now();
        let directory = self.spool_directory();
        let mut spool = self.spool.into_sorted()?;
        let groups = group_starts(&spool);
        let dictionary = train_advisory_dictionary(&mut spool, &groups, &self.path)?;
        let prepared = prepare_dictionary(dictionary.as_ref(), ADVISORY_LEVEL, &self.path)?;
        tracing::debug!(elapsed = ?started.elapsed(), "sorted and trained the dictionary");

        let mut indexes = Indexes::new(&directory, &self.path)?;
        write_advisories(
            &mut spool,
            &groups,
            prepared.as_ref(),
            self.writer.as_mut(),
            &mut indexes,
            &self.path,
        )?;
        drop(spool);
        tracing::debug!(elapsed = ?started.elapsed(), "wrote the advisories");

        let affected_dictionary =
            write_affected(indexes.affected, self.writer.as_mut(), &self.path)?;
        tracing::debug!(elapsed = ?started.elapsed(), "wrote the package index");
        write_aliases(indexes.aliases, self.writer.as_mut())?;
        let kev_count = write_kev(self.kev, self.writer.as_mut(), &self.path)?;
        let (epss_count, epss_newest_date) =
            write_epss(self.epss, self.writer.as_mut(), &self.path)?;

        let metadata = Metadata {
            schema_version: SCHEMA_VERSION,
            built_at: build.built_at,
            rampart_version: build.rampart_version,
            sources: source_metadata(indexes.sources, &self.skipped_by_file, &build.inputs),
            inputs: build.inputs,
            namespaces: indexes
                .namespaces
                .into_iter()
                .map(|(namespace, count)| (crate::Namespace::from_key(&namespace), count))
                .collect(),
            kev_count,
            epss_count,
            epss_newest_date,
            skipped: self.skipped_by_file.values().sum(),
            skipped_examples: self.skipped_examples,
        };
        let metadata_json = serde_json::to_vec(&metadata)
            .map_err(|error| StoreError::backend(&self.path, "encoding the metadata", error))?;
        let meta_rows: Vec<Row> = vec![
            (
                key::encode(&[META_ADVISORY_DICTIONARY]),
                dictionary.unwrap_or_default(),
            ),
            (
                key::encode(&[META_AFFECTED_DICTIONARY]),
                affected_dictionary.unwrap_or_default(),
            ),
            (
                key::encode(&[META_FORMAT]),
                FORMAT_MAGIC.as_bytes().to_vec(),
            ),
            (key::encode(&[META_METADATA]), metadata_json),
            (
                key::encode(&[META_SCHEMA_VERSION]),
                SCHEMA_VERSION.to_le_bytes().to_vec(),
            ),
        ];
        self.writer.insert(Table::Meta, &meta_rows)?;
        self.writer.finish()?;
        tracing::debug!(elapsed = ?started.elapsed(), "finished the database");
        Ok(metadata)
    }

    fn spool_directory(&self) -> PathBuf {
        match self.path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_owned(),
            _ => PathBuf::from("."),
        }
    }
}

impl RecordSink for DatabaseBuilder {
    fn advisory(&mut self, advisory: Advisory) {
        if self.failure.is_none()
            && let Err(error) = self.add_advisory(advisory)
        {
            self.failure = Some(error);
        }
    }

    fn kev(&mut self, entry: KevEntry) {
        self.kev.push(entry);
    }

    fn epss(&mut self, score: EpssScore) {
        self.epss.push(score);
    }

    fn skipped(&mut self, skipped: Skipped) {
        *self
            .skipped_by_file
            .entry(skipped.file.clone())
            .or_default() += 1;
        if self.skipped_examples.len() < SKIPPED_EXAMPLES {
            self.skipped_examples.push(skipped.to_string());
        }
    }
}

/// Returns the index of the first entry of every run of equal keys.
fn group_starts(spool: &SortedSpool) -> Vec<usize> {
    let mut starts = Vec::new();
    for (index, entry) in spool.entries.iter().enumerate() {
        if index == 0 || spool.entries[index - 1].key != entry.key {
            starts.push(index);
        }
    }
    starts
}

fn group_range(spool: &SortedSpool, groups: &[usize], group: usize) -> std::ops::Range<usize> {
    let end = groups
        .get(group + 1)
        .copied()
        .unwrap_or(spool.entries.len());
    groups[group]..end
}

/// Reads the spooled parts of the groups `range`, each group a list of
/// postcard records.
fn read_groups(
    spool: &mut SortedSpool,
    groups: &[usize],
    range: std::ops::Range<usize>,
) -> Result<Vec<Vec<Vec<u8>>>, StoreError> {
    let mut records = Vec::with_capacity(range.len());
    for group in range {
        let parts = group_range(spool, groups, group)
            .map(|index| spool.read(index))
            .collect::<Result<Vec<_>, _>>()?;
        records.push(parts);
    }
    Ok(records)
}

/// Decodes and merges the spooled parts of one (source, id).
fn merge_parts(parts: &[Vec<u8>], path: &Path) -> Result<Advisory, StoreError> {
    let decoded = parts
        .iter()
        .map(|part| codec::from_postcard::<Advisory>(part))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|reason| StoreError::backend(path, "reading a spooled advisory", reason))?;
    codec::merge(decoded)
        .ok_or_else(|| StoreError::backend(path, "merging advisories", "empty group"))
}

/// Trains a zstd dictionary on an even sample of the merged advisories.
/// Returns `None` when there are too few of them.
fn train_advisory_dictionary(
    spool: &mut SortedSpool,
    groups: &[usize],
    path: &Path,
) -> Result<Option<Vec<u8>>, StoreError> {
    if groups.len() < DICTIONARY_MIN_SAMPLES {
        return Ok(None);
    }
    let step = groups.len().div_ceil(DICTIONARY_SAMPLES);
    let mut samples = Vec::with_capacity(DICTIONARY_SAMPLES);
    for group in (0..groups.len()).step_by(step) {
        let parts = read_groups(spool, groups, group..group + 1)?;
        let advisory = merge_parts(&parts[0], path)?;
        let record = codec::to_postcard(&advisory)
            .map_err(|reason| StoreError::backend(path, "encoding an advisory", reason))?;
        samples.push(record);
    }
    Ok(train_dictionary(&samples, ADVISORY_DICTIONARY_SIZE))
}

/// Trains a zstd dictionary. Returns `None` when zstd finds too little in
/// the samples, and the values are then compressed without one.
fn train_dictionary(samples: &[Vec<u8>], size: usize) -> Option<Vec<u8>> {
    match zstd::dict::from_samples(samples, size) {
        Ok(dictionary) => Some(dictionary),
        Err(error) => {
            tracing::debug!(%error, "zstd dictionary training failed; compressing without one");
            None
        }
    }
}

/// Prepares a trained dictionary for compression at `level`.
fn prepare_dictionary(
    dictionary: Option<&Vec<u8>>,
    level: i32,
    path: &Path,
) -> Result<Option<CDict<'static>>, StoreError> {
    let Some(bytes) = dictionary else {
        return Ok(None);
    };
    CDict::try_create(bytes, level).map(Some).ok_or_else(|| {
        StoreError::backend(path, "preparing a zstd dictionary", "invalid dictionary")
    })
}

/// The indexes that the advisory pass collects for the later tables.
struct Indexes {
    /// Affected entries keyed by (namespace, package).
    affected: Spool,
    /// Keys (alias, id, source).
    aliases: Vec<Vec<u8>>,
    sources: BTreeMap<String, SourceMeta>,
    namespaces: BTreeMap<String, u64>,
}

impl Indexes {
    fn new(directory: &Path, path: &Path) -> Result<Indexes, StoreError> {
        Ok(Indexes {
            affected: Spool::create(directory, path)?,
            aliases: Vec::new(),
            sources: BTreeMap::new(),
            namespaces: BTreeMap::new(),
        })
    }
}

/// One merged advisory, encoded for every table it goes to.
struct Encoded {
    key: Vec<u8>,
    /// The postcard record, compressed later with its block.
    record: Vec<u8>,
    /// ((namespace, package) key, namespace, encoded entry)
    entries: Vec<(Vec<u8>, String, Vec<u8>)>,
    aliases: Vec<Vec<u8>>,
    source: String,
    modified: Option<DateTime<Utc>>,
    withdrawn: bool,
}

fn encode_advisory(parts: &[Vec<u8>], path: &Path) -> Result<Encoded, StoreError> {
    let advisory = merge_parts(parts, path)?;
    let encoding_error = |reason| StoreError::backend(path, "encoding an advisory", reason);

    let record = codec::to_postcard(&advisory).map_err(encoding_error)?;

    let mut entries = Vec::new();
    if advisory.withdrawn.is_none() {
        for affected in &advisory.affected {
            let entry = StoredEntryRef {
                source: &advisory.source,
                id: &advisory.id,
                aliases: &advisory.aliases,
                ranges: &affected.ranges,
                versions: &affected.versions,
                status: affected.status,
                urgency: affected.urgency.as_deref(),
                severities: &affected.severities,
            };
            entries.push((
                key::encode(&[affected.namespace.as_str(), &affected.package]),
                affected.namespace.as_str().to_owned(),
                codec::to_postcard(&entry).map_err(encoding_error)?,
            ));
        }
    }

    let aliases = advisory
        .aliases
        .iter()
        .filter(|alias| **alias != advisory.id)
        .map(|alias| key::encode(&[alias, &advisory.id, &advisory.source]))
        .collect();

    Ok(Encoded {
        key: key::encode(&[&advisory.id, &advisory.source]),
        record,
        entries,
        aliases,
        source: advisory.source,
        modified: advisory.modified,
        withdrawn: advisory.withdrawn.is_some(),
    })
}

/// Merges and writes every advisory in blocks (see [`codec::Block`]), one
/// write transaction per [`BATCH`] advisories, and collects the package and
/// alias indexes.
fn write_advisories(
    spool: &mut SortedSpool,
    groups: &[usize],
    dictionary: Option<&CDict<'static>>,
    writer: &mut dyn BackendWriter,
    indexes: &mut Indexes,
    path: &Path,
) -> Result<(), StoreError> {
    for first in (0..groups.len()).step_by(BATCH) {
        let batch = read_groups(spool, groups, first..(first + BATCH).min(groups.len()))?;
        let encoded: Vec<Encoded> = batch
            .par_iter()
            .map(|parts| encode_advisory(parts, path))
            .collect::<Result<_, _>>()?;

        let mut blocks = vec![codec::Block::default()];
        for advisory in encoded {
            let source = indexes.sources.entry(advisory.source.clone()).or_default();
            source.source = advisory.source;
            source.records += 1;
            source.withdrawn += u64::from(advisory.withdrawn);
            source.newest_modified = source.newest_modified.max(advisory.modified);

            for (entry_key, namespace, entry) in advisory.entries {
                *indexes.namespaces.entry(namespace).or_default() += 1;
                indexes.affected.push(entry_key, &entry)?;
            }
            indexes.aliases.extend(advisory.aliases);

            let block = blocks.last_mut().expect("blocks starts with one block");
            if block.is_full() {
                blocks.push(codec::Block::default());
            }
            blocks
                .last_mut()
                .expect("blocks is not empty")
                .push(advisory.key, advisory.record);
        }

        let rows = blocks
            .into_par_iter()
            .filter(|block| !block.is_empty())
            .map(|block| {
                block.finish(Compressor::new(dictionary)).map_err(|reason| {
                    StoreError::backend(path, "encoding an advisory block", reason)
                })
            })
            .collect::<Result<Vec<Row>, _>>()?;
        writer.insert(Table::Advisory, &rows)?;
    }
    Ok(())
}

/// Writes one row per (namespace, package): the postcard sequence of its
/// entries, which is the entry count as a varint followed by the entries.
/// The values are compressed with a dictionary of their own, trained on a
/// sample of them, and the function returns that dictionary.
fn write_affected(
    affected: Spool,
    writer: &mut dyn BackendWriter,
    path: &Path,
) -> Result<Option<Vec<u8>>, StoreError> {
    let mut spool = affected.into_sorted()?;
    let groups = group_starts(&spool);

    let mut dictionary = None;
    if groups.len() >= DICTIONARY_MIN_SAMPLES {
        let step = groups.len().div_ceil(DICTIONARY_SAMPLES);
        let mut samples = Vec::with_capacity(DICTIONARY_SAMPLES);
        for group in (0..groups.len()).step_by(step) {
            let entries = read_groups(&mut spool, &groups, group..group + 1)?;
            samples.push(affected_value(&entries[0]));
        }
        dictionary = train_dictionary(&samples, AFFECTED_DICTIONARY_SIZE);
    }
    let prepared = prepare_dictionary(dictionary.as_ref(), codec::ZSTD_LEVEL, path)?;

    for first in (0..groups.len()).step_by(BATCH) {
        let range = first..(first + BATCH).min(groups.len());
        let keys: Vec<Vec<u8>> = range
            .clone()
            .map(|group| spool.entries[groups[group]].key.to_vec())
            .collect();
        let batch = read_groups(&mut spool, &groups, range)?;
        let values: Vec<Vec<u8>> = batch
            .par_iter()
            .map(|entries| {
                Compressor::new(prepared.as_ref())
                    .encode(&affected_value(entries))
                    .map_err(|reason| {
                        StoreError::backend(path, "encoding the package index", reason)
                    })
            })
            .collect::<Result<_, _>>()?;
        let rows: Vec<Row> = keys.into_iter().zip(values).collect();
        writer.insert(Table::Affected, &rows)?;
    }
    Ok(dictionary)
}

/// Concatenates encoded entries into a postcard sequence.
fn affected_value(entries: &[Vec<u8>]) -> Vec<u8> {
    let mut raw = Vec::with_capacity(entries.iter().map(Vec::len).sum::<usize>() + 3);
    codec::push_varint(&mut raw, entries.len() as u64);
    for entry in entries {
        raw.extend_from_slice(entry);
    }
    raw
}

fn write_aliases(
    mut aliases: Vec<Vec<u8>>,
    writer: &mut dyn BackendWriter,
) -> Result<(), StoreError> {
    aliases.par_sort_unstable();
    aliases.dedup();
    for chunk in aliases.chunks(BATCH * 4) {
        let rows: Vec<Row> = chunk.iter().map(|key| (key.clone(), Vec::new())).collect();
        writer.insert(Table::Alias, &rows)?;
    }
    Ok(())
}

/// Writes the KEV entries, the last one of a CVE winning, and returns the
/// count.
fn write_kev(
    kev: Vec<KevEntry>,
    writer: &mut dyn BackendWriter,
    path: &Path,
) -> Result<u64, StoreError> {
    let by_cve: BTreeMap<Vec<u8>, KevEntry> = kev
        .into_iter()
        .map(|entry| (key::encode(&[&entry.cve]), entry))
        .collect();
    let rows = by_cve
        .iter()
        .map(|(key, entry)| {
            let value = codec::to_postcard(entry)
                .map_err(|reason| StoreError::backend(path, "encoding a KEV entry", reason))?;
            Ok((key.clone(), value))
        })
        .collect::<Result<Vec<Row>, StoreError>>()?;
    writer.insert(Table::Kev, &rows)?;
    Ok(rows.len() as u64)
}

/// Writes the EPSS scores, the last one of a CVE winning, in buckets of
/// the CVE ids that differ only in their last two bytes (see
/// [`codec::epss_bucket`]). Returns the count and the newest score date.
fn write_epss(
    epss: Vec<EpssScore>,
    writer: &mut dyn BackendWriter,
    path: &Path,
) -> Result<(u64, Option<NaiveDate>), StoreError> {
    let newest = epss.iter().filter_map(|score| score.date).max();
    let by_cve: BTreeMap<String, EpssScore> = epss
        .into_iter()
        .map(|score| (score.cve.clone(), score))
        .collect();
    let count = by_cve.len() as u64;

    let mut buckets: BTreeMap<Vec<u8>, Vec<StoredEpss>> = BTreeMap::new();
    for (cve, score) in by_cve {
        let (bucket, suffix) = codec::epss_bucket(&cve);
        buckets
            .entry(key::encode(&[bucket]))
            .or_default()
            .push(StoredEpss {
                suffix: suffix.to_owned(),
                score: score.score,
                percentile: score.percentile,
                date: score.date,
            });
    }

    let buckets: Vec<(Vec<u8>, Vec<StoredEpss>)> = buckets.into_iter().collect();
    for chunk in buckets.chunks(BATCH) {
        let rows = chunk
            .par_iter()
            .map(|(key, scores)| {
                let encoding_error =
                    |reason| StoreError::backend(path, "encoding EPSS scores", reason);
                let raw = codec::to_postcard(scores).map_err(encoding_error)?;
                let value = Compressor::new(None).encode(&raw).map_err(encoding_error)?;
                Ok((key.clone(), value))
            })
            .collect::<Result<Vec<Row>, StoreError>>()?;
        writer.insert(Table::Epss, &rows)?;
    }
    Ok((count, newest))
}

/// Completes the per-source counts with the skipped records, attributed to
/// the feed of the input whose location contains the skipped file.
fn source_metadata(
    mut sources: BTreeMap<String, SourceMeta>,
    skipped_by_file: &HashMap<PathBuf, u64>,
    inputs: &[crate::store::InputMeta],
) -> Vec<SourceMeta> {
    for (file, count) in skipped_by_file {
        let file = file.to_string_lossy();
        let feed = inputs
            .iter()
            .filter(|input| file.starts_with(input.location.as_str()))
            .max_by_key(|input| input.location.len())
            .map_or("unknown", |input| input.feed.as_str());
        let source = sources.entry(feed.to_owned()).or_default();
        source.source = feed.to_owned();
        source.skipped += count;
    }
    sources.into_values().collect()
}
