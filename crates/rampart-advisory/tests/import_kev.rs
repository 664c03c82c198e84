//! The CISA KEV importer (`import::kev`) on the JSON and CSV fixtures cut
//! from the catalog, and on the whole catalog when the shared corpus exists.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use proptest::prelude::*;
use rampart_advisory::KevEntry;
use rampart_advisory::import::{CollectingSink, ImportError, kev};
use rampart_testkit::corpus_dir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/kev")
        .join(name)
}

fn import(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    kev::import_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

fn sorted(mut entries: Vec<KevEntry>) -> Vec<KevEntry> {
    entries.sort_by(|a, b| a.cve.cmp(&b.cve));
    entries
}

#[test]
fn json_fixture_entries() {
    let sink = import(&fixture("known_exploited_vulnerabilities.json"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.kev.len(), 5);

    let git = &sink.kev[0];
    assert_eq!(git.cve, "CVE-2025-48384");
    assert_eq!(git.vendor_project, "Git");
    assert_eq!(git.product, "Git");
    assert_eq!(git.name, "Git Link Following Vulnerability");
    assert_eq!(
        git.date_added,
        NaiveDate::from_ymd_opt(2025, 8, 25).unwrap()
    );
    assert_eq!(git.due_date, NaiveDate::from_ymd_opt(2025, 9, 15));
    assert_eq!(git.known_ransomware_campaign_use, "Unknown");
    assert!(
        git.required_action
            .starts_with("Apply mitigations per vendor instructions")
    );
}

#[test]
fn csv_fixture_equals_json() {
    let json = import(&fixture("known_exploited_vulnerabilities.json"));
    let csv = import(&fixture("known_exploited_vulnerabilities.csv"));
    assert!(csv.skipped.is_empty(), "{:?}", csv.skipped);
    assert_eq!(csv.kev.len(), 5);
    assert_eq!(sorted(csv.kev), sorted(json.kev));
}

#[test]
fn json_malformed_entries_skipped() {
    let text = r#"{"catalogVersion": "2025.08.25", "count": 4, "vulnerabilities": [
        {"cveID": "CVE-2025-48384", "vendorProject": "Git", "product": "Git", "dateAdded": "2025-08-25", "dueDate": "2025-09-15"},
        {"cveID": "CVE-2024-8068", "vendorProject": "Citrix", "dateAdded": "25/08/2025"},
        "CVE-2024-8069",
        {"cveID": "CVE-2025-43300", "vendorProject": "Apple", "dateAdded": "2025-08-21"}
    ]}"#;
    let path = Path::new("known_exploited_vulnerabilities.json");
    let mut sink = CollectingSink::default();
    kev::import_reader(text.as_bytes(), path, &mut sink).unwrap();

    let cves: Vec<&str> = sink.kev.iter().map(|entry| entry.cve.as_str()).collect();
    assert_eq!(cves, ["CVE-2025-48384", "CVE-2025-43300"]);
    let records: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();
    assert_eq!(records, ["CVE-2024-8068", "record 3"]);
    assert!(sink.skipped.iter().all(|s| s.file == path));
}

#[test]
fn csv_malformed_rows_skipped() {
    let text = "\
cveID,vendorProject,product,vulnerabilityName,dateAdded,shortDescription,requiredAction,dueDate,knownRansomwareCampaignUse,notes,cwes
CVE-2025-48384,Git,Git,\"Git Link Following Vulnerability\",2025-08-25,\"x, y\",\"Apply mitigations.\",2025-09-15,Unknown,,\"CWE-59, CWE-436\"
CVE-2024-8068,Citrix,\"Session Recording\",\"Citrix Session Recording Improper Privilege Management Vulnerability\",yesterday,x,y,2025-09-15,Unknown,,
,Citrix,x,x,2025-08-25,x,y,2025-09-15,Unknown,,
CVE-2025-43300,Apple,\"iOS, iPadOS, and macOS\",\"Apple iOS, iPadOS, and macOS Out-of-Bounds Write Vulnerability\",2025-08-21,x,y,2025-09-11,Unknown,,
";
    let path = Path::new("known_exploited_vulnerabilities.csv");
    let mut sink = CollectingSink::default();
    kev::import_reader(text.as_bytes(), path, &mut sink).unwrap();

    let cves: Vec<&str> = sink.kev.iter().map(|entry| entry.cve.as_str()).collect();
    assert_eq!(cves, ["CVE-2025-48384", "CVE-2025-43300"]);
    assert_eq!(sink.kev[1].product, "iOS, iPadOS, and macOS");
    let records: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();
    assert_eq!(records, ["CVE-2024-8068 (line 3)", "line 4"]);
}

#[test]
fn missing_file_error() {
    let mut sink = CollectingSink::default();
    let error = kev::import_file(&fixture("absent.json"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }), "{error}");
}

#[test]
fn invalid_documents_error() {
    let cases = [
        r#"{"catalogVersion": "2025.08.25", "count": 0}"#,
        r#"{"catalogVersion": "2025.08.25", "vulnerabilities": [{"cveID": "#,
        "cve,epss,percentile\nCVE-2024-1,0.1,0.2\n",
    ];
    for text in cases {
        let mut sink = CollectingSink::default();
        let result = kev::import_reader(text.as_bytes(), Path::new("kev"), &mut sink);
        let error = result.expect_err(text);
        assert!(
            matches!(error, ImportError::Format { .. }),
            "{text}: {error}"
        );
    }
}

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = kev::import_reader(bytes.as_slice(), Path::new("kev"), &mut sink);
    }

    #[test]
    fn mutated_csv_fixture(position in 0usize..8192, byte in any::<u8>()) {
        let mut bytes = std::fs::read(fixture("known_exploited_vulnerabilities.csv")).unwrap();
        let position = position % bytes.len();
        bytes[position] = byte;
        let mut sink = CollectingSink::default();
        let _ = kev::import_reader(bytes.as_slice(), Path::new("kev.csv"), &mut sink);
    }
}

#[test]
fn corpus_json_and_csv_equal() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let folder = corpus.join("advisories/kev");
    let json = import(&folder.join("known_exploited_vulnerabilities.json"));
    let csv = import(&folder.join("known_exploited_vulnerabilities.csv"));
    assert!(json.skipped.is_empty(), "{:?}", json.skipped);
    assert!(csv.skipped.is_empty(), "{:?}", csv.skipped);
    assert_eq!(json.kev.len(), 1404);
    assert_eq!(csv.kev.len(), 1404);
    assert_eq!(sorted(json.kev), sorted(csv.kev));
}
