//! The EPSS importer (`import::epss`) on both CSV layouts, and on the
//! shared corpus's per-year files when the corpus exists.

use std::io::Cursor;
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::NaiveDate;
use proptest::prelude::*;
use rampart_advisory::import::{CollectingSink, ImportError, epss};
use rampart_testkit::corpus_dir;

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/epss")
        .join(name)
}

fn import(path: &Path) -> CollectingSink {
    let mut sink = CollectingSink::default();
    epss::import_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

#[test]
fn headerless_semicolon_layout() {
    let sink = import(&fixture("CVE_2024_EPSS.csv"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.epss.len(), 12);
    let first = &sink.epss[0];
    assert_eq!(first.cve, "CVE-2024-9999");
    assert_eq!(first.score, 0.00413);
    assert_eq!(first.percentile, 0.34395);
    assert_eq!(first.date, None);
}

#[test]
fn first_native_layout_dated() {
    let sink = import(&fixture("epss_scores-2025-08-25.csv"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.epss.len(), 5);
    let date = NaiveDate::from_ymd_opt(2025, 8, 25);
    assert!(sink.epss.iter().all(|score| score.date == date));
    assert_eq!(sink.epss[0].cve, "CVE-1999-1593");
    assert_eq!(sink.epss[0].score, 0.18126);
}

#[test]
fn layouts_give_same_scores() {
    let semicolon = import(&fixture("CVE_1999_EPSS.csv"));
    let native = import(&fixture("epss_scores-2025-08-25.csv"));
    let key = |sink: &CollectingSink| -> Vec<(String, f32, f32)> {
        sink.epss
            .iter()
            .map(|score| (score.cve.clone(), score.score, score.percentile))
            .collect()
    };
    assert_eq!(key(&semicolon), key(&native));
}

#[test]
fn gzip_native_layout() {
    let path = fixture("epss_scores-2025-08-25.csv");
    let plain = import(&path);
    let compressed = rampart_testkit::gzip(&std::fs::read(&path).unwrap());
    let mut sink = CollectingSink::default();
    epss::import_reader(
        Cursor::new(compressed),
        Path::new("epss_scores-2025-08-25.csv.gz"),
        &mut sink,
    )
    .unwrap();
    assert_eq!(sink.epss, plain.epss);
}

#[test]
fn malformed_lines_skipped() {
    let text = "\
#model_version:v2025.03.14,score_date:2025-08-25T12:55:00Z
cve,epss,percentile
CVE-1999-1593,0.18126,0.96946
GHSA-jfh8-c2jp-5v3q,0.1,0.2
CVE-1999-1592,0.00994
CVE-1999-1591,high,0.95589
CVE-1999-1590,1.01032,0.60851

CVE-1999-1589,0.00333,0.26224
";
    let path = Path::new("epss_scores-2025-08-25.csv");
    let mut sink = CollectingSink::default();
    epss::import_reader(text.as_bytes(), path, &mut sink).unwrap();

    let cves: Vec<&str> = sink.epss.iter().map(|score| score.cve.as_str()).collect();
    assert_eq!(cves, ["CVE-1999-1593", "CVE-1999-1589"]);
    let records: Vec<&str> = sink.skipped.iter().map(|s| s.record.as_str()).collect();
    assert_eq!(records, ["line 4", "line 5", "line 6", "line 7"]);
    assert!(sink.skipped.iter().all(|s| s.file == path));
}

#[test]
fn missing_file_error() {
    let mut sink = CollectingSink::default();
    let error = epss::import_file(&fixture("absent.csv"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Io { .. }), "{error}");
}

#[test]
fn file_without_scores_error() {
    let text = "cveID,vendorProject,product\nCVE-2025-48384,Git,Git\n";
    let mut sink = CollectingSink::default();
    let error =
        epss::import_reader(text.as_bytes(), Path::new("scores.csv"), &mut sink).unwrap_err();
    assert!(matches!(error, ImportError::Format { .. }), "{error}");
}

#[test]
fn empty_file_imports_nothing() {
    let mut sink = CollectingSink::default();
    epss::import_reader(&b""[..], Path::new("scores.csv"), &mut sink).unwrap();
    assert!(sink.epss.is_empty());
}

proptest! {
    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = epss::import_reader(bytes.as_slice(), Path::new("scores.csv"), &mut sink);
    }

    #[test]
    fn arbitrary_rows(rows in proptest::collection::vec("[#CVE0-9.,;e:a-z_-]{0,40}", 0..30)) {
        let text = rows.join("\n");
        let mut sink = CollectingSink::default();
        let _ = epss::import_reader(text.as_bytes(), Path::new("scores.csv"), &mut sink);
    }
}

#[test]
fn corpus_all_years() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(corpus.join("advisories/epss"))
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|extension| extension == "csv"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 28);

    let started = Instant::now();
    let mut sink = CollectingSink::default();
    for file in &files {
        epss::import_file(file, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    }
    let elapsed = started.elapsed();
    eprintln!(
        "EPSS corpus: {} rows from {} files in {elapsed:?}",
        sink.epss.len(),
        files.len()
    );

    assert!(
        sink.skipped.is_empty(),
        "{:?}",
        &sink.skipped[..sink.skipped.len().min(5)]
    );
    assert_eq!(sink.epss.len(), 360_142);
    assert!(sink.epss.iter().all(|score| score.date.is_none()));
}
