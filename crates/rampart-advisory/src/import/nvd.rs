//! Importer of NVD CVE API 2.0 JSON: an API response page
//! (`/rest/json/cves/2.0`) or a yearly 2.0 feed file (`nvdcve-2.0-2024.json`,
//! often gzip-compressed), which share one shape:
//!
//! ```json
//! {"resultsPerPage": 1, "startIndex": 0, "totalResults": 1, "format": "NVD_CVE", "version": "2.0",
//!  "timestamp": "…", "vulnerabilities": [{"cve": {"id": "CVE-…", "published": "…",
//!  "lastModified": "…", "vulnStatus": "Analyzed", "descriptions": [{"lang": "en", "value": "…"}],
//!  "metrics": {"cvssMetricV40": [], "cvssMetricV31": [], "cvssMetricV30": [], "cvssMetricV2": []},
//!  "weaknesses": [], "references": []}}]}
//! ```
//!
//! Field names follow NIST's `cve_api_json_2.0.schema`. Traps:
//! - Timestamps carry no zone (`2022-07-11T13:15:08.503`); NVD publishes
//!   them in UTC.
//! - Each metric array contains one entry per scoring source. `type: Primary`
//!   is NVD's own score, `Secondary` a CNA's. The v2 metric keeps
//!   `baseSeverity` beside `cvssData`, v3 and v4 inside it.
//! - `weaknesses` may name `NVD-CWE-Other` or `NVD-CWE-noinfo`, which are
//!   not CWE ids and are dropped.
//! - The 1.1 feeds (`CVE_Items`) are a different format and are rejected
//!   as a whole.
//!
//! The `vulnerabilities` array is streamed, one record in memory at a
//! time. CPE configurations are not mapped, so records carry no affected
//! packages.
//!
//! This module also holds the helpers the other JSON importers share:
//! `decompressed`, `json_error`, `json_type` and `parse_timestamp`.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use flate2::bufread::MultiGzDecoder;
use serde::de::{self, Deserializer as _, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::Value;

use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::{Advisory, Rating, Reference, Severity, SeverityKind};

/// The `source` of every record this importer emits.
pub const SOURCE: &str = "nvd";

/// Imports an NVD 2.0 API page or feed file, plain or gzip-compressed.
pub fn import_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_reader(file, path, sink)
}

/// Imports NVD 2.0 JSON from `reader`; `file` names it in errors and
/// skipped records. Records read before a JSON syntax error have already
/// been passed to the sink when the error is returned.
pub fn import_reader<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let reader = decompressed(reader).map_err(|error| ImportError::io(file, error))?;
    let mut deserializer = serde_json::Deserializer::from_reader(reader);
    let mut context = Context {
        file,
        sink,
        position: 0,
    };

    let found = deserializer
        .deserialize_map(ResponseVisitor {
            context: &mut context,
        })
        .and_then(|found| deserializer.end().map(|()| found))
        .map_err(|error| json_error(file, FeedKind::Nvd, error))?;
    match found {
        Layout::Api20 => Ok(()),
        Layout::Feed11 => Err(ImportError::format(
            file,
            FeedKind::Nvd,
            "this is an NVD 1.1 feed (`CVE_Items`); use the CVE API 2.0 or the 2.0 feed files",
        )),
        Layout::Unknown => Err(ImportError::format(
            file,
            FeedKind::Nvd,
            "no `vulnerabilities` array found",
        )),
    }
}

/// Wraps `reader` in a gzip decoder when its first two bytes are the gzip
/// magic number (`1f 8b`), so callers take `.json` and `.json.gz` alike.
pub(crate) fn decompressed<'a, R: Read + 'a>(reader: R) -> std::io::Result<Box<dyn BufRead + 'a>> {
    let mut reader = BufReader::with_capacity(64 * 1024, reader);
    let head = reader.fill_buf()?;
    if head.starts_with(&[0x1f, 0x8b]) {
        Ok(Box::new(BufReader::with_capacity(
            64 * 1024,
            MultiGzDecoder::new(reader),
        )))
    } else {
        Ok(Box::new(reader))
    }
}

/// Maps a `serde_json` error of a streamed feed: an I/O error stays one,
/// everything else (syntax, truncation, a top level of the wrong type)
/// means the file is not valid as its format. The message carries the line
/// and column.
pub(crate) fn json_error(file: &Path, feed: FeedKind, error: serde_json::Error) -> ImportError {
    if error.is_io() {
        return ImportError::io(file, std::io::Error::from(error));
    }
    ImportError::format(file, feed, error.to_string())
}

/// Parses the timestamps the CVE feeds use: RFC 3339 (`…Z`, `…+00:00`),
/// ISO 8601 with a `+0000` offset, a zone-less date-time (read as UTC, as
/// NVD means it) or a bare date. Returns `None` for anything else.
pub(crate) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(time) = DateTime::parse_from_rfc3339(text) {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some(time.with_timezone(&Utc));
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f") {
        return Some(time.and_utc());
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%MZ") {
        return Some(time.and_utc());
    }
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .ok()
        .and_then(|date| date.and_hms_opt(0, 0, 0))
        .map(|time| time.and_utc())
}

/// Names the JSON type of a value for messages (`an array`, `null`).
pub(crate) fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The top-level layout of a document.
enum Layout {
    Api20,
    Feed11,
    Unknown,
}

struct Context<'a> {
    file: &'a Path,
    sink: &'a mut dyn RecordSink,
    /// 1-based index of the current element of `vulnerabilities`.
    position: usize,
}

struct ResponseVisitor<'c, 'a> {
    context: &'c mut Context<'a>,
}

impl<'de> Visitor<'de> for ResponseVisitor<'_, '_> {
    type Value = Layout;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an NVD CVE API 2.0 response object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Layout, A::Error> {
        let mut layout = Layout::Unknown;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "vulnerabilities" => {
                    map.next_value_seed(VulnerabilitiesSeed {
                        context: &mut *self.context,
                    })?;
                    layout = Layout::Api20;
                }
                "format" => {
                    let format: Value = map.next_value()?;
                    if let Some(format) = format.as_str()
                        && format != "NVD_CVE"
                    {
                        return Err(de::Error::custom(format!(
                            "`format` is {format:?}, expected \"NVD_CVE\""
                        )));
                    }
                }
                "CVE_Items" => {
                    map.next_value::<IgnoredAny>()?;
                    layout = Layout::Feed11;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(layout)
    }
}

struct VulnerabilitiesSeed<'c, 'a> {
    context: &'c mut Context<'a>,
}

impl<'de> de::DeserializeSeed<'de> for VulnerabilitiesSeed<'_, '_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for VulnerabilitiesSeed<'_, '_> {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("an array of {\"cve\": …} objects")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(element) = seq.next_element::<Value>()? {
            self.context.position += 1;
            match parse_vulnerability(&element) {
                Ok(advisory) => self.context.sink.advisory(advisory),
                Err(reason) => {
                    let record = element
                        .pointer("/cve/id")
                        .and_then(Value::as_str)
                        .filter(|id| !id.is_empty())
                        .map_or_else(
                            || format!("record {}", self.context.position),
                            str::to_owned,
                        );
                    self.context.sink.skipped(Skipped {
                        file: self.context.file.to_owned(),
                        record,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }
}

/// Maps one element of `vulnerabilities`. Fails when it has no `cve`
/// object or no id; other missing or mistyped fields are left empty.
fn parse_vulnerability(element: &Value) -> Result<Advisory, String> {
    let Some(cve) = element.get("cve").and_then(Value::as_object) else {
        return Err(format!(
            "expected {{\"cve\": {{…}}}}, found {}",
            json_type(element)
        ));
    };
    let id = cve
        .get("id")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or("missing `cve.id`")?;

    let text = |key: &str| cve.get(key).and_then(Value::as_str);
    let published = text("published").and_then(parse_timestamp);
    let modified = text("lastModified").and_then(parse_timestamp);
    let withdrawn = (text("vulnStatus") == Some("Rejected"))
        .then(|| modified.or(published).unwrap_or(DateTime::UNIX_EPOCH));

    Ok(Advisory {
        id: id.to_owned(),
        source: SOURCE.to_owned(),
        published,
        modified,
        withdrawn,
        summary: english_description(cve.get("descriptions")),
        severities: metric_severities(cve.get("metrics")),
        cwes: weakness_cwes(cve.get("weaknesses")),
        references: references(cve.get("references")),
        ..Advisory::default()
    })
}

/// Returns the English entry of a `[{lang, value}]` list, else the first.
pub(crate) fn english_description(descriptions: Option<&Value>) -> String {
    let entries = descriptions
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let value = |entry: &Value| {
        entry
            .get("value")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    entries
        .iter()
        .find(|entry| {
            entry
                .get("lang")
                .and_then(Value::as_str)
                .is_some_and(|lang| {
                    lang.eq_ignore_ascii_case("en") || lang.to_ascii_lowercase().starts_with("en-")
                })
        })
        .and_then(value)
        .or_else(|| entries.first().and_then(value))
        .unwrap_or_default()
}

/// The NVD metric arrays, newest CVSS version first.
const METRIC_KEYS: [(&str, SeverityKind); 4] = [
    ("cvssMetricV40", SeverityKind::CvssV4),
    ("cvssMetricV31", SeverityKind::CvssV3),
    ("cvssMetricV30", SeverityKind::CvssV3),
    ("cvssMetricV2", SeverityKind::CvssV2),
];

/// Maps every CVSS metric. `Primary` metrics (NVD's own) come first, each
/// group newest CVSS version first; a metric with neither vector nor score
/// is dropped.
fn metric_severities(metrics: Option<&Value>) -> Vec<Severity> {
    let mut primary = Vec::new();
    let mut secondary = Vec::new();
    for (key, kind) in METRIC_KEYS {
        let entries = metrics
            .and_then(|metrics| metrics.get(key))
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for metric in entries {
            let Some(severity) = metric_severity(metric, kind) else {
                continue;
            };
            if metric.get("type").and_then(Value::as_str) == Some("Primary") {
                primary.push(severity);
            } else {
                secondary.push(severity);
            }
        }
    }
    primary.extend(secondary);
    primary
}

fn metric_severity(metric: &Value, kind: SeverityKind) -> Option<Severity> {
    let data = metric.get("cvssData")?;
    let vector = data
        .get("vectorString")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let score = data
        .get("baseScore")
        .and_then(Value::as_f64)
        .map(|score| score as f32);
    if vector.is_none() && score.is_none() {
        return None;
    }

    // v2 keeps `baseSeverity` beside `cvssData`, v3 and v4 inside it.
    let word = data
        .get("baseSeverity")
        .or_else(|| metric.get("baseSeverity"))
        .and_then(Value::as_str);
    Some(Severity {
        source: metric
            .get("source")
            .and_then(Value::as_str)
            .unwrap_or(SOURCE)
            .to_owned(),
        kind,
        vector,
        score,
        rating: cvss_rating(word, score, kind),
    })
}

/// Returns the rating a CVSS source gave, or the one its score falls in.
pub(crate) fn cvss_rating(word: Option<&str>, score: Option<f32>, kind: SeverityKind) -> Rating {
    let given = word.map_or(Rating::Unknown, Rating::from_vendor_word);
    if given != Rating::Unknown {
        return given;
    }
    match (score, kind) {
        (Some(score), SeverityKind::CvssV2) => Rating::from_cvss_v2_score(score),
        (Some(score), _) => Rating::from_cvss_score(score),
        (None, _) => Rating::Unknown,
    }
}

fn weakness_cwes(weaknesses: Option<&Value>) -> Vec<String> {
    let mut cwes: Vec<String> = Vec::new();
    let entries = weaknesses
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for weakness in entries {
        let descriptions = weakness
            .get("description")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for description in descriptions {
            let Some(cwe) = description.get("value").and_then(Value::as_str) else {
                continue;
            };
            if cwe.starts_with("CWE-") && !cwes.iter().any(|known| known == cwe) {
                cwes.push(cwe.to_owned());
            }
        }
    }
    cwes
}

/// Maps `references`, dropping repeated URLs (NVD lists a URL once per
/// source that submitted it).
fn references(references: Option<&Value>) -> Vec<Reference> {
    let mut mapped: Vec<Reference> = Vec::new();
    let entries = references
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for reference in entries {
        let Some(url) = reference.get("url").and_then(Value::as_str) else {
            continue;
        };
        if mapped.iter().any(|known| known.url == url) {
            continue;
        }
        let tags: Vec<&str> = reference
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        mapped.push(Reference {
            kind: reference_kind(&tags).map(str::to_owned),
            url: url.to_owned(),
        });
    }
    mapped
}

/// Maps NVD reference tags to the OSV reference type, the first tag that
/// has one winning in this order: fix, advisory, exploit, report,
/// discussion, article.
fn reference_kind(tags: &[&str]) -> Option<&'static str> {
    let has = |wanted: &[&str]| tags.iter().any(|tag| wanted.contains(tag));
    if has(&["Patch"]) {
        Some("FIX")
    } else if has(&[
        "Vendor Advisory",
        "Third Party Advisory",
        "US Government Resource",
    ]) {
        Some("ADVISORY")
    } else if has(&["Exploit"]) {
        Some("EVIDENCE")
    } else if has(&["Issue Tracking"]) {
        Some("REPORT")
    } else if has(&["Mailing List"]) {
        Some("DISCUSSION")
    } else if has(&["Technical Description", "Press/Media Coverage"]) {
        Some("ARTICLE")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn timestamps_of_every_shape() {
        let expected = "2022-07-11T13:15:08.503Z";
        let format =
            |time: DateTime<Utc>| time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
        assert_eq!(
            format(parse_timestamp("2022-07-11T13:15:08.503").unwrap()),
            expected
        );
        assert_eq!(
            format(parse_timestamp("2022-07-11T13:15:08.503Z").unwrap()),
            expected
        );
        assert_eq!(
            format(parse_timestamp("2022-07-11T15:15:08.503+02:00").unwrap()),
            expected
        );
        assert_eq!(
            format(parse_timestamp("2022-07-11T13:15:08.503+0000").unwrap()),
            expected
        );
        assert!(parse_timestamp("2022-07-11").is_some());
        assert!(parse_timestamp("yesterday").is_none());
    }

    #[test]
    fn v2_rating_from_metric_level() {
        let metric = json!({"source": "nvd@nist.gov", "type": "Primary",
            "cvssData": {"version": "2.0", "vectorString": "AV:N/AC:M/Au:N/C:N/I:P/A:N", "baseScore": 4.3},
            "baseSeverity": "MEDIUM"});
        let severity = metric_severity(&metric, SeverityKind::CvssV2).unwrap();
        assert_eq!(severity.rating, Rating::Medium);
        assert_eq!(severity.score, Some(4.3));
    }

    #[test]
    fn rating_from_score_when_word_missing() {
        assert_eq!(
            cvss_rating(None, Some(9.8), SeverityKind::CvssV3),
            Rating::Critical
        );
        assert_eq!(
            cvss_rating(None, Some(9.8), SeverityKind::CvssV2),
            Rating::High
        );
        assert_eq!(
            cvss_rating(Some("NONE"), Some(0.0), SeverityKind::CvssV3),
            Rating::Negligible
        );
    }

    #[test]
    fn primary_metrics_first() {
        let metrics = json!({
            "cvssMetricV40": [{"source": "cna@vuldb.com", "type": "Secondary",
                "cvssData": {"vectorString": "CVSS:4.0/AV:N", "baseScore": 6.9, "baseSeverity": "MEDIUM"}}],
            "cvssMetricV31": [{"source": "nvd@nist.gov", "type": "Primary",
                "cvssData": {"vectorString": "CVSS:3.1/AV:N", "baseScore": 9.8, "baseSeverity": "CRITICAL"}}]
        });
        let severities = metric_severities(Some(&metrics));
        assert_eq!(severities[0].source, "nvd@nist.gov");
        assert_eq!(severities[1].kind, SeverityKind::CvssV4);
    }

    #[test]
    fn placeholder_cwes_dropped() {
        let weaknesses = json!([{"description": [{"lang": "en", "value": "NVD-CWE-Other"},
            {"lang": "en", "value": "CWE-79"}, {"lang": "en", "value": "CWE-79"}]}]);
        assert_eq!(weakness_cwes(Some(&weaknesses)), ["CWE-79"]);
    }

    #[test]
    fn missing_id_rejected() {
        let error =
            parse_vulnerability(&json!({"cve": {"published": "2024-01-01T00:00:00"}})).unwrap_err();
        assert!(error.contains("cve.id"), "{error}");
    }
}
