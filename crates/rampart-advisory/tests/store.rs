//! The advisory database: round trips, merging, lookups by package and by
//! alias, open errors, metadata counts and concurrent readers.

use std::path::{Path, PathBuf};

use chrono::{DateTime, NaiveDate, TimeZone, Utc};
use rampart_advisory::import::{CollectingSink, RecordSink, Skipped};
use rampart_advisory::store::{
    BuildMetadata, Database, DatabaseBuilder, InputMeta, Metadata, SCHEMA_VERSION, StoreError,
};
use rampart_advisory::{
    Advisory, AffectedPackage, EpssScore, KevEntry, Namespace, Rating, Reference, Severity,
    SeverityKind, Status,
};
use tempfile::TempDir;

fn fixture(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(path)
}

fn time(day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 3, day, 12, 0, 0).unwrap()
}

fn build_metadata() -> BuildMetadata {
    BuildMetadata {
        built_at: time(20),
        rampart_version: "0.1.0".to_owned(),
        inputs: vec![InputMeta {
            feed: "osv".to_owned(),
            location: "/feeds/osv".to_owned(),
            fetched_at: Some(time(19)),
            etag: Some("\"abc\"".to_owned()),
            last_modified: None,
        }],
    }
}

/// Creates an advisory affecting `packages` (namespace key, package name).
fn advisory(id: &str, source: &str, packages: &[(&str, &str)]) -> Advisory {
    Advisory {
        id: id.to_owned(),
        aliases: vec![format!("CVE-{}", id.len() + 2000)],
        source: source.to_owned(),
        published: Some(time(1)),
        modified: Some(time(2)),
        summary: format!("summary of {id}"),
        details: format!("details of {id}"),
        affected: packages
            .iter()
            .map(|(namespace, package)| {
                AffectedPackage::fixed_in(Namespace::from_key(namespace), *package, "1.2.3")
            })
            .collect(),
        ..Advisory::default()
    }
}

/// Builds a database at `dir/advisories.db` from `sink`.
fn build(dir: &TempDir, sink: CollectingSink) -> (PathBuf, Metadata) {
    let path = dir.path().join("advisories.db");
    let mut builder = DatabaseBuilder::create(&path).unwrap();
    for advisory in sink.advisories {
        builder.add_advisory(advisory).unwrap();
    }
    for entry in sink.kev {
        builder.add_kev(entry).unwrap();
    }
    for score in sink.epss {
        builder.add_epss(score).unwrap();
    }
    for skipped in sink.skipped {
        builder.skipped(skipped);
    }
    let metadata = builder.finish(build_metadata()).unwrap();
    (path, metadata)
}

fn build_advisories(dir: &TempDir, advisories: Vec<Advisory>) -> Database {
    let sink = CollectingSink {
        advisories,
        ..CollectingSink::default()
    };
    let (path, _) = build(dir, sink);
    Database::open(&path).unwrap()
}

/// Reads the real OSV, KEV and EPSS fixtures with the importers.
fn real_records() -> CollectingSink {
    let mut sink = CollectingSink::default();
    for file in [
        "osv/go/GO-2020-0050.json",
        "osv/go/GO-2022-0617.json",
        "osv/crates-io/RUSTSEC-2019-0031.json",
        "osv/pypi/PYSEC-2021-335.yaml",
        "osv/dhi/CVE-2024-22018.json",
    ] {
        rampart_advisory::import::osv::import_osv_file(&fixture(file), &mut sink).unwrap();
    }
    rampart_advisory::import::kev::import_file(
        &fixture("kev/known_exploited_vulnerabilities.json"),
        &mut sink,
    )
    .unwrap();
    rampart_advisory::import::epss::import_file(&fixture("epss/CVE_2024_EPSS.csv"), &mut sink)
        .unwrap();
    sink
}

#[test]
fn real_records_round_trip() {
    let dir = TempDir::new().unwrap();
    let records = real_records();
    let expected = records.advisories.clone();
    let kev = records.kev.clone();
    let epss = records.epss.clone();
    assert!(!expected.is_empty());
    let (path, _) = build(&dir, records);
    let database = Database::open(&path).unwrap();

    for advisory in &expected {
        let stored = database.advisories(&advisory.id).unwrap();
        assert_eq!(stored, vec![advisory.clone()], "{}", advisory.id);
    }
    for entry in &kev {
        assert_eq!(database.kev(&entry.cve).unwrap().as_ref(), Some(entry));
    }
    for score in &epss {
        assert_eq!(database.epss(&score.cve).unwrap().as_ref(), Some(score));
    }
}

#[test]
fn real_records_found_by_package() {
    let dir = TempDir::new().unwrap();
    let records = real_records();
    let expected = records.advisories.clone();
    let (path, _) = build(&dir, records);
    let database = Database::open(&path).unwrap();

    for advisory in expected.iter().filter(|a| a.withdrawn.is_none()) {
        for affected in &advisory.affected {
            let found = database
                .affected(&affected.namespace, &affected.package)
                .unwrap();
            let entry = found
                .iter()
                .find(|entry| entry.id == advisory.id && entry.source == advisory.source);
            assert_eq!(
                entry.map(|e| &e.affected),
                Some(affected),
                "{}",
                advisory.id
            );
            assert_eq!(entry.map(|e| &e.aliases), Some(&advisory.aliases));
        }
    }
}

/// The in-place lookup keeps exactly what its selector selects, and the
/// kept entries equal those of the owned lookup.
#[test]
fn in_place_lookup_matches_owned() {
    let dir = TempDir::new().unwrap();
    let records = real_records();
    let expected = records.advisories.clone();
    let (path, _) = build(&dir, records);
    let database = Database::open(&path).unwrap();

    for advisory in &expected {
        for affected in &advisory.affected {
            let owned = database
                .affected(&affected.namespace, &affected.package)
                .unwrap();
            let all = database
                .affected_matching(&affected.namespace, &affected.package, |entry| {
                    Some(entry.ranges.len())
                })
                .unwrap();
            let kept: Vec<_> = all.iter().map(|(entry, _)| entry.clone()).collect();
            assert_eq!(kept, owned, "{}", advisory.id);
            for (entry, range_count) in &all {
                assert_eq!(*range_count, entry.affected.ranges.len());
            }

            let none = database
                .affected_matching(&affected.namespace, &affected.package, |_| None::<()>)
                .unwrap();
            assert!(none.is_empty());
        }
    }
}

#[test]
fn unknown_keys_are_empty() {
    let dir = TempDir::new().unwrap();
    let (path, _) = build(&dir, real_records());
    let database = Database::open(&path).unwrap();
    let go = Namespace::ecosystem("Go");
    assert!(database.affected(&go, "no/such/module").unwrap().is_empty());
    assert!(database.advisories("CVE-1900-0001").unwrap().is_empty());
    assert_eq!(database.kev("CVE-1900-0001").unwrap(), None);
    assert_eq!(database.epss("CVE-1900-0001").unwrap(), None);
}

#[test]
fn full_record_round_trip() {
    let dir = TempDir::new().unwrap();
    let mut record = advisory("GHSA-aaaa-bbbb-cccc", "osv:pypi", &[("pypi", "jinja2")]);
    record.related = vec!["CVE-2024-0002".to_owned()];
    record.withdrawn = None;
    record.cwes = vec!["CWE-79".to_owned()];
    record.references = vec![Reference {
        kind: Some("ADVISORY".to_owned()),
        url: "https://example.org/a".to_owned(),
    }];
    record.severities = vec![Severity {
        source: "ghsa".to_owned(),
        kind: SeverityKind::CvssV3,
        vector: Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H".to_owned()),
        score: Some(9.8),
        rating: Rating::Critical,
    }];
    record.affected[0].versions = vec!["1.0".to_owned(), "1.1".to_owned()];
    record.affected[0].urgency = Some("high".to_owned());
    record.affected[0].status = Status::WontFix;
    let database = build_advisories(&dir, vec![record.clone()]);

    assert_eq!(
        database.advisories(&record.id).unwrap(),
        vec![record.clone()]
    );
    let found = database
        .affected(&Namespace::from_key("pypi"), "jinja2")
        .unwrap();
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].affected, record.affected[0]);
}

#[test]
fn merge_same_source_and_id() {
    let dir = TempDir::new().unwrap();
    let mut first = advisory("CVE-2024-1000", "debian-tracker", &[("debian:12", "zlib")]);
    first.aliases = vec!["DSA-1-1".to_owned()];
    first.modified = Some(time(3));
    first.severities = vec![Severity {
        source: "debian".to_owned(),
        kind: SeverityKind::Vendor,
        vector: None,
        score: None,
        rating: Rating::High,
    }];
    let mut second = advisory("CVE-2024-1000", "debian-tracker", &[("debian:11", "zlib")]);
    second.aliases = vec!["DSA-1-1".to_owned(), "DLA-2-1".to_owned()];
    second.modified = Some(time(9));
    second.severities = first.severities.clone();
    second.summary = String::new();
    let other = advisory("CVE-2024-0999", "debian-tracker", &[("debian:12", "zlib")]);
    let database = build_advisories(&dir, vec![first.clone(), other, second.clone()]);

    let merged = database.advisories("CVE-2024-1000").unwrap();
    assert_eq!(merged.len(), 1);
    assert_eq!(merged[0].affected.len(), 2);
    assert_eq!(merged[0].aliases, ["DSA-1-1", "DLA-2-1"]);
    assert_eq!(merged[0].severities.len(), 1);
    assert_eq!(merged[0].modified, Some(time(9)));
    assert_eq!(merged[0].summary, first.summary);

    let bullseye = database
        .affected(&Namespace::distro("debian", "11"), "zlib")
        .unwrap();
    assert_eq!(bullseye.len(), 1);
    assert_eq!(bullseye[0].aliases, ["DSA-1-1", "DLA-2-1"]);
    let bookworm = database
        .affected(&Namespace::distro("debian", "12"), "zlib")
        .unwrap();
    let ids: Vec<&str> = bookworm.iter().map(|entry| entry.id.as_str()).collect();
    assert_eq!(ids, ["CVE-2024-0999", "CVE-2024-1000"]);
}

#[test]
fn same_id_other_sources_kept_apart() {
    let dir = TempDir::new().unwrap();
    let nvd = advisory("CVE-2024-2000", "nvd", &[]);
    let debian = advisory("CVE-2024-2000", "debian-tracker", &[("debian:12", "curl")]);
    let database = build_advisories(&dir, vec![nvd, debian]);

    let sources: Vec<String> = database
        .advisories("CVE-2024-2000")
        .unwrap()
        .into_iter()
        .map(|advisory| advisory.source)
        .collect();
    assert_eq!(sources, ["debian-tracker", "nvd"]);
}

#[test]
fn id_across_blocks_found() {
    // Advisories are stored in blocks of 16, so 40 sources of one id span
    // three blocks.
    let dir = TempDir::new().unwrap();
    let mut advisories: Vec<Advisory> = (0..40)
        .map(|n| advisory("CVE-2024-5000", &format!("source-{n:02}"), &[]))
        .collect();
    advisories.push(advisory("CVE-2024-4999", "nvd", &[]));
    advisories.push(advisory("CVE-2024-5001", "nvd", &[]));
    let database = build_advisories(&dir, advisories);

    let found = database.advisories("CVE-2024-5000").unwrap();
    assert_eq!(found.len(), 40);
    assert!(found.iter().all(|advisory| advisory.id == "CVE-2024-5000"));
    assert_eq!(database.advisories("CVE-2024-5001").unwrap().len(), 1);
}

#[test]
fn alias_lookup_finds_record() {
    let dir = TempDir::new().unwrap();
    let mut ghsa = advisory("GHSA-xxxx-yyyy-zzzz", "osv:npm", &[("npm", "lodash")]);
    ghsa.aliases = vec!["CVE-2024-3000".to_owned()];
    let mut pysec = advisory("PYSEC-2024-1", "osv:pypi", &[("pypi", "requests")]);
    pysec.aliases = vec!["CVE-2024-30001".to_owned()];
    let nvd = advisory("CVE-2024-3000", "nvd", &[]);
    let database = build_advisories(&dir, vec![ghsa, pysec, nvd]);

    let ids: Vec<(String, String)> = database
        .advisories("CVE-2024-3000")
        .unwrap()
        .into_iter()
        .map(|advisory| (advisory.id, advisory.source))
        .collect();
    assert_eq!(
        ids,
        [
            ("CVE-2024-3000".to_owned(), "nvd".to_owned()),
            ("GHSA-xxxx-yyyy-zzzz".to_owned(), "osv:npm".to_owned()),
        ]
    );
}

#[test]
fn withdrawn_excluded_from_affected() {
    let dir = TempDir::new().unwrap();
    let mut withdrawn = advisory("GHSA-wwww-wwww-wwww", "osv:npm", &[("npm", "left-pad")]);
    withdrawn.withdrawn = Some(time(5));
    let live = advisory("GHSA-llll-llll-llll", "osv:npm", &[("npm", "left-pad")]);
    let database = build_advisories(&dir, vec![withdrawn.clone(), live]);

    let found = database
        .affected(&Namespace::ecosystem("npm"), "left-pad")
        .unwrap();
    let ids: Vec<&str> = found.iter().map(|entry| entry.id.as_str()).collect();
    assert_eq!(ids, ["GHSA-llll-llll-llll"]);
    assert_eq!(
        database.advisories("GHSA-wwww-wwww-wwww").unwrap(),
        vec![withdrawn]
    );
}

#[test]
fn dictionary_build_round_trip() {
    // Enough advisories for the builder to train a zstd dictionary.
    let dir = TempDir::new().unwrap();
    let advisories: Vec<Advisory> = (0..2500)
        .map(|n| {
            let mut record = advisory(
                &format!("GHSA-{n:04}-test-case"),
                "osv:crates.io",
                &[("crates.io", &format!("crate-{}", n % 700))],
            );
            record.details = format!(
                "The crate-{} parser reads a length field of {n} bytes without a bound, \
                 so a crafted input makes it allocate without limit.",
                n % 700
            );
            record
        })
        .collect();
    let database = build_advisories(&dir, advisories.clone());

    for record in advisories.iter().step_by(97) {
        assert_eq!(
            database.advisories(&record.id).unwrap(),
            vec![record.clone()]
        );
    }
    let found = database
        .affected(&Namespace::ecosystem("crates.io"), "crate-5")
        .unwrap();
    assert_eq!(found.len(), 4);
}

#[test]
fn metadata_counts() {
    let dir = TempDir::new().unwrap();
    let mut withdrawn = advisory("GHSA-wwww-wwww-wwww", "osv:npm", &[("npm", "a")]);
    withdrawn.withdrawn = Some(time(5));
    withdrawn.modified = Some(time(11));
    let mut sink = CollectingSink {
        advisories: vec![
            advisory("GHSA-1", "osv:npm", &[("npm", "a"), ("npm", "b")]),
            withdrawn,
            advisory("CVE-1", "debian-tracker", &[("debian:12", "zlib")]),
            advisory("CVE-1", "debian-tracker", &[("debian:11", "zlib")]),
        ],
        kev: vec![kev_entry("CVE-1"), kev_entry("CVE-1"), kev_entry("CVE-2")],
        epss: vec![
            epss_score("CVE-1", Some(NaiveDate::from_ymd_opt(2025, 8, 24).unwrap())),
            epss_score("CVE-2", Some(NaiveDate::from_ymd_opt(2025, 8, 25).unwrap())),
            epss_score("CVE-3", None),
        ],
        skipped: Vec::new(),
    };
    for n in 0..150 {
        sink.skipped.push(Skipped {
            file: PathBuf::from(format!("/feeds/osv/record-{n}.json")),
            record: "record 1".to_owned(),
            reason: "no id".to_owned(),
        });
    }
    sink.skipped.push(Skipped {
        file: PathBuf::from("/elsewhere/list"),
        record: "line 3".to_owned(),
        reason: "bad date".to_owned(),
    });
    let (path, metadata) = build(&dir, sink);

    assert_eq!(metadata.schema_version, SCHEMA_VERSION);
    assert_eq!(metadata.kev_count, 2);
    assert_eq!(metadata.epss_count, 3);
    assert_eq!(
        metadata.epss_newest_date,
        NaiveDate::from_ymd_opt(2025, 8, 25)
    );
    assert_eq!(metadata.skipped, 151);
    assert_eq!(metadata.skipped_examples.len(), 100);
    assert_eq!(
        metadata.skipped_examples[0],
        "/feeds/osv/record-0.json: skipped record 1: no id"
    );

    let source = |name: &str| {
        metadata
            .sources
            .iter()
            .find(|source| source.source == name)
            .cloned()
            .unwrap_or_else(|| panic!("no source {name}"))
    };
    assert_eq!(source("osv:npm").records, 2);
    assert_eq!(source("osv:npm").withdrawn, 1);
    assert_eq!(source("osv:npm").newest_modified, Some(time(11)));
    assert_eq!(source("debian-tracker").records, 1);
    assert_eq!(source("osv").skipped, 150);
    assert_eq!(source("unknown").skipped, 1);

    let namespaces: Vec<(&str, u64)> = metadata
        .namespaces
        .iter()
        .map(|(namespace, count)| (namespace.as_str(), *count))
        .collect();
    assert_eq!(namespaces, [("debian:11", 1), ("debian:12", 1), ("npm", 2)]);

    let database = Database::open(&path).unwrap();
    assert_eq!(database.metadata(), &metadata);
    assert!(database.has_namespace(&Namespace::distro("debian", "bookworm")));
    assert!(!database.has_namespace(&Namespace::distro("alpine", "3.18")));
}

fn kev_entry(cve: &str) -> KevEntry {
    KevEntry {
        cve: cve.to_owned(),
        vendor_project: "Example".to_owned(),
        product: "Widget".to_owned(),
        name: "Widget RCE".to_owned(),
        date_added: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap(),
        due_date: None,
        known_ransomware_campaign_use: "Unknown".to_owned(),
        required_action: "Apply updates.".to_owned(),
    }
}

fn epss_score(cve: &str, date: Option<NaiveDate>) -> EpssScore {
    EpssScore {
        cve: cve.to_owned(),
        score: 0.25,
        percentile: 0.75,
        date,
    }
}

#[test]
fn concurrent_readers_agree() {
    let dir = TempDir::new().unwrap();
    let advisories: Vec<Advisory> = (0..400)
        .map(|n| {
            advisory(
                &format!("CVE-2024-{n:05}"),
                "debian-tracker",
                &[("debian:12", &format!("package-{}", n % 50))],
            )
        })
        .collect();
    let database = build_advisories(&dir, advisories);
    let namespace = Namespace::distro("debian", "12");
    let expected: Vec<usize> = (0..50)
        .map(|n| {
            database
                .affected(&namespace, &format!("package-{n}"))
                .unwrap()
                .len()
        })
        .collect();

    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..6)
            .map(|_| {
                scope.spawn(|| {
                    let mut counts = Vec::new();
                    for n in 0..50 {
                        let found = database
                            .affected(&namespace, &format!("package-{n}"))
                            .unwrap();
                        assert!(database.advisories(&found[0].id).unwrap().len() == 1);
                        counts.push(found.len());
                    }
                    counts
                })
            })
            .collect();
        for handle in handles {
            assert_eq!(handle.join().unwrap(), expected);
        }
    });
}

#[test]
fn builder_rejects_existing_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("advisories.db");
    std::fs::write(&path, b"old database").unwrap();
    assert!(DatabaseBuilder::create(&path).is_err());
}

fn built_database(dir: &TempDir) -> PathBuf {
    let advisories = (0..300)
        .map(|n| advisory(&format!("CVE-2024-{n:05}"), "nvd", &[("npm", "pkg")]))
        .collect();
    let sink = CollectingSink {
        advisories,
        ..CollectingSink::default()
    };
    build(dir, sink).0
}

fn assert_next_step(error: &StoreError, path: &Path) {
    let message = error.to_string();
    assert!(message.contains(&path.display().to_string()), "{message}");
    assert!(
        message.contains("rampart db build --from PATH"),
        "{message}"
    );
    assert!(message.contains("rampart db update"), "{message}");
}

#[test]
fn open_missing_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("absent.db");
    let error = Database::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::Missing { .. }), "{error}");
    assert_next_step(&error, &path);
}

#[test]
fn open_random_bytes() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("random.db");
    let mut state = 0x9E37_79B9_7F4A_7C15_u64;
    let bytes: Vec<u8> = (0..20_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state as u8
        })
        .collect();
    std::fs::write(&path, bytes).unwrap();
    let error = Database::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error}");
    assert_next_step(&error, &path);
}

#[test]
fn open_empty_file() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("empty.db");
    std::fs::write(&path, b"").unwrap();
    let error = Database::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error}");
}

#[test]
fn open_other_sqlite_database() {
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("other.db");
    let connection = rusqlite::Connection::open(&path).unwrap();
    connection
        .execute_batch("CREATE TABLE packages (name TEXT); INSERT INTO packages VALUES ('zlib');")
        .unwrap();
    drop(connection);
    let error = Database::open(&path).unwrap_err();
    assert!(matches!(error, StoreError::NotADatabase { .. }), "{error}");
}

#[test]
fn open_truncated_file() {
    let dir = TempDir::new().unwrap();
    let path = built_database(&dir);
    let bytes = std::fs::read(&path).unwrap();
    let cut = dir.path().join("cut.db");
    for length in [
        50,
        100,
        4096,
        8192,
        bytes.len() / 2,
        bytes.len() - 8192,
        bytes.len() - 1,
    ] {
        std::fs::write(&cut, &bytes[..length]).unwrap();
        let error = Database::open(&cut).unwrap_err();
        assert!(
            matches!(error, StoreError::Corrupt { .. }),
            "cut at {length}: {error}"
        );
        assert_next_step(&error, &cut);
    }
}

#[test]
fn open_other_schema_version() {
    let dir = TempDir::new().unwrap();
    let path = built_database(&dir);
    rampart_advisory::store::testing::set_schema_version(&path, SCHEMA_VERSION + 1).unwrap();
    let error = Database::open(&path).unwrap_err();
    assert!(
        matches!(error, StoreError::SchemaVersion { found, expected, .. }
            if found == SCHEMA_VERSION + 1 && expected == SCHEMA_VERSION),
        "{error}"
    );
    assert_next_step(&error, &path);
}

#[test]
fn database_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Database>();
}

/// Corpus tier: the real feeds under `advisories/` of the corpus, built with
/// `rampart db build`'s code path.
#[test]
fn corpus_database_lookups() {
    let Some(corpus) = rampart_testkit::corpus_dir() else {
        return;
    };
    let dir = TempDir::new().unwrap();
    let path = dir.path().join("advisories.db");
    let input = rampart_advisory::build::FeedInput::local(&corpus.join("advisories"));
    let (metadata, _) = rampart_advisory::build::build_database(&path, &[input], None).unwrap();
    assert_eq!(metadata.kev_count, 1404);

    let database = Database::open(&path).unwrap();
    let go = database
        .affected(&Namespace::ecosystem("Go"), "github.com/coder/coder/v2")
        .unwrap();
    assert!(go.iter().any(|entry| entry.id == "GO-2024-3228"));
    let by_alias = database.advisories("GHSA-wcx9-ccpj-hx3c").unwrap();
    assert!(
        by_alias
            .iter()
            .any(|advisory| advisory.id == "GO-2024-3228")
    );
    assert!(database.kev("CVE-2021-44228").unwrap().is_some());
    assert!(database.has_namespace(&Namespace::ecosystem("PyPI")));
}
