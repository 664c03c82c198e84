//! Importer of CVE JSON 5 records, the CVE Program's record format
//! (`CVE_Record_Format.json`, data versions 5.0 and 5.1) as published in
//! the `cvelistV5` repository, one record per file:
//!
//! ```json
//! {"dataType": "CVE_RECORD", "dataVersion": "5.1",
//!  "cveMetadata": {"cveId": "CVE-…", "state": "PUBLISHED", "datePublished": "…", "dateUpdated": "…"},
//!  "containers": {"cna": {"descriptions": [], "metrics": [{"cvssV3_1": {…}}], "problemTypes": [],
//!   "references": []}, "adp": [{"metrics": [], "problemTypes": [], "providerMetadata": {…}}]}}
//! ```
//!
//! Traps:
//! - Scores come from the CNA container and from each ADP container (CISA's
//!   "Vulnrichment" adds CVSS and CWE data to records whose CNA gave none).
//!   Every one is kept, with the container's `providerMetadata.shortName`
//!   as its source, the CNA's first.
//! - A `REJECTED` record has `rejectedReasons` instead of `descriptions`,
//!   and its `dateRejected` becomes the withdrawal time.
//! - `metrics[].other` (SSVC, vendor ratings) has no common scale and is
//!   not mapped.
//! - The `affected` product list names vendors and products, not packages
//!   of a namespace, so records carry no affected packages.
//!
//! The caller walks a `cvelistV5` checkout and calls [`import_file`] once
//! per `CVE-*.json` file.

use std::fs::File;
use std::io::Read;
use std::path::Path;

use chrono::DateTime;
use serde_json::Value;

use super::nvd::{cvss_rating, decompressed, english_description, json_error, parse_timestamp};
use super::{FeedKind, ImportError, RecordSink, Skipped};
use crate::{Advisory, Reference, Severity, SeverityKind};

/// The `source` of every record this importer emits.
pub const SOURCE: &str = "cve5";

/// The largest record file read. Real records are below 1 MiB; the limit
/// stops a mislabelled multi-gigabyte file from being read into memory.
pub const MAX_RECORD_BYTES: u64 = 32 * 1024 * 1024;

/// Imports one CVE JSON 5 record file.
pub fn import_file(path: &Path, sink: &mut dyn RecordSink) -> Result<(), ImportError> {
    let file = File::open(path).map_err(|error| ImportError::io(path, error))?;
    import_reader(file, path, sink)
}

/// Imports one record from `reader`; `file` names it in errors and skipped
/// records. Invalid JSON, or JSON that is not a CVE record at all, is an
/// error; a CVE record without a usable id is skipped.
pub fn import_reader<R: Read>(
    reader: R,
    file: &Path,
    sink: &mut dyn RecordSink,
) -> Result<(), ImportError> {
    let reader = decompressed(reader).map_err(|error| ImportError::io(file, error))?;
    let mut bytes = Vec::new();
    reader
        .take(MAX_RECORD_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|error| ImportError::io(file, error))?;
    if bytes.len() as u64 > MAX_RECORD_BYTES {
        return Err(ImportError::format(
            file,
            FeedKind::Cve5,
            format!("larger than {MAX_RECORD_BYTES} bytes; a CVE record file holds one record"),
        ));
    }

    let record: Value =
        serde_json::from_slice(&bytes).map_err(|error| json_error(file, FeedKind::Cve5, error))?;
    let is_record = record.get("dataType").and_then(Value::as_str) == Some("CVE_RECORD")
        || record.get("cveMetadata").is_some_and(Value::is_object);
    if !is_record {
        return Err(ImportError::format(
            file,
            FeedKind::Cve5,
            "no `cveMetadata` object and no `\"dataType\": \"CVE_RECORD\"`; not a CVE JSON 5 record",
        ));
    }

    match parse_record(&record) {
        Ok(advisory) => sink.advisory(advisory),
        Err(reason) => sink.skipped(Skipped {
            file: file.to_owned(),
            record: record
                .pointer("/cveMetadata/cveId")
                .and_then(Value::as_str)
                .filter(|id| !id.trim().is_empty())
                .unwrap_or("record 1")
                .to_owned(),
            reason,
        }),
    }
    Ok(())
}

/// Maps one CVE record. Fails without a `cveMetadata.cveId` or with a
/// `state` other than `PUBLISHED` and `REJECTED`.
fn parse_record(record: &Value) -> Result<Advisory, String> {
    let metadata = record.get("cveMetadata").ok_or("missing `cveMetadata`")?;
    let id = metadata
        .get("cveId")
        .and_then(Value::as_str)
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .ok_or("missing `cveMetadata.cveId`")?;
    let date = |key: &str| {
        metadata
            .get(key)
            .and_then(Value::as_str)
            .and_then(parse_timestamp)
    };
    let published = date("datePublished");
    let modified = date("dateUpdated");

    let rejected = match metadata.get("state").and_then(Value::as_str) {
        Some("PUBLISHED") | None => false,
        Some("REJECTED") => true,
        Some(other) => {
            return Err(format!(
                "unknown `cveMetadata.state` {other:?}: expected PUBLISHED or REJECTED"
            ));
        }
    };
    let withdrawn = rejected.then(|| {
        date("dateRejected")
            .or(modified)
            .or(published)
            .unwrap_or(DateTime::UNIX_EPOCH)
    });

    let cna = record.pointer("/containers/cna");
    let adps = record
        .pointer("/containers/adp")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let containers: Vec<(&Value, &str)> = cna
        .map(|cna| (cna, "cna"))
        .into_iter()
        .chain(adps.iter().map(|adp| (adp, "adp")))
        .collect();

    let summary_key = if rejected {
        "rejectedReasons"
    } else {
        "descriptions"
    };
    let mut advisory = Advisory {
        id: id.to_owned(),
        source: SOURCE.to_owned(),
        published,
        modified,
        withdrawn,
        summary: english_description(cna.and_then(|cna| cna.get(summary_key))),
        ..Advisory::default()
    };
    for (container, role) in containers {
        let provider = container
            .pointer("/providerMetadata/shortName")
            .and_then(Value::as_str)
            .unwrap_or(role);
        advisory
            .severities
            .extend(container_severities(container, provider));
        add_cwes(container, &mut advisory.cwes);
        add_references(container, &mut advisory.references);
    }
    Ok(advisory)
}

/// The CVSS keys of a `metrics[]` entry, newest version first.
const CVSS_KEYS: [(&str, SeverityKind); 4] = [
    ("cvssV4_0", SeverityKind::CvssV4),
    ("cvssV3_1", SeverityKind::CvssV3),
    ("cvssV3_0", SeverityKind::CvssV3),
    ("cvssV2_0", SeverityKind::CvssV2),
];

fn container_severities(container: &Value, provider: &str) -> Vec<Severity> {
    let mut severities = Vec::new();
    let metrics = container
        .get("metrics")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for metric in metrics {
        for (key, kind) in CVSS_KEYS {
            let Some(cvss) = metric.get(key) else {
                continue;
            };
            let vector = cvss
                .get("vectorString")
                .and_then(Value::as_str)
                .map(str::to_owned);
            let score = cvss
                .get("baseScore")
                .and_then(Value::as_f64)
                .map(|score| score as f32);
            if vector.is_none() && score.is_none() {
                continue;
            }
            let word = cvss.get("baseSeverity").and_then(Value::as_str);
            severities.push(Severity {
                source: provider.to_owned(),
                kind,
                vector,
                score,
                rating: cvss_rating(word, score, kind),
            });
        }
    }
    severities
}

fn add_cwes(container: &Value, cwes: &mut Vec<String>) {
    let problem_types = container
        .get("problemTypes")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for problem_type in problem_types {
        let descriptions = problem_type
            .get("descriptions")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default();
        for description in descriptions {
            let Some(cwe) = description.get("cweId").and_then(Value::as_str) else {
                continue;
            };
            if cwe.starts_with("CWE-") && !cwes.iter().any(|known| known == cwe) {
                cwes.push(cwe.to_owned());
            }
        }
    }
}

fn add_references(container: &Value, references: &mut Vec<Reference>) {
    let entries = container
        .get("references")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    for reference in entries {
        let Some(url) = reference.get("url").and_then(Value::as_str) else {
            continue;
        };
        if references.iter().any(|known| known.url == url) {
            continue;
        }
        let tags: Vec<&str> = reference
            .get("tags")
            .and_then(Value::as_array)
            .map(|tags| tags.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        references.push(Reference {
            kind: reference_kind(&tags).map(str::to_owned),
            url: url.to_owned(),
        });
    }
}

/// Maps CVE 5 reference tags (the schema's `reference-tags.json`
/// vocabulary) to the OSV reference type, in the same precedence as the
/// NVD importer: fix, advisory, exploit, report, discussion, article.
fn reference_kind(tags: &[&str]) -> Option<&'static str> {
    let has = |wanted: &[&str]| tags.iter().any(|tag| wanted.contains(tag));
    if has(&["patch"]) {
        Some("FIX")
    } else if has(&[
        "vendor-advisory",
        "third-party-advisory",
        "government-resource",
    ]) {
        Some("ADVISORY")
    } else if has(&["exploit"]) {
        Some("EVIDENCE")
    } else if has(&["issue-tracking"]) {
        Some("REPORT")
    } else if has(&["mailing-list"]) {
        Some("DISCUSSION")
    } else if has(&["technical-description", "media-coverage"]) {
        Some("ARTICLE")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Rating;
    use serde_json::json;

    #[test]
    fn unknown_state_rejected() {
        let record = json!({"cveMetadata": {"cveId": "CVE-2024-1", "state": "RESERVED"}});
        let error = parse_record(&record).unwrap_err();
        assert!(error.contains("RESERVED"), "{error}");
    }

    #[test]
    fn adp_scores_after_cna() {
        let record = json!({"cveMetadata": {"cveId": "CVE-2024-1", "state": "PUBLISHED"},
            "containers": {
                "cna": {"providerMetadata": {"shortName": "VulDB"},
                    "metrics": [{"cvssV3_1": {"baseScore": 7.3, "vectorString": "CVSS:3.1/AV:N"}}]},
                "adp": [{"providerMetadata": {"shortName": "CISA-ADP"},
                    "metrics": [{"cvssV3_1": {"baseScore": 9.8, "baseSeverity": "CRITICAL", "vectorString": "CVSS:3.1/AV:N"}}],
                    "problemTypes": [{"descriptions": [{"cweId": "CWE-89"}]}]}]}});
        let advisory = parse_record(&record).unwrap();
        assert_eq!(advisory.severities[0].source, "VulDB");
        assert_eq!(advisory.severities[0].rating, Rating::High);
        assert_eq!(advisory.severities[1].source, "CISA-ADP");
        assert_eq!(advisory.cwes, ["CWE-89"]);
    }
}
