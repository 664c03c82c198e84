//! Importer of OSV records (OSV schema 1.6, <https://ossf.github.io/osv-schema/>):
//! one record per JSON or YAML file, a JSON array of records (an OSV API
//! query result), or an ecosystem's `all.zip` of `<id>.json` entries.
//!
//! Each record becomes one [`Advisory`] with source `osv:<family>`, where the
//! family is that of the first affected package's namespace (`osv:pypi`,
//! `osv:crates.io`, `osv:go`, `osv:dhi`, `osv:debian`).
//!
//! Traps:
//! - The PyPI database is YAML, where unquoted `4.0` or `2021-07-30T22:15:00Z`
//!   are a float and a timestamp. Fields are read with their string spelling,
//!   so `4.0` stays `4.0` and never becomes `4`.
//! - Go writes `0001-01-01T00:00:00Z` (Go's zero `time.Time`) for unknown
//!   `published`/`modified` dates, which are imported as no date.
//! - CVSS vectors in `severity[]` come without a score. The base score is
//!   computed for v2 and v3.x; v4.0 vectors are kept without a score (see
//!   [`crate::cvss`]).
//! - A record with no `affected` (withdrawn or informational) is imported
//!   with no packages and source `osv`, because no ecosystem names its family.
//! - A record without `id` is skipped. So is a record with an affected
//!   package without ecosystem or name, a range of unknown type, an event
//!   that is not exactly one of `introduced`, `fixed`, `last_affected` and
//!   `limit`, or a date that is not RFC 3339. The whole record goes, because
//!   a partial record would match wrongly.
//! - A single-record file that does not parse is reported as a skipped record,
//!   not as an [`ImportError`]; only I/O failures and oversized files are
//!   errors of the whole file.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rampart_version::osv::{Event, Range, RangeType};
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::cvss::severity_of_vector;
use crate::{Advisory, AffectedPackage, Namespace, Rating, Reference, Severity, SeverityKind};

/// The maximum size of one record (a single-record file or one `all.zip`
/// entry), uncompressed. The largest record of the PyPI, crates.io, Go and
/// DHI snapshots the corpus tests import is 35 KiB.
pub const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// The maximum size of a JSON array of records in one file.
pub const MAX_ARRAY_BYTES: u64 = 1024 * 1024 * 1024;

/// The maximum number of entries an `all.zip` may list.
pub const MAX_ZIP_ENTRIES: usize = 1_000_000;

/// The `published`/`modified` value Go's vulnerability database writes for
/// an unknown date: the zero value of Go's `time.Time`.
const GO_ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// Imports one OSV file: a JSON record, a YAML record or a JSON array of
/// records. The syntax comes from the first non-blank byte (`{` or `[` is
/// JSON), so the file's extension does not matter.
pub fn import_osv_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_osv_reader(file, path, sink)
}

/// Imports one OSV document from a reader, as [`import_osv_file`] does.
/// `origin` names the document in skipped records and errors.
pub fn import_osv_reader(
    reader: impl Read,
    origin: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut reader = BufReader::new(reader);
    let first =
        first_non_blank_byte(&mut reader).map_err(|error| ImportError::io(origin, error))?;

    if first == Some(b'[') {
        return import_json_array(reader, origin, sink);
    }

    let mut bytes = Vec::new();
    reader
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ImportError::io(origin, error))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(ImportError::format(
            origin,
            FeedKind::Osv,
            format!("the record is larger than {MAX_RECORD_BYTES} bytes"),
        ));
    }

    let parsed = if first == Some(b'{') {
        parse_json_record(&bytes)
    } else {
        parse_yaml_record(&bytes)
    };
    match parsed {
        Ok(record) => import_record(record, origin, "record 1", sink),
        Err((id, reason)) => sink.skipped(Skipped {
            file: origin.to_owned(),
            record: id.unwrap_or_else(|| "record 1".to_owned()),
            reason,
        }),
    }
    Ok(())
}

/// Imports an ecosystem's `all.zip`, entry by entry. An entry that is too
/// large, corrupt or not a valid record is skipped as `archive.zip!entry.json`.
/// Entries whose names do not end in `.json` are ignored.
pub fn import_osv_zip(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    let mut archive = zip::ZipArchive::new(BufReader::new(file)).map_err(|error| {
        ImportError::format(path, FeedKind::Osv, format!("invalid zip archive: {error}"))
    })?;
    if archive.len() > MAX_ZIP_ENTRIES {
        return Err(ImportError::format(
            path,
            FeedKind::Osv,
            format!(
                "the archive lists {} entries, more than the limit of {MAX_ZIP_ENTRIES}",
                archive.len()
            ),
        ));
    }

    for index in 0..archive.len() {
        let entry_origin = |name: &str| PathBuf::from(format!("{}!{name}", path.display()));
        let skip = |sink: &mut dyn RecordSink, name: &str, reason: String| {
            sink.skipped(Skipped {
                file: entry_origin(name),
                record: name.to_owned(),
                reason,
            });
        };

        let mut entry = match archive.by_index(index) {
            Ok(entry) => entry,
            Err(error) => {
                skip(
                    sink,
                    &format!("entry {index}"),
                    format!("unreadable: {error}"),
                );
                continue;
            }
        };
        let name = match entry.name() {
            Ok(name) => name.into_owned(),
            Err(error) => {
                skip(
                    sink,
                    &format!("entry {index}"),
                    format!("invalid name: {error}"),
                );
                continue;
            }
        };
        if entry.is_dir() || !name.ends_with(".json") {
            tracing::debug!(archive = %path.display(), entry = %name, "ignoring non-JSON entry");
            continue;
        }

        // The declared size is checked first to skip without inflating, and
        // the read is bounded because a declared size can lie.
        if entry.size() > MAX_RECORD_BYTES {
            let reason = format!(
                "entry inflates to {} bytes, more than the limit of {MAX_RECORD_BYTES}",
                entry.size()
            );
            skip(sink, &name, reason);
            continue;
        }
        let mut bytes = Vec::new();
        if let Err(error) = (&mut entry)
            .take(MAX_RECORD_BYTES + 1)
            .read_to_end(&mut bytes)
        {
            skip(sink, &name, format!("corrupt entry: {error}"));
            continue;
        }

        if let Err(error) = import_osv_reader(bytes.as_slice(), &entry_origin(&name), sink) {
            skip(sink, &name, error.to_string());
        }
    }
    Ok(())
}

/// Returns the first byte that is not ASCII whitespace. Only whole blank
/// lines are consumed, so the indentation of a YAML document's first line
/// survives.
fn first_non_blank_byte(reader: &mut impl BufRead) -> std::io::Result<Option<u8>> {
    loop {
        let buffer = reader.fill_buf()?;
        if buffer.is_empty() {
            return Ok(None);
        }
        if let Some(position) = buffer.iter().position(|byte| !byte.is_ascii_whitespace()) {
            return Ok(Some(buffer[position]));
        }
        let blank_lines = buffer
            .iter()
            .rposition(|byte| *byte == b'\n')
            .map_or(buffer.len(), |newline| newline + 1);
        reader.consume(blank_lines);
    }
}

/// A record that failed to parse: its id when a lenient second parse finds
/// one, and the reason.
type ParseFailure = (Option<String>, String);

fn parse_json_record(bytes: &[u8]) -> Result<OsvRecord, ParseFailure> {
    serde_json::from_slice(bytes).map_err(|error| {
        let mut id = None;
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let _ = deserializer.deserialize_map(IdProbe(&mut id));
        (id, format!("invalid OSV JSON record: {error}"))
    })
}

fn parse_yaml_record(bytes: &[u8]) -> Result<OsvRecord, ParseFailure> {
    parse_yaml(bytes).map_err(|error| {
        let mut id = None;
        let _ = serde_saphyr::with_deserializer_from_slice_with_options(
            bytes,
            yaml_options(),
            |deserializer| deserializer.deserialize_map(IdProbe(&mut id)),
        );
        (id, format!("invalid OSV YAML record: {error}"))
    })
}

/// Reads a record's `id` as far as the document parses, so that a record
/// truncated or broken after its id is still named by it.
struct IdProbe<'a>(&'a mut Option<String>);

impl<'de> Visitor<'de> for IdProbe<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an OSV record")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<String>()? {
            if key == "id" {
                *self.0 = map.next_value::<Option<String>>()?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(())
    }
}

/// YAML options with one-line error messages (no source snippet).
fn yaml_options() -> serde_saphyr::Options {
    let mut options = serde_saphyr::Options::default();
    options.with_snippet = false;
    options
}

fn parse_yaml<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, serde_saphyr::Error> {
    serde_saphyr::from_slice_with_options(bytes, yaml_options())
}

/// Streams the elements of a JSON array of records. A syntax error ends the
/// import of the array, and everything after it is reported as one skip.
fn import_json_array(
    reader: impl Read,
    origin: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let mut limited = reader.take(MAX_ARRAY_BYTES + 1);
    let mut visitor = ArrayVisitor {
        origin,
        sink,
        count: 0,
    };
    let mut deserializer = serde_json::Deserializer::from_reader(&mut limited);
    let result = deserializer
        .deserialize_seq(&mut visitor)
        .and_then(|()| deserializer.end());
    let count = visitor.count;
    let exhausted = limited.limit() == 0;

    match result {
        Ok(()) => Ok(()),
        Err(error) if error.is_io() => Err(ImportError::io(origin, error.into())),
        Err(_) if exhausted => Err(ImportError::format(
            origin,
            FeedKind::Osv,
            format!("the array is larger than {MAX_ARRAY_BYTES} bytes"),
        )),
        Err(error) => {
            sink.skipped(Skipped {
                file: origin.to_owned(),
                record: format!("record {} and after", count + 1),
                reason: format!("invalid JSON: {error}"),
            });
            Ok(())
        }
    }
}

struct ArrayVisitor<'a> {
    origin: &'a Path,
    sink: &'a mut dyn RecordSink,
    count: usize,
}

impl<'de> Visitor<'de> for &mut ArrayVisitor<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON array of OSV records")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut sequence: A) -> Result<(), A::Error> {
        while let Some(value) = sequence.next_element::<serde_json::Value>()? {
            self.count += 1;
            let position = format!("record {}", self.count);
            let id = value
                .get("id")
                .and_then(|id| id.as_str())
                .map(str::to_owned);
            match serde_json::from_value::<OsvRecord>(value) {
                Ok(record) => import_record(record, self.origin, &position, self.sink),
                Err(error) => self.sink.skipped(Skipped {
                    file: self.origin.to_owned(),
                    record: id.unwrap_or(position),
                    reason: format!("invalid OSV record: {error}"),
                }),
            }
        }
        Ok(())
    }
}

/// Maps one parsed record and hands it to the sink, or reports it skipped.
fn import_record(record: OsvRecord, origin: &Path, position: &str, sink: &mut dyn RecordSink) {
    let id = record.id.as_deref().map(str::trim).unwrap_or_default();
    if id.is_empty() {
        sink.skipped(Skipped {
            file: origin.to_owned(),
            record: position.to_owned(),
            reason: "the record has no id".to_owned(),
        });
        return;
    }

    let id = id.to_owned();
    match to_advisory(record) {
        Ok(advisory) => sink.advisory(advisory),
        Err(reason) => sink.skipped(Skipped {
            file: origin.to_owned(),
            record: id,
            reason,
        }),
    }
}

/// An OSV record as the schema spells it. Fields rampart does not use
/// (`credits`, `ecosystem_specific`, `schema_version`) are ignored.
#[derive(Deserialize)]
struct OsvRecord {
    id: Option<String>,
    modified: Option<String>,
    published: Option<String>,
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    related: Vec<String>,
    summary: Option<String>,
    details: Option<String>,
    #[serde(default, deserialize_with = "null_as_empty")]
    severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "null_as_empty")]
    affected: Vec<OsvAffected>,
    #[serde(default, deserialize_with = "null_as_empty")]
    references: Vec<OsvReference>,
    /// Free-form per database; only `severity` and `cwe_ids` are read.
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OsvSeverity {
    #[serde(rename = "type")]
    severity_type: String,
    score: Option<String>,
}

#[derive(Deserialize)]
struct OsvAffected {
    package: Option<OsvPackage>,
    #[serde(default, deserialize_with = "null_as_empty")]
    severity: Vec<OsvSeverity>,
    #[serde(default, deserialize_with = "null_as_empty")]
    ranges: Vec<OsvRange>,
    #[serde(default, deserialize_with = "null_as_empty")]
    versions: Vec<String>,
    database_specific: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OsvPackage {
    ecosystem: Option<String>,
    name: Option<String>,
}

#[derive(Deserialize)]
struct OsvRange {
    #[serde(rename = "type")]
    range_type: String,
    #[serde(default, deserialize_with = "null_as_empty")]
    events: Vec<OsvEvent>,
}

#[derive(Deserialize)]
struct OsvEvent {
    introduced: Option<String>,
    fixed: Option<String>,
    last_affected: Option<String>,
    limit: Option<String>,
}

#[derive(Deserialize)]
struct OsvReference {
    #[serde(rename = "type")]
    reference_type: Option<String>,
    url: Option<String>,
}

/// Reads a list that the record may also give as `null`.
fn null_as_empty<'de, D, T>(deserializer: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(deserializer)?.unwrap_or_default())
}

/// Maps a record with an id onto the advisory model.
fn to_advisory(record: OsvRecord) -> Result<Advisory, String> {
    let mut affected = Vec::with_capacity(record.affected.len());
    for (index, entry) in record.affected.into_iter().enumerate() {
        if let Some(package) = to_affected_package(entry, index)? {
            affected.push(package);
        }
    }
    let source = affected.first().map_or_else(
        || FeedKind::Osv.name().to_owned(),
        |package| format!("osv:{}", package.namespace.family()),
    );
    for package in &mut affected {
        for severity in &mut package.severities {
            if severity.source.is_empty() {
                severity.source.clone_from(&source);
            }
        }
    }

    let mut severities: Vec<Severity> = record
        .severity
        .iter()
        .filter_map(|severity| to_severity(severity, &source))
        .collect();
    let database_specific = record.database_specific.as_ref();
    severities.extend(vendor_severity(database_specific, &source));

    let references = record
        .references
        .into_iter()
        .filter_map(|reference| {
            let url = reference.url.filter(|url| !url.trim().is_empty())?;
            Some(Reference {
                kind: reference.reference_type,
                url,
            })
        })
        .collect();

    Ok(Advisory {
        id: record.id.unwrap_or_default().trim().to_owned(),
        aliases: record.aliases,
        related: record.related,
        source,
        published: parse_date("published", record.published.as_deref())?,
        modified: parse_date("modified", record.modified.as_deref())?,
        withdrawn: parse_date("withdrawn", record.withdrawn.as_deref())?,
        summary: record.summary.unwrap_or_default(),
        details: record.details.unwrap_or_default(),
        severities,
        cwes: cwe_ids(database_specific),
        affected,
        references,
    })
}

/// Maps one `affected` entry. Returns `None` for an entry without `package`.
///
/// NOTE: OSV allows an entry with only GIT ranges and no package. Such an
/// entry names no namespace to match in, so it is dropped.
fn to_affected_package(
    entry: OsvAffected,
    index: usize,
) -> Result<Option<AffectedPackage>, String> {
    let Some(package) = entry.package else {
        tracing::debug!(index, "dropping affected entry without package");
        return Ok(None);
    };
    let ecosystem = package.ecosystem.unwrap_or_default();
    let namespace = Namespace::from_osv_ecosystem(&ecosystem)
        .ok_or_else(|| format!("affected[{index}].package has no ecosystem"))?;
    let name = package.name.unwrap_or_default();
    if name.trim().is_empty() {
        return Err(format!("affected[{index}].package has no name"));
    }

    let mut ranges = Vec::with_capacity(entry.ranges.len());
    for (range_index, range) in entry.ranges.into_iter().enumerate() {
        ranges.push(
            to_range(range)
                .map_err(|reason| format!("affected[{index}].ranges[{range_index}]: {reason}"))?,
        );
    }

    let mut severities: Vec<Severity> = entry
        .severity
        .iter()
        .filter_map(|severity| to_severity(severity, ""))
        .collect();
    severities.extend(vendor_severity(entry.database_specific.as_ref(), ""));

    let mut affected =
        AffectedPackage::new(namespace.clone(), namespace.normalize_package(name.trim()));
    affected.ranges = ranges;
    affected.versions = entry.versions;
    affected.severities = severities;
    Ok(Some(affected))
}

fn to_range(range: OsvRange) -> Result<Range, String> {
    let range_type = match range.range_type.as_str() {
        "ECOSYSTEM" => RangeType::Ecosystem,
        "SEMVER" => RangeType::Semver,
        "GIT" => RangeType::Git,
        other => return Err(format!("unknown range type {other:?}")),
    };
    let events = range
        .events
        .into_iter()
        .map(to_event)
        .collect::<Result<Vec<Event>, String>>()?;
    Ok(Range { range_type, events })
}

fn to_event(event: OsvEvent) -> Result<Event, String> {
    match (
        event.introduced,
        event.fixed,
        event.last_affected,
        event.limit,
    ) {
        (Some(version), None, None, None) => Ok(Event::Introduced(version)),
        (None, Some(version), None, None) => Ok(Event::Fixed(version)),
        (None, None, Some(version), None) => Ok(Event::LastAffected(version)),
        (None, None, None, Some(version)) => Ok(Event::Limit(version)),
        (None, None, None, None) => {
            Err("an event has none of introduced, fixed, last_affected, limit".to_owned())
        }
        _ => {
            Err("an event has more than one of introduced, fixed, last_affected, limit".to_owned())
        }
    }
}

/// Maps one `severity[]` entry: CVSS vectors with their computed base score,
/// the `Ubuntu` priority word as a vendor rating. Other types are dropped.
fn to_severity(severity: &OsvSeverity, source: &str) -> Option<Severity> {
    let score = severity.score.as_deref()?.trim();
    let declared_kind = match severity.severity_type.as_str() {
        "CVSS_V2" => SeverityKind::CvssV2,
        "CVSS_V3" => SeverityKind::CvssV3,
        "CVSS_V4" => SeverityKind::CvssV4,
        "Ubuntu" => {
            return Some(Severity {
                source: "ubuntu".to_owned(),
                kind: SeverityKind::Vendor,
                vector: None,
                score: None,
                rating: Rating::from_vendor_word(score),
            });
        }
        other => {
            tracing::debug!(severity_type = other, "dropping severity of unknown type");
            return None;
        }
    };

    let mut computed = severity_of_vector(source, score);
    if computed.kind != declared_kind {
        // A vector that contradicts its declared type is kept unscored.
        computed.kind = declared_kind;
        computed.score = None;
        computed.rating = Rating::Unknown;
    }
    Some(computed)
}

/// Reads `database_specific.severity`, a GHSA-style word (`HIGH`,
/// `MODERATE`, `low`), as a vendor severity. Unknown words are dropped.
fn vendor_severity(
    database_specific: Option<&serde_json::Value>,
    source: &str,
) -> Option<Severity> {
    let word = database_specific?.get("severity")?.as_str()?;
    let rating = Rating::from_vendor_word(word);
    if rating == Rating::Unknown {
        return None;
    }
    Some(Severity {
        source: source.to_owned(),
        kind: SeverityKind::Vendor,
        vector: None,
        score: None,
        rating,
    })
}

/// Reads `database_specific.cwe_ids` (GHSA records).
fn cwe_ids(database_specific: Option<&serde_json::Value>) -> Vec<String> {
    database_specific
        .and_then(|value| value.get("cwe_ids"))
        .and_then(|value| value.as_array())
        .map(|ids| {
            ids.iter()
                .filter_map(|id| id.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// Parses an RFC 3339 date. Go's zero time and an empty string are no date.
fn parse_date(field: &str, text: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    let Some(text) = text.map(str::trim) else {
        return Ok(None);
    };
    if text.is_empty() || text == GO_ZERO_TIME {
        return Ok(None);
    }
    DateTime::parse_from_rfc3339(text)
        .map(|date| Some(date.with_timezone(&Utc)))
        .map_err(|error| format!("invalid {field} date {text:?}: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_zero_time_is_none() {
        assert_eq!(parse_date("published", Some(GO_ZERO_TIME)), Ok(None));
    }

    #[test]
    fn fractional_date_parses() {
        let date = parse_date("modified", Some("2021-09-26T23:32:08.989778Z"))
            .unwrap()
            .unwrap();
        assert_eq!(date.to_rfc3339(), "2021-09-26T23:32:08.989778+00:00");
    }

    #[test]
    fn invalid_date_rejected() {
        assert!(parse_date("modified", Some("yesterday")).is_err());
    }

    #[test]
    fn event_with_two_kinds_rejected() {
        let event = OsvEvent {
            introduced: Some("0".into()),
            fixed: Some("1.0".into()),
            last_affected: None,
            limit: None,
        };
        assert!(to_event(event).is_err());
    }

    #[test]
    fn severity_type_mismatch_unscored() {
        let severity = OsvSeverity {
            severity_type: "CVSS_V3".into(),
            score: Some("AV:N/AC:L/Au:N/C:P/I:P/A:P".into()),
        };
        let mapped = to_severity(&severity, "osv:pypi").unwrap();
        assert_eq!(mapped.kind, SeverityKind::CvssV3);
        assert_eq!(mapped.score, None);
    }

    #[test]
    fn blank_prefix_detected() {
        let mut reader = BufReader::new(&b"  \n\t[1]"[..]);
        assert_eq!(first_non_blank_byte(&mut reader).unwrap(), Some(b'['));
    }
}
