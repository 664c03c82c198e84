//! Value encodings of the store: postcard for every record, zstd for the
//! large ones, and the merge of the records of one (source, id).

use std::cell::RefCell;

use chrono::NaiveDate;
use rampart_version::osv::{Event, Range};
use serde::{Deserialize, Serialize};
use zstd::zstd_safe::{CCtx, CDict, DCtx, DDict};

use crate::{Advisory, AffectedPackage, Namespace, Severity, Status};

/// The first byte of a value: how the rest is encoded.
const TAG_RAW: u8 = 0;
const TAG_ZSTD: u8 = 1;

/// The largest decompressed value accepted, so a corrupted length field
/// cannot make a lookup allocate without bound.
const MAX_VALUE_LEN: usize = 256 << 20;

/// The zstd level of the package index, of EPSS buckets and of values
/// compressed without a dictionary (zstd's default level).
pub(crate) const ZSTD_LEVEL: i32 = 3;

/// Values shorter than this are stored raw: zstd's frame header would eat
/// the gain.
const MIN_COMPRESSED_LEN: usize = 64;

/// An affected entry as the `affected` table stores it. The namespace and
/// package are the row's key, so they are not repeated.
#[derive(Serialize)]
pub(crate) struct StoredEntryRef<'a> {
    pub source: &'a str,
    pub id: &'a str,
    pub aliases: &'a [String],
    pub ranges: &'a [Range],
    pub versions: &'a [String],
    pub status: Status,
    pub urgency: Option<&'a str>,
    pub severities: &'a [Severity],
}

/// The owned form of [`StoredEntryRef`], with the same postcard encoding.
#[derive(Deserialize)]
pub(crate) struct StoredEntry {
    pub source: String,
    pub id: String,
    pub aliases: Vec<String>,
    pub ranges: Vec<Range>,
    pub versions: Vec<String>,
    pub status: Status,
    pub urgency: Option<String>,
    pub severities: Vec<Severity>,
}

impl StoredEntry {
    pub(crate) fn into_package_advisory(
        self,
        namespace: &Namespace,
        package: &str,
    ) -> super::PackageAdvisory {
        super::PackageAdvisory {
            source: self.source,
            id: self.id,
            aliases: self.aliases,
            affected: AffectedPackage {
                namespace: namespace.clone(),
                package: package.to_owned(),
                ranges: self.ranges,
                versions: self.versions,
                status: self.status,
                urgency: self.urgency,
                severities: self.severities,
            },
        }
    }
}

/// A severity decoded in place, with the encoding of [`Severity`].
#[derive(Deserialize)]
pub(crate) struct SeverityView<'a> {
    #[serde(borrow)]
    pub source: &'a str,
    pub kind: crate::SeverityKind,
    #[serde(borrow)]
    pub vector: Option<&'a str>,
    pub score: Option<f32>,
    pub rating: crate::Rating,
}

impl SeverityView<'_> {
    fn to_owned_severity(&self) -> Severity {
        Severity {
            source: self.source.to_owned(),
            kind: self.kind,
            vector: self.vector.map(str::to_owned),
            score: self.score,
            rating: self.rating,
        }
    }
}

/// An affected entry decoded in place from the decompressed value, with the
/// encoding of [`StoredEntry`]: its strings borrow the value's bytes, so a
/// lookup that keeps few of its entries allocates only for those.
#[derive(Deserialize)]
pub struct EntryView<'a> {
    #[serde(borrow)]
    pub source: &'a str,
    #[serde(borrow)]
    pub id: &'a str,
    #[serde(borrow)]
    pub aliases: Vec<&'a str>,
    #[serde(borrow)]
    pub ranges: Vec<Range<&'a str>>,
    #[serde(borrow)]
    pub versions: Vec<&'a str>,
    pub status: Status,
    #[serde(borrow)]
    pub urgency: Option<&'a str>,
    #[serde(borrow)]
    severities: Vec<SeverityView<'a>>,
}

impl EntryView<'_> {
    /// Converts the entry into the owned form [`Database::affected`] returns.
    ///
    /// [`Database::affected`]: super::Database::affected
    pub fn to_package_advisory(
        &self,
        namespace: &Namespace,
        package: &str,
    ) -> super::PackageAdvisory {
        let ranges = self
            .ranges
            .iter()
            .map(|range| Range {
                range_type: range.range_type,
                events: range
                    .events
                    .iter()
                    .map(|event| match event {
                        Event::Introduced(v) => Event::Introduced((*v).to_owned()),
                        Event::Fixed(v) => Event::Fixed((*v).to_owned()),
                        Event::LastAffected(v) => Event::LastAffected((*v).to_owned()),
                        Event::Limit(v) => Event::Limit((*v).to_owned()),
                    })
                    .collect(),
            })
            .collect();
        super::PackageAdvisory {
            source: self.source.to_owned(),
            id: self.id.to_owned(),
            aliases: self
                .aliases
                .iter()
                .map(|alias| (*alias).to_owned())
                .collect(),
            affected: AffectedPackage {
                namespace: namespace.clone(),
                package: package.to_owned(),
                ranges,
                versions: self.versions.iter().map(|v| (*v).to_owned()).collect(),
                status: self.status,
                urgency: self.urgency.map(str::to_owned),
                severities: self
                    .severities
                    .iter()
                    .map(SeverityView::to_owned_severity)
                    .collect(),
            },
        }
    }
}

/// Decodes the entries of an `affected` row one by one in place and passes
/// each to `visit`.
pub(crate) fn visit_entries(
    raw: &[u8],
    mut visit: impl FnMut(&EntryView<'_>),
) -> Result<(), String> {
    let mut rest = raw;
    let (count, tail) = postcard::take_from_bytes::<u64>(rest).map_err(|e| e.to_string())?;
    rest = tail;
    for _ in 0..count {
        let (entry, tail) =
            postcard::take_from_bytes::<EntryView<'_>>(rest).map_err(|e| e.to_string())?;
        visit(&entry);
        rest = tail;
    }
    Ok(())
}

/// Decodes the value of an `affected` row straight into the lookup's
/// result, without an intermediate `Vec<StoredEntry>`.
pub(crate) fn decode_entries(
    raw: &[u8],
    namespace: &Namespace,
    package: &str,
) -> Result<Vec<super::PackageAdvisory>, String> {
    use serde::de::{DeserializeSeed, SeqAccess, Visitor};

    struct Entries<'a> {
        namespace: &'a Namespace,
        package: &'a str,
    }

    impl<'de> Visitor<'de> for Entries<'_> {
        type Value = Vec<super::PackageAdvisory>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a sequence of package index entries")
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            // The count comes from the file, so it only hints the capacity.
            let mut entries = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(1024));
            while let Some(entry) = seq.next_element::<StoredEntry>()? {
                entries.push(entry.into_package_advisory(self.namespace, self.package));
            }
            Ok(entries)
        }
    }

    impl<'de> DeserializeSeed<'de> for Entries<'_> {
        type Value = Vec<super::PackageAdvisory>;

        fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }

    let mut deserializer = postcard::Deserializer::from_bytes(raw);
    Entries { namespace, package }
        .deserialize(&mut deserializer)
        .map_err(|error| error.to_string())
}

/// An EPSS score as the `epss` table stores it, in the bucket of its CVE id.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEpss {
    /// The CVE id without the bucket's prefix.
    pub suffix: String,
    pub score: f32,
    pub percentile: f32,
    pub date: Option<NaiveDate>,
}

/// Splits a CVE id into the key of its EPSS bucket and the rest: all but
/// the last two bytes (less when that would split a character), so a
/// bucket holds up to 100 consecutive CVE numbers. With one row per score, the 360,142 scores of the corpus took
/// 12.6 MB, 35 bytes each for 9 bytes of score.
pub(crate) fn epss_bucket(cve: &str) -> (&str, &str) {
    let mut split = cve.len().saturating_sub(2);
    while !cve.is_char_boundary(split) {
        split -= 1;
    }
    cve.split_at(split)
}

pub(crate) fn to_postcard<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, String> {
    postcard::to_stdvec(value).map_err(|error| error.to_string())
}

pub(crate) fn from_postcard<'a, T: Deserialize<'a>>(bytes: &'a [u8]) -> Result<T, String> {
    postcard::from_bytes(bytes).map_err(|error| error.to_string())
}

/// Compresses stored values, with or without a trained dictionary.
#[derive(Clone, Copy)]
pub(crate) struct Compressor<'d> {
    dictionary: Option<&'d CDict<'static>>,
}

thread_local! {
    static COMPRESSION_CONTEXT: RefCell<CCtx<'static>> = RefCell::new(CCtx::create());
    static DECOMPRESSION_CONTEXT: RefCell<DCtx<'static>> = RefCell::new(DCtx::create());
}

impl<'d> Compressor<'d> {
    pub(crate) fn new(dictionary: Option<&'d CDict<'static>>) -> Self {
        Compressor { dictionary }
    }

    /// Encodes `raw` as a stored value: a tag byte, then either `raw`
    /// itself or its length (u32, little-endian) and a zstd frame.
    pub(crate) fn encode(&self, raw: &[u8]) -> Result<Vec<u8>, String> {
        if raw.len() < MIN_COMPRESSED_LEN || raw.len() > MAX_VALUE_LEN {
            return Ok(tagged_raw(raw));
        }

        let mut frame = Vec::with_capacity(zstd::zstd_safe::compress_bound(raw.len()));
        COMPRESSION_CONTEXT.with(|context| {
            let mut context = context.borrow_mut();
            let written = match self.dictionary {
                Some(dictionary) => context.compress_using_cdict(&mut frame, raw, dictionary),
                None => context.compress(&mut frame, raw, ZSTD_LEVEL),
            };
            written.map_err(|code| zstd::zstd_safe::get_error_name(code).to_owned())
        })?;

        // A compressed value is 5 bytes of header and the frame, a raw one 1.
        if frame.len() + 5 > raw.len() {
            return Ok(tagged_raw(raw));
        }
        let length = u32::try_from(raw.len()).map_err(|error| error.to_string())?;
        let mut value = Vec::with_capacity(frame.len() + 5);
        value.push(TAG_ZSTD);
        value.extend_from_slice(&length.to_le_bytes());
        value.extend_from_slice(&frame);
        Ok(value)
    }
}

fn tagged_raw(raw: &[u8]) -> Vec<u8> {
    let mut value = Vec::with_capacity(raw.len() + 1);
    value.push(TAG_RAW);
    value.extend_from_slice(raw);
    value
}

/// Decodes a stored value made by [`Compressor::encode`].
pub(crate) fn decode_value(
    value: &[u8],
    dictionary: Option<&DDict<'static>>,
) -> Result<Vec<u8>, String> {
    with_decoded_value(value, dictionary, |raw| raw.to_vec())
}

thread_local! {
    /// The decompression buffer of [`with_decoded_value`], kept between
    /// lookups: allocating a buffer of some kilobytes per lookup made
    /// glibc's malloc consolidate its free lists every time.
    static DECOMPRESSION_BUFFER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// Decodes a stored value and passes the raw bytes to `visit`, without
/// copying a raw value and without allocating for a compressed one.
pub(crate) fn with_decoded_value<T>(
    value: &[u8],
    dictionary: Option<&DDict<'static>>,
    visit: impl FnOnce(&[u8]) -> T,
) -> Result<T, String> {
    match value {
        [TAG_RAW, raw @ ..] => Ok(visit(raw)),
        [TAG_ZSTD, a, b, c, d, frame @ ..] => {
            let length = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
            if length > MAX_VALUE_LEN {
                return Err(format!(
                    "value claims {length} bytes, above the limit of {MAX_VALUE_LEN}"
                ));
            }
            DECOMPRESSION_BUFFER.with(|buffer| {
                // A reentrant call (none exists today) gets a buffer of its own.
                let mut own = Vec::new();
                let mut borrowed = buffer.try_borrow_mut();
                let raw = match borrowed.as_deref_mut() {
                    Ok(shared) => shared,
                    Err(_) => &mut own,
                };
                raw.clear();
                raw.reserve(length);
                DECOMPRESSION_CONTEXT.with(|context| {
                    let mut context = context.borrow_mut();
                    let result = match dictionary {
                        Some(dictionary) => context.decompress_using_ddict(raw, frame, dictionary),
                        None => context.decompress(raw, frame),
                    };
                    result.map_err(|code| zstd::zstd_safe::get_error_name(code).to_owned())
                })?;
                if raw.len() != length {
                    return Err(format!(
                        "value decompressed to {} bytes, expected {length}",
                        raw.len()
                    ));
                }
                Ok(visit(raw))
            })
        }
        [] => Err("empty value".to_owned()),
        _ => Err(format!("unknown value encoding {}", value[0])),
    }
}

/// The maximum advisories and raw bytes of one block.
const BLOCK_RECORDS: usize = 16;
const BLOCK_BYTES: usize = 16 * 1024;

/// Consecutive advisories (in key order) compressed as one value, keyed by
/// the key of the first. On 20,000 synthetic advisories, blocks of 16 made
/// the compressed values 21 % smaller than one value per advisory with the
/// same dictionary, and a block saves the keys and B-tree cells of 15
/// advisories. The raw block is a varint
/// count, then for each advisory a varint key length, the key, a varint
/// record length and the postcard record.
#[derive(Default)]
pub(crate) struct Block {
    first_key: Option<Vec<u8>>,
    count: usize,
    raw: Vec<u8>,
}

impl Block {
    pub(crate) fn is_empty(&self) -> bool {
        self.count == 0
    }

    pub(crate) fn is_full(&self) -> bool {
        self.count >= BLOCK_RECORDS || self.raw.len() >= BLOCK_BYTES
    }

    pub(crate) fn push(&mut self, key: Vec<u8>, record: Vec<u8>) {
        push_varint(&mut self.raw, key.len() as u64);
        self.raw.extend_from_slice(&key);
        push_varint(&mut self.raw, record.len() as u64);
        self.raw.extend_from_slice(&record);
        self.count += 1;
        self.first_key.get_or_insert(key);
    }

    /// Returns the block's row: the first key and the compressed value.
    pub(crate) fn finish(self, compressor: Compressor<'_>) -> Result<(Vec<u8>, Vec<u8>), String> {
        let mut raw = Vec::with_capacity(self.raw.len() + 3);
        push_varint(&mut raw, self.count as u64);
        raw.extend_from_slice(&self.raw);
        let value = compressor.encode(&raw)?;
        Ok((self.first_key.unwrap_or_default(), value))
    }
}

/// The encoded key and the postcard record of one advisory of a block.
pub(crate) type BlockRecord<'a> = (&'a [u8], &'a [u8]);

/// Splits a raw block into its records.
pub(crate) fn block_records(mut raw: &[u8]) -> Result<Vec<BlockRecord<'_>>, String> {
    let count = read_varint(&mut raw)?;
    let mut records = Vec::new();
    for _ in 0..count {
        let key = read_slice(&mut raw)?;
        let record = read_slice(&mut raw)?;
        records.push((key, record));
    }
    if !raw.is_empty() {
        return Err(format!(
            "{} bytes after the last record of a block",
            raw.len()
        ));
    }
    Ok(records)
}

fn read_slice<'a>(raw: &mut &'a [u8]) -> Result<&'a [u8], String> {
    let length = usize::try_from(read_varint(raw)?).map_err(|error| error.to_string())?;
    if length > raw.len() {
        return Err(format!(
            "a block field of {length} bytes overruns the block"
        ));
    }
    let (field, rest) = raw.split_at(length);
    *raw = rest;
    Ok(field)
}

/// Appends a LEB128 varint, postcard's encoding of lengths.
pub(crate) fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

fn read_varint(raw: &mut &[u8]) -> Result<u64, String> {
    let mut value = 0u64;
    for shift in (0..64).step_by(7) {
        let Some((&byte, rest)) = raw.split_first() else {
            return Err("a block ends inside a varint".to_owned());
        };
        *raw = rest;
        value |= u64::from(byte & 0x7F) << shift;
        if byte < 0x80 {
            return Ok(value);
        }
    }
    Err("a varint in a block is longer than 10 bytes".to_owned())
}

/// Merges the records of one (source, id), in the order they were added.
/// Affected lists are concatenated, and aliases, related ids, CWEs and
/// references are unioned in first-seen order. Severities are deduplicated.
/// The first non-empty summary and details win, `published` is the
/// earliest, `modified` the newest, and `withdrawn` the newest of the parts
/// that carry one.
pub(crate) fn merge(mut parts: Vec<Advisory>) -> Option<Advisory> {
    if parts.len() <= 1 {
        return parts.pop();
    }

    let mut parts = parts.into_iter();
    let mut merged = parts.next()?;
    for part in parts {
        union(&mut merged.aliases, part.aliases);
        union(&mut merged.related, part.related);
        union(&mut merged.cwes, part.cwes);
        union(&mut merged.references, part.references);
        union(&mut merged.severities, part.severities);
        merged.affected.extend(part.affected);

        if merged.summary.is_empty() {
            merged.summary = part.summary;
        }
        if merged.details.is_empty() {
            merged.details = part.details;
        }
        merged.published = earliest(merged.published, part.published);
        merged.modified = merged.modified.max(part.modified);
        merged.withdrawn = merged.withdrawn.max(part.withdrawn);
    }
    Some(merged)
}

fn union<T: PartialEq>(into: &mut Vec<T>, items: Vec<T>) {
    for item in items {
        if !into.contains(&item) {
            into.push(item);
        }
    }
}

fn earliest<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_round_trip_compressed() {
        let raw = "affected package range ".repeat(40).into_bytes();
        let value = Compressor::new(None).encode(&raw).unwrap();
        assert_eq!(value[0], TAG_ZSTD);
        assert_eq!(decode_value(&value, None).unwrap(), raw);
    }

    #[test]
    fn short_value_stored_raw() {
        let value = Compressor::new(None).encode(b"CVE-2024-1").unwrap();
        assert_eq!(value[0], TAG_RAW);
        assert_eq!(decode_value(&value, None).unwrap(), b"CVE-2024-1");
    }

    #[test]
    fn oversized_length_rejected() {
        let mut value = vec![TAG_ZSTD];
        value.extend_from_slice(&u32::MAX.to_le_bytes());
        value.extend_from_slice(&[0; 16]);
        assert!(decode_value(&value, None).is_err());
    }

    #[test]
    fn unknown_tag_rejected() {
        assert!(decode_value(&[7, 1, 2], None).is_err());
    }

    #[test]
    fn block_round_trip() {
        let mut block = Block::default();
        block.push(b"key-1".to_vec(), b"first".to_vec());
        block.push(b"key-2".to_vec(), vec![7; 300]);
        let (first_key, value) = block.finish(Compressor::new(None)).unwrap();
        assert_eq!(first_key, b"key-1");
        let raw = decode_value(&value, None).unwrap();
        let records = block_records(&raw).unwrap();
        assert_eq!(records.len(), 2);
        assert_eq!(records[1], (&b"key-2"[..], &[7; 300][..]));
    }

    #[test]
    fn truncated_block_rejected() {
        let mut block = Block::default();
        block.push(b"key".to_vec(), b"record".to_vec());
        let (_, value) = block.finish(Compressor::new(None)).unwrap();
        let raw = decode_value(&value, None).unwrap();
        assert!(block_records(&raw[..raw.len() - 2]).is_err());
    }

    #[test]
    fn epss_bucket_splits_last_two() {
        assert_eq!(epss_bucket("CVE-2024-12345"), ("CVE-2024-123", "45"));
        assert_eq!(epss_bucket("C"), ("", "C"));
        assert_eq!(epss_bucket("CVE-é"), ("CVE-", "é"));
        assert_eq!(epss_bucket("CVE-€"), ("CVE-", "€"));
    }

    #[test]
    fn merge_keeps_earliest_published() {
        let date = |day: u32| {
            chrono::NaiveDate::from_ymd_opt(2024, 1, day)
                .unwrap()
                .and_hms_opt(0, 0, 0)
                .unwrap()
                .and_utc()
        };
        let first = Advisory {
            id: "CVE-1".into(),
            published: Some(date(5)),
            ..Advisory::default()
        };
        let second = Advisory {
            id: "CVE-1".into(),
            published: Some(date(2)),
            ..Advisory::default()
        };
        let merged = merge(vec![first, second]).unwrap();
        assert_eq!(merged.published, Some(date(2)));
    }
}
