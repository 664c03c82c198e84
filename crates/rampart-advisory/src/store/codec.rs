//! Value encodings of the store: postcard for every record, zstd for the
//! large ones, and the merge of the records of one (source, id).

use std::cell::RefCell;

use chrono::NaiveDate;
use rampart_version::osv::Range;
use serde::{Deserialize, Serialize};
use zstd::zstd_safe::{CCtx, CDict, DCtx, DDict};

use crate::{Advisory, AffectedPackage, Namespace, Severity, Status};

/// The first byte of a value: how the rest is encoded.
const TAG_RAW: u8 = 0;
const TAG_ZSTD: u8 = 1;

/// The largest decompressed value accepted, so a corrupted length field
/// cannot make a lookup allocate without bound.
const MAX_VALUE_LEN: usize = 256 << 20;

/// The zstd level of stored values. Level 3 with a trained dictionary
/// compressed the synthetic benchmark records to about the size of level 9
/// without one, at about four times the speed of level 9.
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

/// An EPSS score as the `epss` table stores it; the CVE id is the key.
#[derive(Serialize, Deserialize)]
pub(crate) struct StoredEpss {
    pub score: f32,
    pub percentile: f32,
    pub date: Option<NaiveDate>,
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

        if frame.len() + 5 >= raw.len() + 1 {
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
    match value {
        [TAG_RAW, raw @ ..] => Ok(raw.to_vec()),
        [TAG_ZSTD, a, b, c, d, frame @ ..] => {
            let length = u32::from_le_bytes([*a, *b, *c, *d]) as usize;
            if length > MAX_VALUE_LEN {
                return Err(format!(
                    "value claims {length} bytes, above the limit of {MAX_VALUE_LEN}"
                ));
            }
            let mut raw = Vec::with_capacity(length);
            DECOMPRESSION_CONTEXT.with(|context| {
                let mut context = context.borrow_mut();
                let result = match dictionary {
                    Some(dictionary) => context.decompress_using_ddict(&mut raw, frame, dictionary),
                    None => context.decompress(&mut raw, frame),
                };
                result.map_err(|code| zstd::zstd_safe::get_error_name(code).to_owned())
            })?;
            if raw.len() != length {
                return Err(format!(
                    "value decompressed to {} bytes, expected {length}",
                    raw.len()
                ));
            }
            Ok(raw)
        }
        [] => Err("empty value".to_owned()),
        _ => Err(format!("unknown value encoding {}", value[0])),
    }
}

/// Merges the records of one (source, id), in the order they were added:
/// affected lists are concatenated; aliases, related ids, CWEs and
/// references are unioned in first-seen order; severities are deduplicated;
/// the first non-empty summary and details win; `published` is the
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
