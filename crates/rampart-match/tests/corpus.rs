//! Corpus tier: real images matched against real feeds.
//! - The two Debian bookworm images with the bookworm fix feed derived from
//!   Debian changelogs: the findings must equal the feed's expected table
//!   (computed with `dpkg --compare-versions`) row for row.
//! - The Alpine images with the Alpine secdb: the release is taken from the
//!   image, so Alpine 3.10 reads only `alpine:3.10` records.
//!
//! Runs when the corpus exists; with `RAMPART_REQUIRE_CORPUS=1` a missing
//! corpus fails.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use rampart_advisory::build::{FeedInput, build_database};
use rampart_advisory::store::Database;
use rampart_image::{Image, Limits, OpenOptions};
use rampart_inventory::Inventory;
use rampart_match::{Finding, match_inventory};
use rampart_testkit::corpus_dir;

fn inventory(image: &Path) -> Inventory {
    let reference = format!("oci-dir:{}", image.display());
    let image = Image::open(&reference, &OpenOptions::default()).unwrap();
    rampart_inventory::inventory_image(&image, Limits::default(), None).unwrap()
}

fn database(dir: &Path, feeds: &[PathBuf]) -> Database {
    let path = dir.join("rampart.db");
    let inputs: Vec<FeedInput> = feeds.iter().map(|feed| FeedInput::local(feed)).collect();
    build_database(&path, &inputs, None).unwrap();
    Database::open(&path).unwrap()
}

/// (binary, installed version, source, source version, CVE, fixed version).
type Row = (String, String, String, String, String, String);

fn expected_rows(tsv: &Path) -> BTreeSet<Row> {
    std::fs::read_to_string(tsv)
        .unwrap()
        .lines()
        .skip(1)
        .filter(|line| !line.trim().is_empty())
        .map(|line| {
            let fields: Vec<&str> = line.split('\t').collect();
            assert_eq!(fields.len(), 6, "{}: {line}", tsv.display());
            (
                fields[0].to_owned(),
                fields[1].to_owned(),
                fields[2].to_owned(),
                fields[3].to_owned(),
                fields[4].to_owned(),
                fields[5].to_owned(),
            )
        })
        .collect()
}

fn finding_rows(findings: &[Finding]) -> BTreeSet<Row> {
    findings
        .iter()
        .map(|finding| {
            let package = &finding.package;
            (
                package.name.clone(),
                package.version.clone(),
                package
                    .matched_name
                    .clone()
                    .unwrap_or_else(|| package.name.clone()),
                package
                    .matched_version
                    .clone()
                    .unwrap_or_else(|| package.version.clone()),
                finding.id.clone(),
                finding.fixed_version.clone().unwrap_or_default(),
            )
        })
        .collect()
}

fn check_debian_image(name: &str, expected_count: usize) {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let feed = corpus.join("advisories/debian-derived");
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path(), &[feed.join("bookworm-changelog-fixes.json")]);

    let inventory = inventory(&corpus.join("images").join(name));
    let outcome = match_inventory(&database, &inventory, chrono::Utc::now()).unwrap();
    assert_eq!(outcome.os_namespace.as_deref(), Some("debian:12"));
    assert!(outcome.warnings.is_empty(), "{:?}", outcome.warnings);

    let expected = expected_rows(&feed.join(format!("expected-{name}.tsv")));
    assert_eq!(expected.len(), expected_count);
    let found = finding_rows(&outcome.findings);
    let missing: Vec<_> = expected.difference(&found).collect();
    let extra: Vec<_> = found.difference(&expected).collect();
    assert!(missing.is_empty(), "{name}: missing findings {missing:#?}");
    assert!(extra.is_empty(), "{name}: false findings {extra:#?}");
    assert_eq!(outcome.findings.len(), expected_count);
}

#[test]
fn debian_standard_matches_expected() {
    check_debian_image("debian-standard-python", 157);
}

#[test]
fn debian_minimal_matches_expected() {
    check_debian_image("debian-minimal-python", 69);
}

#[test]
fn debian_findings_carry_urgency() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let feed = corpus.join("advisories/debian-derived/bookworm-changelog-fixes.json");
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path(), &[feed]);
    let inventory = inventory(&corpus.join("images/debian-minimal-python"));
    let outcome = match_inventory(&database, &inventory, chrono::Utc::now()).unwrap();
    let unknown = outcome
        .findings
        .iter()
        .filter(|finding| finding.severity == rampart_advisory::Rating::Unknown)
        .count();
    assert_eq!(unknown, 0, "every derived record has an urgency");
}

/// Alpine 3.10 scanned with a database holding v3.10 and v3.11 data reads
/// only v3.10: the minirootfs is a final point release, so nothing matches,
/// while the same packages would match v3.11's musl record.
#[test]
fn alpine_release_from_image() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let secdb = corpus.join("advisories/alpine-secdb");
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path(), &[secdb.join("v3.10"), secdb.join("v3.11")]);

    for image in ["alpine-3.10", "alpine-3.11"] {
        let inventory = inventory(&corpus.join("images").join(image));
        let outcome = match_inventory(&database, &inventory, chrono::Utc::now()).unwrap();
        let namespace = format!("alpine:{}", image.trim_start_matches("alpine-"));
        assert_eq!(outcome.os_namespace.as_deref(), Some(namespace.as_str()));
        assert!(
            outcome.findings.is_empty(),
            "{image}: {:#?}",
            outcome
                .findings
                .iter()
                .map(|f| (&f.package.name, &f.id))
                .collect::<Vec<_>>()
        );
        assert!(
            outcome.warnings.iter().any(|w| w.contains("end of life")),
            "{image}: {:?}",
            outcome.warnings
        );
    }
}

/// An Alpine release the database has no records for gives a warning.
#[test]
fn alpine_release_without_data_warns() {
    let Some(corpus) = corpus_dir() else {
        return;
    };
    let secdb = corpus.join("advisories/alpine-secdb");
    let dir = tempfile::tempdir().unwrap();
    let database = database(dir.path(), &[secdb.join("v3.10")]);
    let inventory = inventory(&corpus.join("images/alpine-3.20"));
    let outcome = match_inventory(&database, &inventory, chrono::Utc::now()).unwrap();
    assert!(
        outcome
            .warnings
            .iter()
            .any(|w| w.contains("no advisories for alpine:3.20")),
        "{:?}",
        outcome.warnings
    );
}
