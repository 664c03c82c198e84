//! OSV import: records cut from the PyPI (YAML), crates.io, Go and Docker
//! Hardened Images (JSON) databases, an `all.zip` built from them, malformed
//! records, the whole corpus when it exists, and arbitrary bytes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;

use proptest::prelude::*;
use rampart_advisory::import::osv::{import_osv_file, import_osv_reader, import_osv_zip};
use rampart_advisory::import::{CollectingSink, ImportError};
use rampart_advisory::{Advisory, Rating, SeverityKind, Status};
use rampart_version::osv::{Event, RangeType};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/osv")
        .join(name)
}

const JSON_FIXTURES: [&str; 8] = [
    "crates-io/RUSTSEC-2016-0001.json",
    "crates-io/RUSTSEC-2019-0031.json",
    "crates-io/RUSTSEC-2024-0445.json",
    "go/GO-2020-0050.json",
    "go/GO-2022-0617.json",
    "dhi/CVE-2020-15801.json",
    "dhi/CVE-2022-23498.json",
    "dhi/CVE-2024-22018.json",
];

fn import_one(path: &Path) -> Advisory {
    let mut sink = CollectingSink::default();
    import_osv_file(path, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    assert!(sink.skipped.is_empty(), "{:?}", sink.skipped);
    assert_eq!(sink.advisories.len(), 1);
    sink.advisories.remove(0)
}

fn import_bytes(bytes: &[u8], name: &str) -> CollectingSink {
    let mut sink = CollectingSink::default();
    import_osv_reader(bytes, Path::new(name), &mut sink).unwrap_or_else(|error| panic!("{error}"));
    sink
}

#[test]
fn pypi_yaml_record_maps() {
    let advisory = import_one(&fixture("pypi/PYSEC-2021-335.yaml"));
    let affected = &advisory.affected[0];

    assert_eq!(advisory.id, "PYSEC-2021-335");
    assert_eq!(advisory.source, "osv:pypi");
    assert_eq!(advisory.aliases, ["CVE-2021-32807", "GHSA-qcx9-j53g-ccgf"]);
    assert_eq!(
        advisory.published.unwrap().to_rfc3339(),
        "2021-07-30T22:15:00+00:00"
    );
    assert_eq!(advisory.references.len(), 3);
    assert_eq!(advisory.references[1].kind.as_deref(), Some("FIX"));
    assert_eq!(affected.namespace.as_str(), "pypi");
    assert_eq!(affected.package, "accesscontrol");
    assert_eq!(affected.status, Status::Affected);
    assert_eq!(affected.versions, ["4.0", "4.1", "4.2", "5.0", "5.1"]);
}

#[test]
fn git_and_ecosystem_ranges_kept() {
    let advisory = import_one(&fixture("pypi/PYSEC-2021-335.yaml"));
    let ranges = &advisory.affected[0].ranges;

    assert_eq!(ranges.len(), 2);
    assert_eq!(ranges[0].range_type, RangeType::Git);
    assert_eq!(
        ranges[0].events[1],
        Event::Fixed("b42dd4badf803bb9fb71ac34cd9cb0c249262f2c".into())
    );
    assert_eq!(ranges[1].range_type, RangeType::Ecosystem);
    assert_eq!(
        ranges[1].events,
        [
            Event::Introduced("4.0".into()),
            Event::Fixed("4.3".into()),
            Event::Introduced("5.0".into()),
            Event::Fixed("5.2".into()),
        ]
    );
}

#[test]
fn pypi_cvss_scored() {
    let advisory = import_one(&fixture("pypi/PYSEC-2020-342.yaml"));
    let severity = &advisory.severities[0];

    assert_eq!(severity.kind, SeverityKind::CvssV3);
    assert_eq!(severity.score, Some(9.8));
    assert_eq!(severity.rating, Rating::Critical);
    assert_eq!(severity.source, "osv:pypi");
    // `modified` is an unquoted YAML timestamp in this record.
    assert_eq!(
        advisory.modified.unwrap().to_rfc3339(),
        "2023-11-07T20:24:23.946863+00:00"
    );
    assert_eq!(advisory.affected[0].versions[0], "0.1.0");
}

#[test]
fn pypi_withdrawn_without_ranges() {
    let advisory = import_one(&fixture("pypi/PYSEC-2022-15.yaml"));
    assert!(advisory.withdrawn.is_some());
    assert!(advisory.affected[0].ranges.is_empty());
}

#[test]
fn unquoted_yaml_versions_keep_spelling() {
    // PYSEC-2021-335 with its quotes removed, as a hand-edited file has it.
    let text = std::fs::read_to_string(fixture("pypi/PYSEC-2021-335.yaml"))
        .unwrap()
        .replace('"', "");
    let sink = import_bytes(text.as_bytes(), "PYSEC-2021-335.yaml");
    let affected = &sink.advisories[0].affected[0];

    assert_eq!(
        affected.ranges[1].events[0],
        Event::Introduced("4.0".into())
    );
    assert_eq!(
        affected.ranges[1].events[2],
        Event::Introduced("5.0".into())
    );
    assert_eq!(affected.versions, ["4.0", "4.1", "4.2", "5.0", "5.1"]);
}

#[test]
fn crates_cvss_v30_scored() {
    let advisory = import_one(&fixture("crates-io/RUSTSEC-2016-0001.json"));
    let range = &advisory.affected[0].ranges[0];

    assert_eq!(advisory.source, "osv:crates.io");
    assert_eq!(advisory.severities[0].score, Some(8.1));
    assert_eq!(advisory.severities[0].rating, Rating::High);
    assert_eq!(range.range_type, RangeType::Semver);
    assert_eq!(range.events[0], Event::Introduced("0.0.0-0".into()));
}

#[test]
fn crates_cvss_v4_unscored() {
    let advisory = import_one(&fixture("crates-io/RUSTSEC-2024-0445.json"));
    let severity = &advisory.severities[0];

    assert_eq!(severity.kind, SeverityKind::CvssV4);
    assert_eq!(
        severity.vector.as_deref(),
        Some("CVSS:4.0/AV:N/AC:L/AT:P/PR:L/UI:N/VC:L/VI:L/VA:L/SC:N/SI:N/SA:N")
    );
    assert_eq!(severity.score, None);
    assert_eq!(severity.rating, Rating::Unknown);
}

#[test]
fn crates_withdrawn() {
    let advisory = import_one(&fixture("crates-io/RUSTSEC-2019-0031.json"));
    assert_eq!(
        advisory.withdrawn.unwrap().to_rfc3339(),
        "2020-10-08T12:00:00+00:00"
    );
}

#[test]
fn go_zero_time_is_unknown() {
    let advisory = import_one(&fixture("go/GO-2020-0050.json"));

    assert_eq!(advisory.source, "osv:go");
    assert_eq!(advisory.modified, None);
    assert!(advisory.published.is_some());
    assert_eq!(advisory.related.len(), 4);
    assert_eq!(
        advisory.affected[0].package,
        "github.com/russellhaering/goxmldsig"
    );
}

#[test]
fn go_withdrawn() {
    let advisory = import_one(&fixture("go/GO-2022-0617.json"));
    assert_eq!(advisory.published, None);
    assert!(advisory.withdrawn.is_some());
}

#[test]
fn dhi_package_severities() {
    let advisory = import_one(&fixture("dhi/CVE-2020-15801.json"));
    let package_severity = &advisory.affected[0].severities[0];

    assert_eq!(advisory.source, "osv:dhi");
    assert_eq!(package_severity.kind, SeverityKind::CvssV3);
    assert_eq!(package_severity.score, Some(9.8));
    assert_eq!(package_severity.source, "osv:dhi");
    assert_eq!(advisory.severities[0].kind, SeverityKind::Vendor);
    assert_eq!(advisory.severities[0].rating, Rating::Critical);
}

#[test]
fn dhi_package_vendor_word() {
    let advisory = import_one(&fixture("dhi/CVE-2024-22018.json"));
    let severity = &advisory.affected[0].severities[0];
    assert_eq!(severity.kind, SeverityKind::Vendor);
    assert_eq!(severity.rating, Rating::Low);
}

#[test]
fn record_without_affected_imported() {
    let advisory = import_one(&fixture("dhi/CVE-2022-23498.json"));
    assert!(advisory.affected.is_empty());
    assert_eq!(advisory.source, "osv");
}

#[test]
fn ghsa_database_specific_read() {
    // The shape GitHub's advisory database exports, on a corpus record.
    let mut record: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixture("go/GO-2020-0050.json")).unwrap()).unwrap();
    record["database_specific"] =
        serde_json::json!({"severity": "MODERATE", "cwe_ids": ["CWE-347"]});
    let sink = import_bytes(&serde_json::to_vec(&record).unwrap(), "GO-2020-0050.json");
    let advisory = &sink.advisories[0];

    assert_eq!(advisory.cwes, ["CWE-347"]);
    assert_eq!(advisory.severities[0].kind, SeverityKind::Vendor);
    assert_eq!(advisory.severities[0].rating, Rating::Medium);
}

#[test]
fn json_array_streams_records() {
    let records: Vec<serde_json::Value> = JSON_FIXTURES
        .iter()
        .map(|name| serde_json::from_slice(&std::fs::read(fixture(name)).unwrap()).unwrap())
        .collect();
    let mut array = records.clone();
    array.insert(1, serde_json::json!({"summary": "no id"}));
    array.insert(
        2,
        serde_json::json!({"id": "GO-BAD", "affected": "not a list"}),
    );
    let sink = import_bytes(&serde_json::to_vec(&array).unwrap(), "query.json");

    assert_eq!(sink.advisories.len(), records.len());
    assert_eq!(sink.skipped.len(), 2);
    assert_eq!(sink.skipped[0].record, "record 2");
    assert_eq!(sink.skipped[1].record, "GO-BAD");
}

#[test]
fn truncated_array_keeps_earlier_records() {
    let first = std::fs::read_to_string(fixture(JSON_FIXTURES[0])).unwrap();
    let text = format!("[{first}, {{\"id\": \"RUSTSEC-");
    let sink = import_bytes(text.as_bytes(), "query.json");

    assert_eq!(sink.advisories.len(), 1);
    assert_eq!(sink.skipped.len(), 1);
    assert_eq!(sink.skipped[0].record, "record 2 and after");
}

/// Writes the fixture records as JSON files, one bad, into `dir`.
fn write_malformed_set(dir: &Path) -> Vec<PathBuf> {
    let good = std::fs::read_to_string(fixture("crates-io/RUSTSEC-2016-0001.json")).unwrap();
    // An event with two keys, which the schema forbids.
    let two_keys = good.replace(
        "\"introduced\": \"0.0.0-0\"",
        "\"introduced\": \"0.0.0-0\", \"fixed\": \"0.9.0\"",
    );
    let unknown_range = good
        .replace("RUSTSEC-2016-0001", "RUSTSEC-2016-0002")
        .replace("\"SEMVER\"", "\"NPM\"");
    let no_id = good.replace("\"id\": \"RUSTSEC-2016-0001\",", "");
    let broken = &good[..good.len() / 2];

    let files = [
        ("good.json", good.as_str()),
        ("two-keys.json", two_keys.as_str()),
        ("unknown-range.json", unknown_range.as_str()),
        ("no-id.json", no_id.as_str()),
        ("broken.json", broken),
    ];
    files
        .iter()
        .map(|(name, text)| {
            let path = dir.join(name);
            std::fs::write(&path, text).unwrap();
            path
        })
        .collect()
}

#[test]
fn malformed_records_skipped() {
    let dir = tempfile::tempdir().unwrap();
    let files = write_malformed_set(dir.path());
    let mut sink = CollectingSink::default();
    for file in &files {
        import_osv_file(file, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    }
    let skipped: Vec<(&Path, &str)> = sink
        .skipped
        .iter()
        .map(|s| (s.file.as_path(), s.record.as_str()))
        .collect();

    assert_eq!(sink.advisories.len(), 1);
    assert_eq!(
        skipped,
        [
            (files[1].as_path(), "RUSTSEC-2016-0001"),
            (files[2].as_path(), "RUSTSEC-2016-0002"),
            (files[3].as_path(), "record 1"),
            (files[4].as_path(), "RUSTSEC-2016-0001"),
        ]
    );
    assert!(sink.skipped[0].reason.contains("more than one of"));
    assert!(
        sink.skipped[1]
            .reason
            .contains("unknown range type \"NPM\"")
    );
    assert!(sink.skipped[2].reason.contains("no id"));
}

#[test]
fn malformed_yaml_named_by_id() {
    let text = std::fs::read_to_string(fixture("pypi/PYSEC-2021-335.yaml"))
        .unwrap()
        .replace(
            "published: \"2021-07-30T22:15:00Z\"",
            "published: last july",
        );
    let sink = import_bytes(text.as_bytes(), "PYSEC-2021-335.yaml");

    assert!(sink.advisories.is_empty());
    assert_eq!(sink.skipped[0].record, "PYSEC-2021-335");
    assert!(sink.skipped[0].reason.contains("invalid published date"));
}

#[test]
fn missing_file_fails() {
    let mut sink = CollectingSink::default();
    let result = import_osv_file(&fixture("absent.json"), &mut sink);
    assert!(matches!(result, Err(ImportError::Io { .. })));
}

fn write_zip(path: &Path, entries: &[(&str, Vec<u8>)]) {
    let mut writer = zip::ZipWriter::new(std::fs::File::create(path).unwrap());
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for (name, bytes) in entries {
        writer.start_file(*name, options).unwrap();
        writer.write_all(bytes).unwrap();
    }
    writer.finish().unwrap();
}

#[test]
fn zip_streams_entries() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("all.zip");
    let mut entries: Vec<(&str, Vec<u8>)> = JSON_FIXTURES
        .iter()
        .map(|name| {
            let entry = name.rsplit('/').next().unwrap();
            (entry, std::fs::read(fixture(name)).unwrap())
        })
        .collect();
    entries.push((
        "bad.json",
        b"{\"id\": \"GO-2099-0001\", \"affected\": 7}".to_vec(),
    ));
    entries.push(("README.txt", b"not a record".to_vec()));
    // Inflates past the record limit: skipped without being read whole.
    let mut huge = b"{\"id\": \"HUGE-1\", \"details\": \"".to_vec();
    huge.resize(17 * 1024 * 1024, b'a');
    entries.push(("huge.json", huge));
    write_zip(&archive, &entries);

    let mut sink = CollectingSink::default();
    import_osv_zip(&archive, &mut sink).unwrap_or_else(|error| panic!("{error}"));
    let skipped: Vec<String> = sink
        .skipped
        .iter()
        .map(|s| format!("{} {}", s.file.display(), s.record))
        .collect();

    assert_eq!(sink.advisories.len(), JSON_FIXTURES.len());
    assert_eq!(
        skipped,
        [
            format!("{}!bad.json GO-2099-0001", archive.display()),
            format!("{}!huge.json huge.json", archive.display()),
        ]
    );
}

#[test]
fn zip_invalid_archive_fails() {
    let mut sink = CollectingSink::default();
    let result = import_osv_zip(&fixture("go/GO-2020-0050.json"), &mut sink);
    assert!(matches!(result, Err(ImportError::Format { .. })));
}

/// Collects the OSV files under `dir`, sorted.
fn osv_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_owned()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "json" || e == "yaml") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Corpus tier: every record of the PyPI, crates.io, Go and DHI databases.
#[test]
fn corpus_counts() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let root = corpus.join("advisories/osv");
    let expected: [(&str, usize, usize); 4] = [
        ("pypi", 2_661, 10),
        ("crates-io", 1_206, 13),
        ("go", 4_291, 17),
        ("dhi", 693, 13),
    ];

    let started = Instant::now();
    let mut counts = BTreeMap::new();
    let mut scored = 0;
    for (folder, _, _) in expected {
        let mut sink = CollectingSink::default();
        for file in osv_files(&root.join(folder)) {
            import_osv_file(&file, &mut sink).unwrap_or_else(|error| panic!("{error}"));
        }
        assert!(sink.skipped.is_empty(), "{folder}: {:?}", sink.skipped);

        let withdrawn = sink
            .advisories
            .iter()
            .filter(|a| a.withdrawn.is_some())
            .count();
        scored += sink
            .advisories
            .iter()
            .flat_map(|a| &a.severities)
            .filter(|s| s.score.is_some())
            .count();
        counts.insert(folder, (sink.advisories.len(), withdrawn));
    }
    eprintln!("imported the OSV corpus in {:?}", started.elapsed());

    for (folder, records, withdrawn) in expected {
        assert_eq!(counts[folder], (records, withdrawn), "{folder}");
    }
    // PyPI and crates.io CVSS v3 vectors (202 + 360); crates.io's 57 v4
    // vectors stay unscored.
    assert_eq!(scored, 562);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut sink = CollectingSink::default();
        let _ = import_osv_reader(bytes.as_slice(), Path::new("fuzz.json"), &mut sink);
    }

    #[test]
    fn mutated_records_never_panic(
        fixture_index in 0..JSON_FIXTURES.len() + 1,
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in any::<prop::sample::Index>(),
    ) {
        let name = JSON_FIXTURES.get(fixture_index).copied().unwrap_or("pypi/PYSEC-2021-335.yaml");
        let mut bytes = std::fs::read(fixture(name)).unwrap();
        let position = position.index(bytes.len());
        bytes[position] = byte;
        bytes.truncate(cut.index(bytes.len()) + 1);

        let mut sink = CollectingSink::default();
        let _ = import_osv_reader(bytes.as_slice(), Path::new(name), &mut sink);
    }

    #[test]
    fn mutated_zip_never_panics(
        position in any::<prop::sample::Index>(),
        byte in any::<u8>(),
        cut in proptest::option::of(any::<prop::sample::Index>()),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("all.zip");
        let entries: Vec<(&str, Vec<u8>)> = JSON_FIXTURES[..2]
            .iter()
            .map(|name| (*name, std::fs::read(fixture(name)).unwrap()))
            .collect();
        write_zip(&archive, &entries);

        let mut bytes = std::fs::read(&archive).unwrap();
        let position = position.index(bytes.len());
        bytes[position] = byte;
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()) + 1);
        }
        std::fs::write(&archive, &bytes).unwrap();

        let mut sink = CollectingSink::default();
        let _ = import_osv_zip(&archive, &mut sink);
    }
}
