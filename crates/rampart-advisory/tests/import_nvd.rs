//! The CVE-record importers: NVD CVE API 2.0 JSON (`import::nvd`) and CVE
//! JSON 5 (`import::cve5`), on the fixtures beside this file. The shared
//! corpus has no NVD or CVE 5 data, so there is no corpus tier here.

use std::io::Cursor;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use proptest::prelude::*;
use rampart_advisory::import::{CollectingSink, ImportError, cve5, nvd};
use rampart_advisory::{Advisory, Rating, SeverityKind};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn time(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

fn import_nvd(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    nvd::import_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn import_cve5(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    cve5::import_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn by_id<'a>(sink: &'a CollectingSink, id: &str) -> &'a Advisory {
    sink.advisories
        .iter()
        .find(|advisory| advisory.id == id)
        .unwrap_or_else(|| panic!("no record {id}"))
}

// --- NVD CVE API 2.0 ---

#[test]
fn nvd_page_fixture() {
    let sink = import_nvd(&fixture("nvd/cves-api-page.json"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    let ids: Vec<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "CVE-2022-1576",
            "CVE-2024-5732",
            "CVE-2026-39834",
            "CVE-2021-29633"
        ]
    );

    let wordpress = by_id(&sink, "CVE-2022-1576");
    assert_eq!(wordpress.source, "nvd");
    assert!(
        wordpress
            .summary
            .starts_with("The WP Maintenance Mode & Coming Soon")
    );
    assert_eq!(wordpress.published, Some(time("2022-07-11T13:15:08.503Z")));
    assert_eq!(wordpress.modified, Some(time("2024-11-21T06:41:00.133Z")));
    assert_eq!(wordpress.withdrawn, None);
    assert_eq!(wordpress.cwes, ["CWE-352"]);
    assert!(wordpress.affected.is_empty());
}

#[test]
fn nvd_severities_primary_first() {
    let sink = import_nvd(&fixture("nvd/cves-api-page.json"));
    let clash = by_id(&sink, "CVE-2024-5732");
    let order: Vec<(&str, SeverityKind, Option<f32>)> = clash
        .severities
        .iter()
        .map(|s| (s.source.as_str(), s.kind, s.score))
        .collect();
    assert_eq!(
        order,
        [
            ("nvd@nist.gov", SeverityKind::CvssV4, Some(6.9)),
            ("nvd@nist.gov", SeverityKind::CvssV3, Some(9.8)),
            ("cna@vuldb.com", SeverityKind::CvssV3, Some(7.3)),
            ("cna@vuldb.com", SeverityKind::CvssV2, Some(7.5)),
        ]
    );
    assert_eq!(clash.severities[1].rating, Rating::Critical);
    assert_eq!(
        clash.severities[1].vector.as_deref(),
        Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H")
    );

    let wordpress = by_id(&sink, "CVE-2022-1576");
    assert_eq!(wordpress.severities[1].kind, SeverityKind::CvssV2);
    assert_eq!(wordpress.severities[1].rating, Rating::Medium);
}

#[test]
fn nvd_references_deduplicated() {
    let sink = import_nvd(&fixture("nvd/cves-api-page.json"));
    let wordpress = by_id(&sink, "CVE-2022-1576");
    assert_eq!(wordpress.references.len(), 1);
    assert_eq!(wordpress.references[0].kind.as_deref(), Some("ADVISORY"));

    let crypto = by_id(&sink, "CVE-2026-39834");
    let kinds: Vec<Option<&str>> = crypto
        .references
        .iter()
        .map(|r| r.kind.as_deref())
        .collect();
    assert_eq!(
        kinds,
        [
            Some("REPORT"),
            Some("REPORT"),
            Some("DISCUSSION"),
            Some("ADVISORY")
        ]
    );
}

#[test]
fn nvd_rejected_is_withdrawn() {
    let sink = import_nvd(&fixture("nvd/cves-api-page.json"));
    let rejected = by_id(&sink, "CVE-2021-29633");
    assert_eq!(rejected.withdrawn, Some(time("2024-02-15T06:15:44.667Z")));
    assert!(rejected.summary.starts_with("Rejected reason:"));
}

#[test]
fn nvd_gzip_same_records() {
    let path = fixture("nvd/cves-api-page.json");
    let plain = import_nvd(&path);
    let compressed = rampart_testkit::gzip(&std::fs::read(&path).unwrap());
    let mut sink = CollectingSink::default();
    nvd::import_reader(Cursor::new(compressed), &path, &mut sink).unwrap();
    assert_eq!(sink.advisories, plain.advisories);
}

#[test]
fn nvd_malformed_records_skipped() {
    let path = fixture("nvd/cves-malformed.json");
    let sink = import_nvd(&path);
    let ids: Vec<&str> = sink.advisories.iter().map(|a| a.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2021-29633", "CVE-2022-1576"]);
    let records: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();
    assert_eq!(records, ["record 1", "record 2"]);
    assert!(sink.skipped.iter().all(|s| s.file == path));
}

#[test]
fn nvd_missing_file_error() {
    let mut sink = CollectingSink::default();
    let error = nvd::import_file(&fixture("nvd/absent.json"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }), "{error}");
}

#[test]
fn nvd_invalid_documents_error() {
    let cases: [&str; 5] = [
        r#"{"CVE_data_type": "CVE", "CVE_Items": []}"#,
        r#"{"format": "NVD_CPE", "vulnerabilities": []}"#,
        r#"{"resultsPerPage": 0}"#,
        r#"{"vulnerabilities": [{"cve": {"id": "CVE-2024-1"}}"#,
        r#"[{"cve": {"id": "CVE-2024-1"}}]"#,
    ];
    for text in cases {
        let mut sink = CollectingSink::default();
        let result = nvd::import_reader(text.as_bytes(), Path::new("page.json"), &mut sink);
        let error = result.expect_err(text);
        assert!(
            matches!(error, ImportError::Format { .. }),
            "{text}: {error}"
        );
    }
}

#[test]
fn nvd_corrupt_gzip_error() {
    let mut bytes = rampart_testkit::gzip(b"{\"vulnerabilities\": []}");
    bytes.truncate(bytes.len() / 2);
    let mut sink = CollectingSink::default();
    let result = nvd::import_reader(
        bytes.as_slice(),
        Path::new("nvdcve-2.0-2024.json.gz"),
        &mut sink,
    );
    assert!(result.is_err());
}

proptest! {
    #[test]
    fn nvd_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = nvd::import_reader(bytes.as_slice(), Path::new("page.json"), &mut sink);
    }

    #[test]
    fn nvd_mutated_fixture(position in 0usize..16384, byte in any::<u8>()) {
        let mut bytes = std::fs::read(fixture("nvd/cves-api-page.json")).unwrap();
        let position = position % bytes.len();
        bytes[position] = byte;
        let mut sink = CollectingSink::default();
        let _ = nvd::import_reader(bytes.as_slice(), Path::new("page.json"), &mut sink);
    }
}

// --- CVE JSON 5 ---

#[test]
fn cve5_record_with_adp() {
    let sink = import_cve5(&fixture("cve5/CVE-2024-3000.json"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    let record = &sink.advisories[0];
    assert_eq!(record.id, "CVE-2024-3000");
    assert_eq!(record.source, "cve5");
    assert!(
        record
            .summary
            .starts_with("A vulnerability classified as critical")
    );
    assert_eq!(record.published, Some(time("2024-03-27T21:31:04.286Z")));
    assert_eq!(record.modified, Some(time("2024-08-01T15:14:10.512Z")));
    assert_eq!(record.cwes, ["CWE-89"]);

    let scores: Vec<(&str, SeverityKind, Rating)> = record
        .severities
        .iter()
        .map(|s| (s.source.as_str(), s.kind, s.rating))
        .collect();
    assert_eq!(
        scores,
        [
            ("VulDB", SeverityKind::CvssV3, Rating::High),
            ("VulDB", SeverityKind::CvssV3, Rating::High),
            ("VulDB", SeverityKind::CvssV2, Rating::High),
        ]
    );
}

#[test]
fn cve5_references_typed() {
    let sink = import_cve5(&fixture("cve5/CVE-2024-3000.json"));
    let kinds: Vec<Option<&str>> = sink.advisories[0]
        .references
        .iter()
        .map(|r| r.kind.as_deref())
        .collect();
    assert_eq!(
        kinds,
        [Some("ARTICLE"), None, Some("ADVISORY"), Some("EVIDENCE")]
    );
}

#[test]
fn cve5_version_50_record() {
    let sink = import_cve5(&fixture("cve5/CVE-2024-3094.json"));
    let record = &sink.advisories[0];
    assert_eq!(record.severities.len(), 1, "the `other` metric has no CVSS");
    assert_eq!(record.severities[0].source, "redhat");
    assert_eq!(record.severities[0].score, Some(10.0));
    assert_eq!(record.severities[0].rating, Rating::Critical);
    assert_eq!(record.cwes, ["CWE-506"]);
    assert_eq!(record.references.len(), 43);
}

#[test]
fn cve5_rejected_is_withdrawn() {
    let sink = import_cve5(&fixture("cve5/CVE-2021-29633.json"));
    let record = &sink.advisories[0];
    assert_eq!(record.withdrawn, Some(time("2024-02-15T06:15:44.667Z")));
    assert!(
        record
            .summary
            .starts_with("This candidate was in a CNA pool")
    );
}

#[test]
fn cve5_malformed_record_skipped() {
    let text = r#"{"dataType": "CVE_RECORD", "dataVersion": "5.1",
        "cveMetadata": {"state": "PUBLISHED", "datePublished": "2024-03-27T21:31:04.286Z"},
        "containers": {"cna": {"descriptions": [{"lang": "en", "value": "x"}]}}}"#;
    let path = Path::new("cves/2024/3xxx/CVE-2024-3001.json");
    let mut sink = CollectingSink::default();
    cve5::import_reader(text.as_bytes(), path, &mut sink).unwrap();
    assert!(sink.advisories.is_empty());
    assert_eq!(sink.skipped.len(), 1);
    assert_eq!(sink.skipped[0].file, path);
    assert_eq!(sink.skipped[0].record, "record 1");
    assert!(
        sink.skipped[0].reason.contains("cveId"),
        "{}",
        sink.skipped[0].reason
    );
}

#[test]
fn cve5_missing_file_error() {
    let mut sink = CollectingSink::default();
    let error = cve5::import_file(&fixture("cve5/absent.json"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }), "{error}");
}

#[test]
fn cve5_invalid_documents_error() {
    for text in [
        r#"{"dataType": "CVE_RECORD", "#,
        r#"{"id": "GHSA-1"}"#,
        "[]",
    ] {
        let mut sink = CollectingSink::default();
        let result = cve5::import_reader(text.as_bytes(), Path::new("CVE-2024-1.json"), &mut sink);
        let error = result.expect_err(text);
        assert!(
            matches!(error, ImportError::Format { .. }),
            "{text}: {error}"
        );
    }
}

proptest! {
    #[test]
    fn cve5_arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = cve5::import_reader(bytes.as_slice(), Path::new("CVE-2024-1.json"), &mut sink);
    }

    #[test]
    fn cve5_mutated_fixture(position in 0usize..8192, byte in any::<u8>()) {
        let mut bytes = std::fs::read(fixture("cve5/CVE-2024-3000.json")).unwrap();
        let position = position % bytes.len();
        bytes[position] = byte;
        let mut sink = CollectingSink::default();
        let _ = cve5::import_reader(bytes.as_slice(), Path::new("CVE-2024-3000.json"), &mut sink);
    }
}
